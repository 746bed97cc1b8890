//! Idempotency keys: chosen by the caller, deterministic, sent with every POST.

use std::fmt;

/// Header the API documents for idempotency keys.
pub const IDEMPOTENT_KEY_HEADER: &str = "Ten99Policy-Idempotent-Key";
/// Header the integration guide (and older SDKs) use; sent too, with the same value.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The key under which 1099Policy stores the first answer to a POST for 24 hours and replays
/// it to every retry. The caller derives it from what the request means (binding, step, terms),
/// never from randomness, so a crash-and-retry cannot create a second object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key from its parts, joined with `:` (e.g. `["binding", uid, "quote", "1"]`).
    pub fn from_parts<I, S>(parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = parts.into_iter().map(|p| p.as_ref().to_owned()).collect::<Vec<_>>().join(":");
        Self::new(joined)
    }

    /// A key as given. Header values must be visible ASCII, so anything else (and `%`) is
    /// percent-encoded: distinct inputs always stay distinct keys.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let mut encoded = String::with_capacity(key.len());
        for c in key.chars() {
            if c.is_ascii_graphic() && c != '%' {
                encoded.push(c);
            } else {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    encoded.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        Self(encoded)
    }

    /// The same key with an attempt suffix, for a deliberate new attempt after the first one's
    /// stored answer is known to be useless (DESIGN §2).
    pub fn attempt(&self, attempt: u32) -> Self {
        if attempt == 0 { self.clone() } else { Self(format!("{}:attempt-{attempt}", self.0)) }
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_header_safe() {
        let key = IdempotencyKey::from_parts(["binding", "3f2a", "quote", "général ok"]);
        assert_eq!(key.as_str(), "binding:3f2a:quote:g%C3%A9n%C3%A9ral%20ok");
        assert_eq!(key, IdempotencyKey::from_parts(["binding", "3f2a", "quote", "général ok"]));
        assert_eq!(IdempotencyKey::new("workmarket-worker-8823580").to_string(), "workmarket-worker-8823580");
    }

    #[test]
    fn distinct_inputs_stay_distinct() {
        let keys = ["é", "ü", "_", "%C3%A9", " ", "%20"].map(IdempotencyKey::new);
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "{keys:?}");
    }

    #[test]
    fn attempts_extend_the_key() {
        let key = IdempotencyKey::new("k");
        assert_eq!(key.attempt(0), key);
        assert_eq!(key.attempt(2).as_str(), "k:attempt-2");
    }
}
