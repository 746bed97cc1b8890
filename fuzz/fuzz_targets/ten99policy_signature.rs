//! The 1099Policy webhook verifier. Input: the `Ten99Policy-Signature` header, a newline, then
//! the raw body (a header cannot hold a newline, so the split is unambiguous).
//!
//! Invariants, beyond "no panic":
//! - a header that verifies under the secret does not verify under any other secret;
//! - what `sign` produces for this body verifies, stays verified when junk `v0`/`v1` items are
//!   added, and goes stale exactly past the tolerance;
//! - changing one bit of the body breaks the signature.
#![no_main]

use coverbridge::secret::Secret;
use coverbridge::ten99policy::webhook::{self, Verifier, WebhookError};
use libfuzzer_sys::fuzz_target;

/// The reference's HMAC test key (its vectors are in the seed corpus).
const SECRET: &str = "test_secret";
/// A fixed clock, so runs are reproducible.
const NOW: i64 = 1_706_745_620;
const TOLERANCE: i64 = 300;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(cut) => (&data[..cut], &data[cut + 1..]),
        None => (data, &[][..]),
    };
    let header = std::str::from_utf8(header).ok();
    let secret = Secret::new(SECRET);
    let verifier = Verifier::new(secret.clone());

    if verifier.verify_at(header, body, NOW).is_ok() {
        let other = Verifier::new(Secret::new("whsec_someone_else"));
        assert_eq!(other.verify_at(header, body, NOW), Err(WebhookError::BadSignature), "{header:?}");
    }

    // A genuine signature from a moment derived from the input, at most ~1000 s in the past.
    let age = i64::from(body.first().copied().unwrap_or(0)) * 4;
    let signed_at = NOW - age;
    let genuine = webhook::sign(&secret, signed_at, body);
    let expected = if age > TOLERANCE {
        Err(WebhookError::Stale { age_secs: age, tolerance_secs: TOLERANCE as u64 })
    } else {
        Ok(())
    };
    assert_eq!(verifier.verify_at(Some(&genuine), body, NOW), expected);
    assert_eq!(verifier.verify_at(Some(&genuine), body, signed_at), Ok(()));

    // Extra signatures (rotation) and other schemes never hide the genuine one.
    let with_junk = format!("{genuine},v0=00,v1={}", "ab".repeat(32));
    assert_eq!(verifier.verify_at(Some(&with_junk), body, signed_at), Ok(()));

    if !body.is_empty() {
        let mut tampered = body.to_vec();
        let at = usize::from(body[body.len() - 1]) % tampered.len();
        tampered[at] ^= 1;
        assert_eq!(verifier.verify_at(Some(&genuine), &tampered, signed_at), Err(WebhookError::BadSignature));
    }
});
