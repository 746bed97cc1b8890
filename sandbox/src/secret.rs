//! The sandbox's credentials (API keys, webhook secrets). They are test credentials, but kept
//! out of `Debug` output anyway so a logged config never teaches anyone to log real ones.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A credential: `Debug` and `Display` redact it; [`Secret::expose`] and serialization (the
/// sandbox sends webhook secrets on the wire, as 1099Policy does on creation) give it out.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact_and_serde_carries_the_value() {
        let secret = Secret::new("whsec_topsecret");
        assert!(!format!("{secret:?} {secret}").contains("topsecret"));
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""whsec_topsecret""#);
    }
}
