//! The shared token WorkMarket webhooks carry. WorkMarket signs nothing, so the user puts a
//! token into the webhook: as a custom header (`Authorization: Bearer <token>` or
//! `X-Coverbridge-Token: <token>`), or as the password of `https://user:<token>@host/…`, which
//! WorkMarket sends as basic auth.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use subtle::{Choice, ConstantTimeEq};

use crate::secret::Secret;

/// The custom header that may carry the token.
pub const TOKEN_HEADER: &str = "x-coverbridge-token";

/// Why a delivery was not authenticated. For logs and metrics only: the caller gets a bare 401,
/// and nothing here holds what was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No token in any accepted place.
    #[error("no webhook token presented")]
    Missing,
    /// An `Authorization` scheme other than Bearer or Basic.
    #[error("unsupported Authorization scheme")]
    UnsupportedScheme,
    /// Basic credentials that are not base64 of `user:password`, or a header that is not text.
    #[error("malformed credentials")]
    Malformed,
    /// A token was presented and is not the configured one.
    #[error("wrong webhook token")]
    WrongToken,
}

impl AuthFailure {
    /// A stable label for metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing_token",
            Self::UnsupportedScheme => "unsupported_scheme",
            Self::Malformed => "malformed_credentials",
            Self::WrongToken => "wrong_token",
        }
    }
}

/// Checks that the request carries `token` as a Bearer token, in `X-Coverbridge-Token`, or as
/// the basic-auth password. Every presented token is compared in constant time (only its
/// length can leak, which the token's strength does not rest on).
pub fn authenticate(headers: &HeaderMap, token: &Secret) -> Result<(), AuthFailure> {
    let mut presented: Vec<String> = Vec::new();
    let mut problem = None;
    for value in headers.get_all(TOKEN_HEADER) {
        match value.to_str() {
            Ok(text) => presented.push(text.trim().to_owned()),
            Err(_) => problem = Some(AuthFailure::Malformed),
        }
    }
    for value in headers.get_all(AUTHORIZATION) {
        match value.to_str().map_err(|_| AuthFailure::Malformed).and_then(credential) {
            Ok(candidate) => presented.push(candidate),
            Err(failure) => problem = problem.or(Some(failure)),
        }
    }
    presented.retain(|candidate| !candidate.is_empty());
    let expected = token.expose().as_bytes();
    if presented.is_empty() {
        return Err(problem.unwrap_or(AuthFailure::Missing));
    }
    // Compare every candidate, without stopping at the first match.
    let matched = presented.iter().fold(Choice::from(0), |any, candidate| any | candidate.as_bytes().ct_eq(expected));
    if bool::from(matched) && !expected.is_empty() { Ok(()) } else { Err(AuthFailure::WrongToken) }
}

/// The token an `Authorization` value carries: the Bearer token or the Basic password.
fn credential(value: &str) -> Result<String, AuthFailure> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(rest.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).map_err(|_| AuthFailure::Malformed)?;
        let text = String::from_utf8(decoded).map_err(|_| AuthFailure::Malformed)?;
        let (_user, password) = text.split_once(':').ok_or(AuthFailure::Malformed)?;
        Ok(password.to_owned())
    } else {
        Err(AuthFailure::UnsupportedScheme)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const TOKEN: &str = "whtok_9f8e7d6c5b4a";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn check(pairs: &[(&'static str, &str)]) -> Result<(), AuthFailure> {
        authenticate(&headers(pairs), &Secret::new(TOKEN))
    }

    fn basic(user_pass: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass))
    }

    #[test]
    fn accepts_each_form() {
        assert_eq!(check(&[("authorization", &format!("Bearer {TOKEN}"))]), Ok(()));
        assert_eq!(check(&[("authorization", &format!("bearer  {TOKEN} "))]), Ok(()));
        assert_eq!(check(&[("x-coverbridge-token", TOKEN)]), Ok(()));
        assert_eq!(check(&[("authorization", &basic(&format!("wm:{TOKEN}")))]), Ok(()));
        assert_eq!(check(&[("authorization", &basic(&format!(":{TOKEN}")))]), Ok(()));
    }

    #[test]
    fn rejects_each_failure_with_its_own_reason() {
        assert_eq!(check(&[]), Err(AuthFailure::Missing));
        assert_eq!(check(&[("authorization", "Bearer ")]), Err(AuthFailure::Missing));
        assert_eq!(check(&[("authorization", "Bearer wrong")]), Err(AuthFailure::WrongToken));
        assert_eq!(check(&[("x-coverbridge-token", &format!("{TOKEN}x"))]), Err(AuthFailure::WrongToken));
        assert_eq!(
            check(&[("authorization", &basic(&format!("{TOKEN}:nope")))]),
            Err(AuthFailure::WrongToken),
            "the user name is not the password"
        );
        assert_eq!(check(&[("authorization", &format!("Token {TOKEN}"))]), Err(AuthFailure::UnsupportedScheme));
        assert_eq!(check(&[("authorization", "Basic !!!not-base64")]), Err(AuthFailure::Malformed));
        assert_eq!(check(&[("authorization", &basic("no-colon"))]), Err(AuthFailure::Malformed));
        let reasons: std::collections::HashSet<_> =
            [AuthFailure::Missing, AuthFailure::UnsupportedScheme, AuthFailure::Malformed, AuthFailure::WrongToken]
                .map(AuthFailure::reason)
                .into_iter()
                .collect();
        assert_eq!(reasons.len(), 4);
    }

    #[test]
    fn a_right_token_anywhere_is_enough() {
        assert_eq!(check(&[("authorization", "Token other"), ("x-coverbridge-token", TOKEN)]), Ok(()));
    }

    #[test]
    fn an_empty_configured_token_accepts_nothing() {
        let map = headers(&[("authorization", "Bearer x")]);
        assert_eq!(authenticate(&map, &Secret::new("")), Err(AuthFailure::WrongToken));
    }

    #[test]
    fn failures_never_show_the_token() {
        for failure in [AuthFailure::WrongToken, AuthFailure::Malformed] {
            assert!(!format!("{failure:?} {failure}").contains(TOKEN));
        }
    }
}
