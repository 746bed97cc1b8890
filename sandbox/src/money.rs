//! Amounts of money in integer cents, as both platforms' simulators keep them (never floats).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in cents; negative for refunds and corrections.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// The number of cents.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Cents {
    /// As dollars: `$325.00`, `-$3.10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}${}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_dollars_and_serializes_as_an_integer() {
        assert_eq!(Cents(32500).to_string(), "$325.00");
        assert_eq!(Cents(-310).to_string(), "-$3.10");
        assert_eq!(Cents(5).to_string(), "$0.05");
        assert_eq!(serde_json::to_string(&Cents(240)).unwrap(), "240");
    }
}
