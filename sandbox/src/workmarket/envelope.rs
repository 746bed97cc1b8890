//! WorkMarket's reply envelopes: v1 `{meta, response}` from the API handlers (errors often
//! inside an HTTP 200), and v2 `{meta: {message, …}, results}` for errors thrown outside them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

fn request_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// A successful v1 reply.
pub(crate) fn ok(now: Timestamp, response: Value) -> Response {
    let meta = json!({
        "errors": [],
        "status_code": 200,
        "version": 1,
        "requestId": request_id(),
        "execution_time": 0.012,
        "timestamp": now.as_second(),
    });
    Json(json!({"meta": meta, "response": response})).into_response()
}

/// A v1 error: `meta.status_code` `code` and `meta.errors` [message], sent with HTTP `http`
/// (200 for the many handlers that return their errors). Errors are strings, or `{message,
/// code}` objects as WorkMarket's other code path writes them.
pub(crate) fn v1_error(now: Timestamp, http: StatusCode, code: u16, message: &str, as_objects: bool) -> Response {
    let error = if as_objects { json!({"message": message, "code": code.to_string()}) } else { json!(message) };
    let meta = json!({
        "errors": [error],
        "status_code": code,
        "version": 1,
        "requestId": request_id(),
        "execution_time": 0.004,
        "timestamp": now.as_second(),
    });
    (http, Json(json!({"meta": meta, "response": []}))).into_response()
}

/// A v2 error envelope; the HTTP status equals the code.
pub(crate) fn v2_error(now: Timestamp, status: StatusCode, message: &str) -> Response {
    let code = status.as_u16();
    let meta = json!({
        "message": message,
        "status_code": code,
        "code": code,
        "statusCode": code,
        "requestId": request_id(),
        "timestamp": now.as_second(),
    });
    (status, Json(json!({"meta": meta, "results": []}))).into_response()
}

/// The harness's injected errors, as WorkMarket's v2 handler renders them.
pub(crate) fn error_body(status: StatusCode) -> Response {
    let message = match status.as_u16() {
        429 => "Rate limit reached",
        401 => "Not authorized to perform this request.",
        403 => "Your token is not authorized to perform this request",
        _ if status.is_server_error() => "An error has occurred. If you report a bug, please include the requestId.",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let mut response = v2_error(Timestamp::now(), status, message);
    if status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert("x-rate-limit-limit", HeaderValue::from_static("1000000"));
    }
    response
}
