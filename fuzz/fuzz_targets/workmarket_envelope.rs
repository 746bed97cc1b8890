//! WorkMarket's reply envelope decoder (`{meta, response}`, `{meta, results}`, errors inside
//! HTTP 200). Input: two bytes of HTTP status, a flags byte, then — when the flags ask for a
//! `Retry-After` or `X-Rate-Limit-Reset` header — its value up to a newline, then the body.
//!
//! Invariants, beyond "no panic":
//! - success only for a 2xx answer whose body is a JSON object, and the payload is its
//!   `response` (or `results`, or null);
//! - the HTTP status alone decides credentials: 401 is always `Unauthorized`, 403 `Forbidden`;
//! - a 429 or 5xx answer is retryable;
//! - an error about a body that is not JSON stays short, however big the body (messages end up
//!   in conditions and Events).
#![no_main]

use coverbridge::http::Response;
use coverbridge::workmarket::{WorkMarketError, decode_envelope};
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let [high, low, flags, rest @ ..] = data else { return };
    let Ok(status) = StatusCode::from_u16(100 + u16::from_be_bytes([*high, *low]) % 500) else { return };
    let mut headers = HeaderMap::new();
    let mut body = rest;
    if flags & 3 != 0 {
        let cut = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        if let Ok(value) = HeaderValue::from_bytes(&rest[..cut]) {
            let name = if flags & 1 != 0 { "retry-after" } else { "x-rate-limit-reset" };
            headers.insert(name, value);
        }
        body = rest.get(cut + 1..).unwrap_or_default();
    }
    let response = Response { status, headers, body: body.to_vec().into() };
    let decoded = decode_envelope(&response);
    let root = serde_json::from_slice::<serde_json::Map<String, Value>>(body).ok();

    match &decoded {
        Ok(payload) => {
            assert!(status.is_success(), "{status} decoded as a success");
            let root = root.expect("success means a JSON object");
            let expected = root.get("response").or_else(|| root.get("results")).cloned().unwrap_or(Value::Null);
            assert_eq!(*payload, expected);
        }
        Err(error) => {
            match status.as_u16() {
                401 => assert!(matches!(error, WorkMarketError::Unauthorized { .. }), "{error:?}"),
                403 => assert!(matches!(error, WorkMarketError::Forbidden { .. }), "{error:?}"),
                429 | 500.. => assert!(error.is_retryable(), "{status}: {error:?}"),
                _ => {}
            }
            if root.is_none() {
                assert!(error.to_string().len() <= 4096, "{} bytes", error.to_string().len());
            }
        }
    }
});
