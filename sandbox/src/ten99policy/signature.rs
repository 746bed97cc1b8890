//! How the sandbox signs its webhooks (reference §5.3, the Stripe-style scheme of the Node SDK's
//! `lib/Webhooks.js`): header `Ten99Policy-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>`
//! is the lowercase hex HMAC-SHA256 of `"<t>.<raw body>"` keyed with the whole `whsec_…`
//! secret as UTF-8 (no prefix stripping, no base64).

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// The header the signature travels in.
pub const SIGNATURE_HEADER: &str = "Ten99Policy-Signature";

type HmacSha256 = hmac::Hmac<Sha256>;

/// The header value for `body` sent at `timestamp`.
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    format!("t={timestamp},v1={}", hmac_hex(secret.expose().as_bytes(), &message))
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_reference_vectors() {
        // Reference §5.3 (the Node SDK's CryptoProvider tests): key `test_secret`.
        assert_eq!(hmac_hex(b"test_secret", b""), "f7f9bd47fb987337b5796fdc1fdb9ba221d0d5396814bfcaf9521f43fd8927fd");
        assert_eq!(
            hmac_hex(b"test_secret", "😀".as_bytes()),
            "837da296d05c4fe31f61d5d7ead035099d9585a5bcde87de952012a78f0b0c43"
        );
    }

    #[test]
    fn the_header_signs_timestamp_dot_body_with_the_whole_secret() {
        let secret = Secret::new("whsec_abc");
        let header = sign(&secret, 1_706_745_620, br#"{"id":"ev_1"}"#);
        let expected = hmac_hex(b"whsec_abc", br#"1706745620.{"id":"ev_1"}"#);
        assert_eq!(header, format!("t=1706745620,v1={expected}"));
        assert_eq!(expected.len(), 64);
        assert!(expected.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
}
