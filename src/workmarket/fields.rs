//! Reading WorkMarket's loosely typed JSON. The same field arrives as a string in one place and
//! a number in another (ids, amounts, dates), and `null`, a missing key and `""` all mean
//! "nothing". Anything else of the wrong shape is an error naming the field, never a guess.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::WorkMarketError;
use crate::money::Cents;

/// Unix times at or above this are milliseconds, not seconds: 10^11 seconds is the year 5138,
/// 10^11 milliseconds is 1973. WorkMarket passes `payment.paid_on` through in milliseconds.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A JSON object being read, with its dotted path for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

type Result<T> = std::result::Result<T, WorkMarketError>;

impl<'a> Fields<'a> {
    /// Reads `value`, which must be an object, as the field at `path`.
    pub fn object(value: &'a Value, path: &'a str) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Self { map, path }),
            other => Err(WorkMarketError::invalid(path, format!("expected an object, got {}", kind(other)))),
        }
    }

    /// The path of `key` inside this object.
    pub fn path_of(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The raw value, `None` for missing, `null` and `""`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(value) => Some(value),
        }
    }

    /// A nested object; an absent one (or WorkMarket's `[]` for "none") is `None`.
    pub fn nested(&self, key: &str, path: &'a str) -> Result<Option<Fields<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) if items.is_empty() => Ok(None),
            Some(value) => Fields::object(value, path).map(Some),
        }
    }

    /// A list; absent is empty.
    pub fn list(&self, key: &str) -> Result<&'a [Value]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.wrong(key, "a list", other)),
        }
    }

    /// Text; numbers are accepted as their decimal form.
    pub fn text(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.wrong(key, "text", other)),
        }
    }

    /// Text that must be present.
    pub fn required_text(&self, key: &str) -> Result<String> {
        self.text(key)?.ok_or_else(|| WorkMarketError::invalid(self.path_of(key), "missing"))
    }

    /// Text as WorkMarket HTML-escapes it (titles, descriptions), unescaped.
    pub fn html_text(&self, key: &str) -> Result<Option<String>> {
        Ok(self.text(key)?.map(|s| html_escape::decode_html_entities(&s).into_owned()))
    }

    /// An integer, as a number or numeric string.
    pub fn integer(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| self.wrong(key, "an integer", &Value::Number(n.clone())))
            }
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| self.wrong(key, "an integer", &Value::String(s.clone())))
            }
            Some(other) => Err(self.wrong(key, "an integer", other)),
        }
    }

    /// A decimal quantity (hours, units), as a number or numeric string. Not money.
    pub fn quantity(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|q| q.is_finite())
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a number", &Value::String(s.clone()))),
            Some(other) => Err(self.wrong(key, "a number", other)),
        }
    }

    /// An amount of money, from a decimal string or a JSON number, exactly in cents.
    pub fn money(&self, key: &str) -> Result<Option<Cents>> {
        let text = match self.get(key) {
            None => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            // A JSON number prints as its shortest round-trip form ("45.5" for 45.50), which is
            // the decimal WorkMarket wrote; "1e21" and the like fail below instead of rounding.
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => return Err(self.wrong(key, "an amount", other)),
        };
        Cents::parse_decimal(&text).map(Some).map_err(|e| WorkMarketError::invalid(self.path_of(key), e.to_string()))
    }

    /// A boolean, as JSON or as `"true"`/`"false"`.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    /// A Unix time in seconds (or milliseconds, recognised by size; see [`MILLIS_THRESHOLD`]).
    pub fn timestamp(&self, key: &str) -> Result<Option<Timestamp>> {
        let Some(value) = self.integer(key)? else {
            return Ok(None);
        };
        unix_time(value).map(Some).ok_or_else(|| WorkMarketError::invalid(self.path_of(key), "not a valid Unix time"))
    }

    fn wrong(&self, key: &str, expected: &str, got: &Value) -> WorkMarketError {
        WorkMarketError::invalid(self.path_of(key), format!("expected {expected}, got {}", kind(got)))
    }
}

/// A Unix time in seconds, or in milliseconds when it is too large to be seconds.
pub(crate) fn unix_time(value: i64) -> Option<Timestamp> {
    if value.abs() >= MILLIS_THRESHOLD {
        Timestamp::from_millisecond(value).ok()
    } else {
        Timestamp::from_second(value).ok()
    }
}

/// Names a JSON value's shape without quoting it (it may hold personal data).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn read<T>(value: Value, f: impl Fn(&Fields) -> Result<T>) -> Result<T> {
        let fields = Fields::object(&value, "response")?;
        f(&fields)
    }

    #[test]
    fn absent_null_and_empty_are_nothing() {
        for value in [json!({}), json!({"a": null}), json!({"a": ""}), json!({"a": "  "})] {
            assert_eq!(read(value.clone(), |f| f.text("a")).unwrap(), None);
            assert_eq!(read(value, |f| f.money("a")).unwrap(), None);
        }
    }

    #[test]
    fn money_from_strings_and_numbers_exactly() {
        let value = json!({"s": "325.00", "n": 45.5, "i": 7, "c": "1,250.50", "odd": 19.99});
        assert_eq!(read(value.clone(), |f| f.money("s")).unwrap(), Some(Cents(32500)));
        assert_eq!(read(value.clone(), |f| f.money("n")).unwrap(), Some(Cents(4550)));
        assert_eq!(read(value.clone(), |f| f.money("i")).unwrap(), Some(Cents(700)));
        assert_eq!(read(value.clone(), |f| f.money("c")).unwrap(), Some(Cents(125050)));
        assert_eq!(read(value, |f| f.money("odd")).unwrap(), Some(Cents(1999)));
    }

    #[test]
    fn malformed_money_names_the_field() {
        for bad in [json!("12.345"), json!("ten"), json!(1e21), json!(true), json!(0.001)] {
            let error = read(json!({"flat_price": bad}), |f| f.money("flat_price")).unwrap_err();
            match error {
                WorkMarketError::Invalid { field, .. } => {
                    assert_eq!(field, "response.flat_price")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn times_in_seconds_or_milliseconds() {
        let value = json!({"s": 1764000000, "ms": 1764000000123i64, "str": "1764000000"});
        let seconds = Timestamp::from_second(1764000000).unwrap();
        assert_eq!(read(value.clone(), |f| f.timestamp("s")).unwrap(), Some(seconds));
        assert_eq!(read(value.clone(), |f| f.timestamp("str")).unwrap(), Some(seconds));
        assert_eq!(
            read(value, |f| f.timestamp("ms")).unwrap(),
            Some(Timestamp::from_millisecond(1764000000123).unwrap())
        );
    }

    #[test]
    fn html_escaped_text_is_unescaped() {
        let value = json!({"t": "Cabling &amp; patch &lt;Cat6&gt; &quot;A&quot; &#39;B&#39;"});
        assert_eq!(read(value, |f| f.html_text("t")).unwrap().unwrap(), "Cabling & patch <Cat6> \"A\" 'B'");
    }

    #[test]
    fn wrong_shapes_are_errors_without_the_value() {
        let error = read(json!({"id": {"secret": "x"}}), |f| f.text("id")).unwrap_err();
        assert_eq!(error.to_string(), "WorkMarket answer has an invalid response.id: expected text, got an object");
    }

    proptest! {
        /// Amounts WorkMarket sends as JSON numbers (cents / 100 as a double) parse back to the
        /// same cents.
        #[test]
        fn json_number_amounts_round_trip(cents in 0i64..100_000_000_000) {
            let value = json!({"amount": cents as f64 / 100.0});
            prop_assert_eq!(read(value, |f| f.money("amount")).unwrap(), Some(Cents(cents)));
        }

        /// Decimal-string amounts round-trip, with or without the sign and trailing zeros.
        #[test]
        fn string_amounts_round_trip(cents in -10_000_000_000i64..10_000_000_000) {
            let text = format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.unsigned_abs() / 100, cents.unsigned_abs() % 100);
            let value = json!({"amount": text});
            prop_assert_eq!(read(value, |f| f.money("amount")).unwrap(), Some(Cents(cents)));
        }
    }
}
