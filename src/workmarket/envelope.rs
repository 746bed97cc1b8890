//! WorkMarket's reply envelopes, and when a reply is an error.
//!
//! v1 handlers answer `{"meta": {...}, "response": ...}`; errors thrown outside them (auth, rate
//! limit, bad parameters) answer the v2 shape `{"meta": {"message", "status_code", ...},
//! "results": [...]}`. Many v1 handlers report errors *inside an HTTP 200* through
//! `meta.status_code` and `meta.errors`, so the HTTP status alone proves nothing. The rule
//! (reference §3.2): a reply is an error when HTTP ≥ 400, or `meta.status_code` ≠ 200, or
//! `meta.errors` is non-empty, or `response.successful` is false.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Map, Value};

use super::WorkMarketError;
use crate::http::Response;

/// A successful reply: the `response` (v1) or `results` (v2) part, and the server's clock.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// The payload; `Null` when the envelope had none.
    pub body: Value,
    /// `meta.timestamp`: the server's request start, in Unix seconds.
    pub timestamp: Option<i64>,
}

/// Longest piece of a non-JSON body quoted in an error message (proxies answer HTML pages).
const QUOTE_LIMIT: usize = 200;

/// Decodes a final HTTP answer into its payload or a typed error.
pub(crate) fn decode(response: &Response) -> Result<Reply, WorkMarketError> {
    let http = response.status;
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(&response.body).ok();
    let Some(root) = parsed else {
        if http.is_success() {
            return Err(WorkMarketError::invalid("body", format!("not a JSON object: {}", quote(&response.body))));
        }
        return Err(failure(http, http.as_u16(), quote(&response.body), response));
    };
    let empty = Map::new();
    let meta = root.get("meta").and_then(Value::as_object).unwrap_or(&empty);
    let body = root.get("response").or_else(|| root.get("results")).cloned().unwrap_or(Value::Null);

    let meta_code = ["status_code", "statusCode", "code"]
        .iter()
        .find_map(|key| meta.get(*key).and_then(as_integer))
        .and_then(|code| u16::try_from(code).ok());
    let errors = error_messages(meta);
    let unsuccessful = body.get("successful").and_then(Value::as_bool) == Some(false);

    let code = if !http.is_success() {
        http.as_u16()
    } else {
        // A meta that lists errors without a code means 422 in WorkMarket's own builder.
        match meta_code {
            Some(code) if code != 200 => code,
            _ if !errors.is_empty() => 422,
            _ => 200,
        }
    };
    if code == 200 && http.is_success() && errors.is_empty() && !unsuccessful {
        let timestamp = meta.get("timestamp").and_then(as_integer);
        return Ok(Reply { body, timestamp });
    }
    let message = if !errors.is_empty() {
        errors.join("; ")
    } else if let Some(message) = meta.get("message").and_then(Value::as_str) {
        message.to_owned()
    } else if unsuccessful {
        "WorkMarket reported the action as not successful".to_owned()
    } else {
        "no error message".to_owned()
    };
    Err(failure(http, code, message, response))
}

/// Decodes a final WorkMarket answer as the client does: the payload (`response` or `results`,
/// `Null` when absent), or the typed error. Public so fuzz targets can reach the decoder; the
/// client itself keeps using [`decode`], which also returns the server's clock.
pub fn decode_envelope(response: &Response) -> Result<Value, WorkMarketError> {
    decode(response).map(|reply| reply.body)
}

/// The typed error for a failed reply: by HTTP status first, then by the code WorkMarket
/// reported. A 401 or 403 *inside* an HTTP 200 is a logical refusal (such as "not authorized to
/// modify assignment"), not a credential problem, so only the HTTP status decides those.
fn failure(http: StatusCode, code: u16, message: String, response: &Response) -> WorkMarketError {
    match http.as_u16() {
        401 => WorkMarketError::Unauthorized { message },
        403 => WorkMarketError::Forbidden { message },
        _ if code == 429 => WorkMarketError::RateLimited { retry_after: rate_limit_wait(response), message },
        _ if code >= 500 => WorkMarketError::Server { code, message },
        status => WorkMarketError::Rejected { http_status: status, code, message },
    }
}

/// `Retry-After`, or WorkMarket's own `X-Rate-Limit-Reset` (seconds until the window resets).
fn rate_limit_wait(response: &Response) -> Option<Duration> {
    response.retry_after().or_else(|| {
        let reset = response.headers.get("x-rate-limit-reset")?.to_str().ok()?;
        reset.trim().parse().ok().map(Duration::from_secs)
    })
}

/// `meta.errors` as messages: WorkMarket sends plain strings from some code paths and
/// `{"message", "code"}` objects from others.
fn error_messages(meta: &Map<String, Value>) -> Vec<String> {
    let Some(errors) = meta.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    errors
        .iter()
        .filter_map(|error| match error {
            Value::String(message) => Some(message.clone()),
            Value::Object(fields) => {
                let message = fields.get("message").and_then(Value::as_str);
                let code = fields.get("code").and_then(|c| match c {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
                match (message, code) {
                    (Some(message), Some(code)) => Some(format!("{message} (code {code})")),
                    (Some(message), None) => Some(message.to_owned()),
                    (None, Some(code)) => Some(format!("error code {code}")),
                    (None, None) => Some(Value::Object(fields.clone()).to_string()),
                }
            }
            Value::Null => None,
            other => Some(other.to_string()),
        })
        .filter(|message| !message.is_empty())
        .collect()
}

/// An integer given as a JSON number or a numeric string.
fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "empty body".to_owned();
    }
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    use super::*;

    fn reply(status: u16, body: Value) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_string().into(),
        }
    }

    fn meta(status_code: u16, errors: Value) -> Value {
        json!({"errors": errors, "status_code": status_code, "version": 1,
               "requestId": "r1", "execution_time": 0.01, "timestamp": 1764000000})
    }

    #[test]
    fn a_clean_v1_reply_yields_its_response_and_timestamp() {
        let r = reply(200, json!({"meta": meta(200, json!([])), "response": {"id": "1"}}));
        assert_eq!(decode(&r).unwrap(), Reply { body: json!({"id": "1"}), timestamp: Some(1764000000) });
    }

    #[test]
    fn an_error_inside_http_200_is_an_error() {
        let r = reply(
            200,
            json!({"meta": meta(401, json!(["User not authorized to modify assignment 9."])), "response": []}),
        );
        match decode(&r).unwrap_err() {
            WorkMarketError::Rejected { http_status: 200, code: 401, message } => {
                assert_eq!(message, "User not authorized to modify assignment 9.")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_without_a_code_are_an_error() {
        let r = reply(
            200,
            json!({"meta": meta(200, json!([{"message": "Bad date", "code": "1"}, "Also this"])), "response": {}}),
        );
        match decode(&r).unwrap_err() {
            WorkMarketError::Rejected { code, message, .. } => {
                assert_eq!(code, 422);
                assert_eq!(message, "Bad date (code 1); Also this");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unsuccessful_actions_are_errors() {
        let r = reply(200, json!({"meta": meta(200, json!([])), "response": {"successful": false}}));
        let error = decode(&r).unwrap_err();
        assert!(matches!(error, WorkMarketError::Rejected { code: 200, .. }), "{error:?}");
        assert!(!error.is_retryable());
    }

    #[test]
    fn the_v2_envelope_decodes_both_ways() {
        let ok = reply(200, json!({"meta": {"status_code": 200, "timestamp": 5}, "results": [1]}));
        assert_eq!(decode(&ok).unwrap().body, json!([1]));
        let limited = reply(
            429,
            json!({"meta": {"message": "Rate limit reached", "status_code": 429, "code": 429, "statusCode": 429}, "results": []}),
        );
        match decode(&limited).unwrap_err() {
            WorkMarketError::RateLimited { message, .. } => {
                assert_eq!(message, "Rate limit reached")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn http_status_decides_credentials_and_retries() {
        let v2 = |code: u16| reply(code, json!({"meta": {"message": "m", "status_code": code}, "results": []}));
        assert!(matches!(decode(&v2(401)).unwrap_err(), WorkMarketError::Unauthorized { .. }));
        assert!(matches!(decode(&v2(403)).unwrap_err(), WorkMarketError::Forbidden { .. }));
        assert!(decode(&v2(503)).unwrap_err().is_retryable());
        assert!(matches!(decode(&v2(400)).unwrap_err(), WorkMarketError::Rejected { http_status: 400, code: 400, .. }));
    }

    #[test]
    fn rate_limit_reset_header_is_the_wait() {
        let mut r = reply(429, json!({"meta": {"message": "Rate limit reached"}}));
        r.headers.insert("x-rate-limit-reset", HeaderValue::from_static("120"));
        assert_eq!(decode(&r).unwrap_err().retry_after(), Some(Duration::from_secs(120)));
    }

    #[test]
    fn the_public_entry_point_decodes_as_the_client_does() {
        let ok = reply(200, json!({"meta": meta(200, json!([])), "response": {"id": "1"}}));
        assert_eq!(decode_envelope(&ok).unwrap(), json!({"id": "1"}));
        let inside_200 = reply(200, json!({"meta": meta(500, json!(["Database down"])), "response": []}));
        assert!(matches!(decode_envelope(&inside_200).unwrap_err(), WorkMarketError::Server { code: 500, .. }));
        let no_payload = reply(200, json!({"meta": meta(200, json!([]))}));
        assert_eq!(decode_envelope(&no_payload).unwrap(), Value::Null);
    }

    #[test]
    fn non_json_bodies_are_quoted_briefly() {
        let html = Response {
            status: StatusCode::BAD_GATEWAY,
            headers: HeaderMap::new(),
            body: format!("<html>{}</html>", "x".repeat(1000)).into(),
        };
        let error = decode(&html).unwrap_err();
        assert!(error.is_retryable());
        assert!(error.to_string().len() < 300, "{error}");
        let garbage = Response { status: StatusCode::OK, headers: HeaderMap::new(), body: "not json".into() };
        assert!(matches!(decode(&garbage).unwrap_err(), WorkMarketError::Invalid { .. }));
    }
}
