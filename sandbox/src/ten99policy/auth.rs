//! API-key authentication, in every form the docs show: `Bearer <key>`, HTTP Basic with the key
//! as user name (`curl -u key:`), `Basic <key>` unencoded, and the bare key.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::Ten99PolicySandbox;
use super::error::ApiError;

pub(crate) async fn require_key(State(sandbox): State<Ten99PolicySandbox>, request: Request, next: Next) -> Response {
    let presented = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(presented_key);
    if presented.as_deref() == Some(sandbox.api_key()) {
        return next.run(request).await;
    }
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_api_key", "Invalid API key provided").into_response()
}

/// The key an `Authorization` value carries.
fn presented_key(header: &str) -> Option<String> {
    let header = header.trim();
    if header.eq_ignore_ascii_case("bearer") || header.eq_ignore_ascii_case("basic") {
        return None;
    }
    let (scheme, rest) = header.split_once(' ').unwrap_or(("", header));
    let rest = rest.trim();
    let key = if scheme.eq_ignore_ascii_case("bearer") {
        rest.to_owned()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded =
            base64::engine::general_purpose::STANDARD.decode(rest).ok().and_then(|bytes| String::from_utf8(bytes).ok());
        match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((user, _password)) => user.to_owned(),
            None => rest.to_owned(),
        }
    } else {
        header.to_owned()
    };
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_yields_the_key() {
        let basic = base64::engine::general_purpose::STANDARD.encode("t9k_test_abc:");
        for header in [
            "Bearer t9k_test_abc".to_owned(),
            "bearer  t9k_test_abc".to_owned(),
            format!("Basic {basic}"),
            "Basic t9k_test_abc".to_owned(),
            "t9k_test_abc".to_owned(),
        ] {
            assert_eq!(presented_key(&header).as_deref(), Some("t9k_test_abc"), "{header}");
        }
        assert_eq!(presented_key("Bearer "), None);
    }
}
