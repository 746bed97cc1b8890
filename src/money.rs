//! Money: integer cents end to end. Decimal strings from WorkMarket become cents exactly, by
//! string arithmetic; no float ever holds an amount.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount in integer US cents (`Cents(32500)` is $325.00). Serializes as a bare integer, as
/// 1099Policy's `wage`, `gross_pay` and `premium_due` are.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// The amount in cents.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses a decimal amount such as `"325.00"`, `"19.99"`, `"7"`, `"1,250.5"` or `"-3.10"`
    /// into cents, exactly. More than two decimal places are accepted only when the extra digits
    /// are zeros (`"1.500"`); anything else is an error, never a rounded guess.
    pub fn parse_decimal(text: &str) -> Result<Self, MoneyError> {
        let err = |reason| MoneyError { input: text.to_owned(), reason };
        let trimmed = text.trim();
        let (negative, unsigned) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let unsigned = unsigned.strip_prefix('$').unwrap_or(unsigned);
        if unsigned.is_empty() {
            return Err(err("no digits"));
        }
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let whole = strip_grouping(whole).ok_or_else(|| err("misplaced thousands separator"))?;
        if whole.is_empty() && fraction.is_empty() {
            return Err(err("no digits"));
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("not a decimal number"));
        }
        let (cents_digits, extra) = fraction.split_at(fraction.len().min(2));
        if extra.bytes().any(|b| b != b'0') {
            return Err(err("more precise than a cent"));
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| err("too large"))? };
        let cents: i64 = format!("{cents_digits:0<2}").parse().expect("two ASCII digits");
        let total = whole.checked_mul(100).and_then(|w| w.checked_add(cents)).ok_or_else(|| err("too large"))?;
        Ok(Cents(if negative { -total } else { total }))
    }
}

/// `"1,250"` → `"1250"`; `None` when commas are not every three digits.
fn strip_grouping(whole: &str) -> Option<String> {
    if !whole.contains(',') {
        return Some(whole.to_owned());
    }
    let groups: Vec<&str> = whole.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    (first_ok && rest_ok).then(|| groups.concat())
}

impl FromStr for Cents {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_decimal(s)
    }
}

impl fmt::Display for Cents {
    /// `$325.00`, `-$3.10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}${}.{:02}", abs / 100, abs % 100)
    }
}

/// A decimal amount that is not an exact number of cents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an amount of money: {reason}")]
pub struct MoneyError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it, e.g. "more precise than a cent".
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_exactly() {
        for (text, cents) in [
            ("325.00", 32500),
            ("19.99", 1999),
            ("7", 700),
            ("0.5", 50),
            (".75", 75),
            ("12.", 1200),
            ("1,250.50", 125050),
            ("$45.50", 4550),
            ("-3.10", -310),
            ("150.0", 15000),
            ("1.500", 150),
            (" 42.00 ", 4200),
        ] {
            assert_eq!(Cents::parse_decimal(text), Ok(Cents(cents)), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_exact_money() {
        for text in [
            "",
            "-",
            ".",
            "abc",
            "1.999",
            "1.005",
            "1e3",
            "1,25",
            "12,3456",
            "NaN",
            "1.2.3",
            "--1",
            "99999999999999999999",
        ] {
            let error = Cents::parse_decimal(text).unwrap_err();
            assert_eq!(error.input, text);
        }
    }

    #[test]
    fn displays_as_dollars() {
        assert_eq!(Cents(32500).to_string(), "$325.00");
        assert_eq!(Cents(-310).to_string(), "-$3.10");
        assert_eq!(Cents(5).to_string(), "$0.05");
    }

    proptest! {
        #[test]
        fn every_cent_amount_round_trips(cents in -10_000_000_000i64..10_000_000_000) {
            let abs = cents.unsigned_abs();
            let sign = if cents < 0 { "-" } else { "" };
            let text = format!("{sign}{}.{:02}", abs / 100, abs % 100);
            prop_assert_eq!(Cents::parse_decimal(&text), Ok(Cents(cents)));
        }

        #[test]
        fn whole_dollars_and_grouping_agree(dollars in 0i64..1_000_000_000) {
            let plain = dollars.to_string();
            let grouped = plain.as_bytes().rchunks(3).rev().map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(",");
            prop_assert_eq!(Cents::parse_decimal(&plain), Ok(Cents(dollars * 100)));
            prop_assert_eq!(Cents::parse_decimal(&grouped), Ok(Cents(dollars * 100)));
        }

        #[test]
        fn never_panics_and_never_rounds(text in "[-+$0-9.,e ]{0,16}") {
            if let Ok(Cents(cents)) = Cents::parse_decimal(&text) {
                // Whatever parsed must print back to the same amount.
                prop_assert_eq!(Cents::parse_decimal(&Cents(cents).to_string()), Ok(Cents(cents)));
            }
        }
    }
}
