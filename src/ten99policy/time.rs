//! Dates on the wire: integer seconds since the Unix epoch, converted to and from
//! [`jiff::Timestamp`] at the edge.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A point in time as 1099Policy sends it: whole seconds since the Unix epoch (UTC).
///
/// Serializes as a bare integer. Decodes from an integer, a numeric string (the quote schema
/// declares its dates `string(int64)`) or an RFC 3339 string (older webhook samples carry
/// ISO-8601 dates inside `data`). Floats are refused rather than truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochSeconds(pub i64);

impl EpochSeconds {
    /// The seconds since the epoch.
    pub fn get(self) -> i64 {
        self.0
    }

    /// The current time, truncated to whole seconds.
    pub fn now() -> Self {
        Self(jiff::Timestamp::now().as_second())
    }

    /// As a timestamp; `None` outside jiff's range (years -9999..=9999).
    pub fn to_timestamp(self) -> Option<jiff::Timestamp> {
        jiff::Timestamp::from_second(self.0).ok()
    }

    /// This time plus `seconds` (saturating).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    fn parse_text(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(seconds) = text.parse::<i64>() {
            return Some(Self(seconds));
        }
        text.parse::<jiff::Timestamp>().ok().map(Self::from)
    }
}

impl From<jiff::Timestamp> for EpochSeconds {
    /// Sub-second precision is dropped (towards the past), as the API has none.
    fn from(at: jiff::Timestamp) -> Self {
        Self(at.as_second())
    }
}

impl fmt::Display for EpochSeconds {
    /// RFC 3339 when representable, the raw number otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_timestamp() {
            Some(at) => write!(f, "{at}"),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for EpochSeconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for EpochSeconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EpochVisitor;

        impl Visitor<'_> for EpochVisitor {
            type Value = EpochSeconds;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch seconds as an integer, a numeric string or an RFC 3339 string")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(EpochSeconds(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v).map(EpochSeconds).map_err(|_| E::custom("epoch seconds out of range"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                EpochSeconds::parse_text(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }

        deserializer.deserialize_any(EpochVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_integers_numeric_strings_and_rfc3339() {
        for text in [
            "1761997200",
            "\"1761997200\"",
            "\" 1761997200 \"",
            "\"2025-11-01T11:40:00Z\"",
            "\"2025-11-01T06:40:00-05:00\"",
        ] {
            let got: EpochSeconds = serde_json::from_str(text).unwrap();
            assert_eq!(got, EpochSeconds(1_761_997_200), "{text}");
        }
    }

    #[test]
    fn refuses_floats_and_garbage() {
        for text in ["1761997200.5", "1.7e9", "\"tomorrow\"", "null", "true"] {
            assert!(serde_json::from_str::<EpochSeconds>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn serializes_as_a_bare_integer_and_converts_to_jiff() {
        assert_eq!(serde_json::to_string(&EpochSeconds(1_761_997_200)).unwrap(), "1761997200");
        let at: jiff::Timestamp = "2025-11-01T11:40:00.9Z".parse().unwrap();
        let seconds = EpochSeconds::from(at);
        assert_eq!(seconds, EpochSeconds(1_761_997_200));
        assert_eq!(seconds.to_string(), "2025-11-01T11:40:00Z");
        assert_eq!(seconds.to_timestamp().unwrap(), "2025-11-01T11:40:00Z".parse::<jiff::Timestamp>().unwrap());
        assert_eq!(EpochSeconds(i64::MAX).to_timestamp(), None);
    }
}
