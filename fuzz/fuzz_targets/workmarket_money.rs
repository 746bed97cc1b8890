//! WorkMarket money: decimal strings (and JSON numbers, printed as WorkMarket wrote them) to
//! integer cents.
//!
//! Invariants, beyond "no panic":
//! - a parsed amount prints back (`$1,250.50` style and plain `1250.50`) to the same cents;
//! - it is the amount the text says, never a rounded one: the same digits read as a float agree
//!   to within float precision;
//! - an error carries the input it refused;
//! - a JSON number that parses is the same amount as its text.
#![no_main]

use coverbridge::money::Cents;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check(text);
    // WorkMarket also sends amounts as JSON numbers; the client reads them through their text.
    if let Ok(serde_json::Value::Number(number)) = serde_json::from_str::<serde_json::Value>(text) {
        let printed = number.to_string();
        if let (Ok(cents), Some(value)) = (Cents::parse_decimal(&printed), number.as_f64()) {
            assert!(close(cents, value), "{printed} read as {cents:?}");
        }
    }
});

fn check(text: &str) {
    let cents = match Cents::parse_decimal(text) {
        Ok(cents) => cents,
        Err(error) => {
            assert_eq!(error.input, text);
            return;
        }
    };
    assert_eq!(Cents::parse_decimal(&cents.to_string()), Ok(cents), "{cents}");
    let abs = cents.get().unsigned_abs();
    let sign = if cents.get() < 0 { "-" } else { "" };
    assert_eq!(Cents::parse_decimal(&format!("{sign}{}.{:02}", abs / 100, abs % 100)), Ok(cents));

    let digits: String = text.trim().chars().filter(|c| !matches!(c, ',' | '$' | '+')).collect();
    let value: f64 = digits.parse().unwrap_or_else(|_| panic!("{text:?} parsed but {digits:?} is not a number"));
    assert!(close(cents, value), "{text:?} read as {cents:?}");
}

/// Whether `cents` is `dollars` up to float precision.
fn close(cents: Cents, dollars: f64) -> bool {
    let exact = cents.get() as f64 / 100.0;
    (exact - dollars).abs() <= 1e-9 * dollars.abs().max(1.0)
}
