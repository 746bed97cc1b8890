//! Reading request bodies the way the real service validates them: required fields, integer
//! cents in range (never a float or a string), integer epoch-second dates.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::money::Cents;
use crate::ten99policy::wire::{CoverageType, WageType};
use crate::ten99policy::{Address, EpochSeconds, Metadata};

/// The top-level fields of a JSON request body.
pub(crate) struct Fields(Map<String, Value>);

type Result<T> = std::result::Result<T, ApiError>;

impl Fields {
    /// Parses a body that must be a JSON object (an empty body is an empty object).
    pub fn parse(body: &[u8]) -> Result<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::invalid("The request body must be a JSON object")),
            Err(e) => Err(ApiError::invalid(format!("The request body is not valid JSON: {e}"))),
        }
    }

    /// From form fields (multipart uploads).
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// Whether `name` is present and not null.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn required<T>(name: &str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| ApiError::invalid(format!("{name} is required")))
    }

    /// An optional string.
    pub fn str(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(format!("{name} must be a string"))),
        }
    }

    /// A required, non-empty string.
    pub fn req_str(&self, name: &str) -> Result<String> {
        let value = Self::required(name, self.str(name)?)?;
        if value.trim().is_empty() {
            return Err(ApiError::invalid(format!("{name} must not be empty")));
        }
        Ok(value)
    }

    /// An optional boolean.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(format!("{name} must be true or false"))),
        }
    }

    /// An optional integer (JSON integers only: `1.0` and `"1"` are refused).
    pub fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(_) => Err(ApiError::invalid(format!("{name} must be an integer"))),
        }
    }

    /// Optional integer cents within `min..=max`.
    pub fn cents(&self, name: &str, min: i64, max: i64) -> Result<Option<Cents>> {
        let Some(cents) =
            self.int(name).map_err(|_| ApiError::invalid(format!("{name} must be an integer number of cents")))?
        else {
            return Ok(None);
        };
        if !(min..=max).contains(&cents) {
            return Err(ApiError::invalid(format!("{name} must be between {min} and {max} cents")));
        }
        Ok(Some(Cents(cents)))
    }

    /// Required integer cents within `min..=max`.
    pub fn req_cents(&self, name: &str, min: i64, max: i64) -> Result<Cents> {
        Self::required(name, self.cents(name, min, max)?)
    }

    /// An optional date in integer seconds since the epoch.
    pub fn epoch(&self, name: &str) -> Result<Option<EpochSeconds>> {
        let seconds = self
            .int(name)
            .map_err(|_| ApiError::invalid(format!("{name} must be an integer number of seconds since the epoch")))?;
        Ok(seconds.map(EpochSeconds))
    }

    /// A required epoch-second date.
    pub fn req_epoch(&self, name: &str) -> Result<EpochSeconds> {
        Self::required(name, self.epoch(name)?)
    }

    /// An optional wage type.
    pub fn wage_type(&self, name: &str) -> Result<Option<WageType>> {
        self.typed(name, "one of flatfee, hourly, unit, blended")
    }

    /// An optional list of coverage types; when present it must be non-empty, and media and
    /// cyber need general.
    pub fn coverage(&self, name: &str) -> Result<Option<Vec<CoverageType>>> {
        let expected = "a list of general, professional, workers-comp, media, cyber";
        let Some(mut types) = self.typed::<Vec<CoverageType>>(name, expected)? else {
            return Ok(None);
        };
        types.sort();
        types.dedup();
        if types.is_empty() {
            return Err(ApiError::invalid(format!("{name} must not be empty")));
        }
        let needs_general = types.iter().any(|t| matches!(t, CoverageType::Media | CoverageType::Cyber));
        if needs_general && !types.contains(&CoverageType::General) {
            return Err(ApiError::invalid("media and cyber coverage require general coverage"));
        }
        Ok(Some(types))
    }

    /// An optional address object.
    pub fn address(&self, name: &str) -> Result<Option<Address>> {
        self.typed(name, "an address object (line1, line2, locality, region, postalcode, country)")
    }

    /// Optional `custom_metadata`: an object of string (or scalar) values.
    pub fn metadata(&self, name: &str) -> Result<Option<Metadata>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => {
                let mut metadata = Metadata::default();
                for (key, value) in map {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(_) | Value::Bool(_) => value.to_string(),
                        Value::Null => String::new(),
                        _ => {
                            return Err(ApiError::invalid(format!("{name}.{key} must be a string")));
                        }
                    };
                    metadata.0.insert(key.clone(), text);
                }
                Ok(Some(metadata))
            }
            Some(_) => Err(ApiError::invalid(format!("{name} must be an object"))),
        }
    }

    /// An optional nested object.
    pub fn typed_object(&self, name: &str) -> Result<Option<Map<String, Value>>> {
        self.typed(name, "an object")
    }

    /// An optional list of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>> {
        self.typed(name, "a list of strings")
    }

    fn typed<T: serde::de::DeserializeOwned>(&self, name: &str, expected: &str) -> Result<Option<T>> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => {
                T::deserialize(value).map(Some).map_err(|_| ApiError::invalid(format!("{name} must be {expected}")))
            }
        }
    }
}

/// Applies a metadata update: an empty value removes a key; an empty map removes all.
pub(crate) fn merge_metadata(current: &mut Metadata, update: Metadata) {
    if update.is_empty() {
        current.0.clear();
        return;
    }
    for (key, value) in update.0 {
        if value.is_empty() {
            current.0.remove(&key);
        } else {
            current.0.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        Fields::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn money_must_be_integer_cents_in_range() {
        let f = fields(r#"{"a": 32500, "b": 325.0, "c": "32500", "d": 99, "e": 100000001}"#);
        assert_eq!(f.cents("a", 100, 100_000_000), Ok(Some(Cents(32500))));
        for name in ["b", "c", "d", "e"] {
            let error = f.cents(name, 100, 100_000_000).unwrap_err();
            assert_eq!(error.code, "invalid_input", "{name}");
            assert!(!error.stored);
        }
        assert!(f.req_cents("missing", 1, 2).is_err());
    }

    #[test]
    fn dates_must_be_integer_seconds() {
        let f = fields(r#"{"a": 1761997200, "b": "1761997200", "c": 1761997200.5}"#);
        assert_eq!(f.epoch("a"), Ok(Some(EpochSeconds(1_761_997_200))));
        assert!(f.epoch("b").is_err());
        assert!(f.epoch("c").is_err());
    }

    #[test]
    fn coverage_rules() {
        let f = fields(
            r#"{"ok": ["workers-comp", "general", "general"], "empty": [], "media": ["media"], "bad": ["gl"], "str": "general"}"#,
        );
        assert_eq!(f.coverage("ok"), Ok(Some(vec![CoverageType::General, CoverageType::WorkersComp])));
        for name in ["empty", "media", "bad", "str"] {
            assert!(f.coverage(name).is_err(), "{name}");
        }
    }

    #[test]
    fn malformed_bodies_are_not_stored() {
        for body in ["{", "[1]", "\"x\""] {
            let error = Fields::parse(body.as_bytes()).err().unwrap();
            assert!(!error.stored, "{body}");
        }
        assert!(Fields::parse(b"  ").is_ok());
    }

    #[test]
    fn metadata_updates_unset_keys() {
        let mut current = Metadata::default().with("a", "1").with("b", "2");
        merge_metadata(&mut current, Metadata::default().with("a", "").with("c", "3"));
        assert_eq!(current, Metadata::default().with("b", "2").with("c", "3"));
        merge_metadata(&mut current, Metadata::default());
        assert!(current.is_empty());
    }
}
