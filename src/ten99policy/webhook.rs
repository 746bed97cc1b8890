//! Webhook signatures: `Ten99Policy-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, the
//! HMAC-SHA256 of `"{t}.{raw body}"` keyed with the whole `whsec_…` secret (its UTF-8 bytes, no
//! base64 decoding), in lowercase hex. This is the Stripe scheme the old Node SDK ported
//! (reference §5.3): signature first, then age; only too-old timestamps are refused.

use std::time::Duration;

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Ten99Policy-Signature";
/// Signatures older than this are refused unless configured otherwise.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = hmac::Hmac<Sha256>;

/// Why a webhook was refused. None of these carries the secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No `Ten99Policy-Signature` header.
    #[error("the Ten99Policy-Signature header is missing")]
    MissingHeader,
    /// The header is not `key=value` pairs, or `t` is not a number.
    #[error("the Ten99Policy-Signature header is malformed")]
    MalformedHeader,
    /// The header has no `t=` timestamp.
    #[error("the Ten99Policy-Signature header has no timestamp")]
    NoTimestamp,
    /// The header has no `v1=` signature.
    #[error("the Ten99Policy-Signature header has no v1 signature")]
    NoSignature,
    /// No `v1` signature matches the body and the secret.
    #[error("no signature matches the body")]
    BadSignature,
    /// The signature is valid but older than the tolerance (a replay, or a clock far off).
    #[error("the signature is {age_secs} s old, more than the {tolerance_secs} s allowed")]
    Stale {
        /// Age of the signature.
        age_secs: i64,
        /// The tolerance in force.
        tolerance_secs: u64,
    },
}

/// Checks webhook signatures with one secret.
#[derive(Clone, Debug)]
pub struct Verifier {
    secret: Secret,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier for `secret` with the default 300 s tolerance.
    pub fn new(secret: Secret) -> Self {
        Self { secret, tolerance: DEFAULT_TOLERANCE }
    }

    /// With another tolerance for the signature's age.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks `header` (the `Ten99Policy-Signature` value, if any) against the raw `body`, now.
    pub fn verify(&self, header: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
        self.verify_at(header, body, jiff::Timestamp::now().as_second())
    }

    /// [`Verifier::verify`] at the given time (seconds since the epoch).
    pub fn verify_at(&self, header: Option<&str>, body: &[u8], now: i64) -> Result<(), WebhookError> {
        let header = header.ok_or(WebhookError::MissingHeader)?;
        let parsed = parse_header(header)?;
        let mac = keyed(&self.secret, parsed.timestamp, body);
        let matches = parsed.signatures.iter().any(|candidate| {
            // Malformed hex cannot match; `verify_slice` compares in constant time.
            hex::decode(candidate).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
        });
        if !matches {
            return Err(WebhookError::BadSignature);
        }
        let age = now.saturating_sub(parsed.timestamp);
        let tolerance = self.tolerance.as_secs();
        if age > 0 && age.unsigned_abs() > tolerance {
            return Err(WebhookError::Stale { age_secs: age, tolerance_secs: tolerance });
        }
        Ok(())
    }
}

/// The `Ten99Policy-Signature` value for `body` signed at `timestamp` (seconds since the
/// epoch), as 1099Policy sends it (tests sign with it; the sandbox signs with its own code).
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// The lowercase hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn signature(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    hex::encode(keyed(secret, timestamp, body).finalize().into_bytes())
}

fn keyed(secret: &Secret, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

struct ParsedHeader {
    timestamp: i64,
    signatures: Vec<String>,
}

fn parse_header(header: &str) -> Result<ParsedHeader, WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item.trim().split_once('=').ok_or(WebhookError::MalformedHeader)?;
        match key.trim() {
            "t" => {
                let t = value.trim().parse::<i64>();
                timestamp = Some(t.map_err(|_| WebhookError::MalformedHeader)?);
            }
            "v1" => signatures.push(value.trim().to_owned()),
            // Other schemes (v0, …) are ignored, as in the original implementation.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::NoTimestamp)?;
    if signatures.is_empty() {
        return Err(WebhookError::NoSignature);
    }
    Ok(ParsedHeader { timestamp, signatures })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_706_745_620;
    const BODY: &[u8] = br#"{"id":"ev_1","type":"policy.active","created":1706745620,"data":{}}"#;

    fn secret() -> Secret {
        Secret::new("whsec_test123")
    }

    fn hmac_hex(key: &str, message: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
        mac.update(message);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn reference_hmac_vectors() {
        assert_eq!(hmac_hex("test_secret", b""), "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd");
        assert_eq!(
            hmac_hex("test_secret", "😀".as_bytes()),
            "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43"
        );
    }

    #[test]
    fn signs_t_dot_body_with_the_whole_secret() {
        let header = sign(&secret(), NOW, BODY);
        let mut message = format!("{NOW}.").into_bytes();
        message.extend_from_slice(BODY);
        assert_eq!(header, format!("t={NOW},v1={}", hmac_hex("whsec_test123", &message)));
        assert_eq!(Verifier::new(secret()).verify_at(Some(&header), BODY, NOW), Ok(()));
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_and_other_schemes_are_ignored() {
        let good = signature(&secret(), NOW, BODY);
        let header = format!("t={NOW},v0=abc, v1={},v1={good}", "0".repeat(64));
        assert_eq!(Verifier::new(secret()).verify_at(Some(&header), BODY, NOW), Ok(()));
        let rotated = Verifier::new(Secret::new("whsec_old"));
        assert_eq!(rotated.verify_at(Some(&header), BODY, NOW), Err(WebhookError::BadSignature));
    }

    #[test]
    fn tampering_is_a_bad_signature() {
        let verifier = Verifier::new(secret());
        let header = sign(&secret(), NOW, BODY);
        let tampered_body = BODY.to_vec().into_iter().map(|b| if b == b'1' { b'2' } else { b }).collect::<Vec<_>>();
        assert_eq!(verifier.verify_at(Some(&header), &tampered_body, NOW), Err(WebhookError::BadSignature));
        // Moving the timestamp invalidates the signature too (it is signed).
        let moved = header.replacen(&format!("t={NOW}"), &format!("t={}", NOW + 1), 1);
        assert_eq!(verifier.verify_at(Some(&moved), BODY, NOW), Err(WebhookError::BadSignature));
        let not_hex = format!("t={NOW},v1=zz");
        assert_eq!(verifier.verify_at(Some(&not_hex), BODY, NOW), Err(WebhookError::BadSignature));
    }

    #[test]
    fn old_signatures_are_stale_but_future_ones_pass() {
        let verifier = Verifier::new(secret());
        let header = sign(&secret(), NOW, BODY);
        assert_eq!(verifier.verify_at(Some(&header), BODY, NOW + 300), Ok(()));
        assert_eq!(
            verifier.verify_at(Some(&header), BODY, NOW + 301),
            Err(WebhookError::Stale { age_secs: 301, tolerance_secs: 300 })
        );
        assert_eq!(verifier.verify_at(Some(&header), BODY, NOW - 3600), Ok(()), "future timestamps pass");
        let lenient = Verifier::new(secret()).with_tolerance(Duration::from_secs(3600));
        assert_eq!(lenient.verify_at(Some(&header), BODY, NOW + 3000), Ok(()));
        // Signature before time: a stale forgery is reported as a bad signature.
        let forged = format!("t={NOW},v1={}", "ab".repeat(32));
        assert_eq!(verifier.verify_at(Some(&forged), BODY, NOW + 10_000), Err(WebhookError::BadSignature));
    }

    #[test]
    fn the_current_clock_is_used_by_default() {
        let now = jiff::Timestamp::now().as_second();
        let verifier = Verifier::new(secret());
        assert_eq!(verifier.verify(Some(&sign(&secret(), now, BODY)), BODY), Ok(()));
        assert!(matches!(
            verifier.verify(Some(&sign(&secret(), now - 3600, BODY)), BODY),
            Err(WebhookError::Stale { .. })
        ));
    }

    #[test]
    fn each_header_problem_has_its_own_error() {
        let verifier = Verifier::new(secret());
        let good = signature(&secret(), NOW, BODY);
        for (header, expected) in [
            (None, WebhookError::MissingHeader),
            (Some(String::new()), WebhookError::MalformedHeader),
            (Some("garbage".to_owned()), WebhookError::MalformedHeader),
            (Some(format!("t=soon,v1={good}")), WebhookError::MalformedHeader),
            (Some(format!("v1={good}")), WebhookError::NoTimestamp),
            (Some(format!("t={NOW}")), WebhookError::NoSignature),
            (Some(format!("t={NOW},v0={good}")), WebhookError::NoSignature),
        ] {
            assert_eq!(verifier.verify_at(header.as_deref(), BODY, NOW), Err(expected.clone()), "{header:?}");
        }
    }

    #[test]
    fn errors_never_reveal_the_secret_or_the_expected_signature() {
        let verifier = Verifier::new(secret());
        let expected = signature(&secret(), NOW, BODY);
        let error = verifier.verify_at(Some(&format!("t={NOW},v1=00")), BODY, NOW).unwrap_err();
        let shown = format!("{error} {error:?} {verifier:?}");
        assert!(!shown.contains("whsec_test123") && !shown.contains(&expected), "{shown}");
    }
}
