//! The sandbox's error answers: `{error_code, message}` with the real service's codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Marks an answer the idempotency layer must not store: the request never "started
/// executing" (malformed JSON, parameters of the wrong shape), so a retry with the same key is
/// processed afresh (reference §4).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NotStored;

/// An error answer of the sandbox, also returned by its in-process control methods.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error_code`.
    pub code: String,
    /// `message`.
    pub message: String,
    /// Whether idempotent replay stores this answer.
    pub(crate) stored: bool,
}

impl ApiError {
    /// An error that idempotent replay stores (the request was processed and refused).
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into(), stored: true }
    }

    /// 400 with `code`.
    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 `invalid_input` for a parameter of the wrong shape; not stored for replay.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { stored: false, ..Self::bad("invalid_input", message) }
    }

    /// 404 `resource_not_found` for `what` `id`.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "resource_not_found", format!("No such {what}: {id}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error_code": self.code, "message": self.message}));
        let mut response = (self.status, body).into_response();
        if !self.stored {
            response.extensions_mut().insert(NotStored);
        }
        response
    }
}

/// How injected faults answer ([`crate::harness::ErrorBody`]).
pub(crate) fn injected(status: StatusCode) -> Response {
    let (code, message) = match status.as_u16() {
        429 => ("rate_limited", "Too many requests; slow down"),
        401 => ("invalid_api_key", "Invalid API key provided"),
        403 => ("insufficient_permissions", "This key may not do that"),
        404 => ("resource_not_found", "Resource not found"),
        400..=499 => ("bad_request", "Bad request"),
        _ => ("general_error", "Something went wrong on our end"),
    };
    ApiError::new(status, code, message).into_response()
}
