//! Tolerant decoding of what 1099Policy sends back.
//!
//! Both official SDKs "unpack" any string field that looks like JSON, because the API sometimes
//! returns nested objects (`certificates`, `quote_json`, `eligible`, `address`,
//! `custom_metadata`) as JSON inside a string, or even as a Python `repr` with single quotes
//! (reference §8 item 7). The SDKs' trick, replacing every `'` with `"`, corrupts apostrophes;
//! here a small tokenizer rewrites Python literals properly.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::money::Cents;

/// Decodes a nested object that may arrive as an object, as JSON in a string, or as a Python
/// literal in a string. `null` and `""` decode as `None`.
pub fn nested<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    match unwrap_stringified(value).map_err(D::Error::custom)? {
        None => Ok(None),
        Some(value) => serde_json::from_value(value).map(Some).map_err(D::Error::custom),
    }
}

/// Like [`nested`], for fields that default when absent or null.
pub fn nested_or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    nested(deserializer).map(Option::unwrap_or_default)
}

/// The object inside `value`: itself unless it is a string, whose content is parsed as JSON
/// and, failing that, as a Python literal.
pub fn unwrap_stringified(value: Value) -> Result<Option<Value>, String> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text,
        other => return Ok(Some(other)),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "None" || trimmed == "null" {
        return Ok(None);
    }
    if let Ok(value) = serde_json::from_str(trimmed) {
        return Ok(Some(value));
    }
    let json = python_literal_to_json(trimmed)
        .ok_or_else(|| format!("a nested object is neither JSON nor a Python literal: {text:?}"))?;
    serde_json::from_str(&json).map(Some).map_err(|e| format!("a nested object is not valid: {e}"))
}

/// Rewrites a Python literal (`{'a': 'it\'s', "b": True, 'c': None}`) as JSON text. `None`
/// when it contains something a JSON document cannot (an unterminated string).
pub fn python_literal_to_json(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push('"');
                loop {
                    match chars.next()? {
                        ch if ch == c => break,
                        '\\' => match chars.next()? {
                            '\'' => out.push('\''),
                            escaped => {
                                out.push('\\');
                                out.push(escaped);
                            }
                        },
                        '"' => out.push_str("\\\""),
                        ch => out.push(ch),
                    }
                }
                out.push('"');
            }
            c if c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if !next.is_ascii_alphanumeric() && next != '_' {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                out.push_str(match word.as_str() {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    other => other,
                });
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// `custom_metadata`: string keys and string values. Numbers and booleans the API (or an SDK's
/// unpacking) turned into other JSON types come back as their text; null values are dropped.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct Metadata(pub BTreeMap<String, String>);

impl Metadata {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// With `key` set to `value`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Some(value) = unwrap_stringified(value).map_err(D::Error::custom)? else {
            return Ok(Self::default());
        };
        let Value::Object(map) = value else {
            return Err(D::Error::custom("custom_metadata is not an object"));
        };
        let entries = map.into_iter().filter_map(|(key, value)| match value {
            Value::Null => None,
            Value::String(text) => Some((key, text)),
            other => Some((key, other.to_string())),
        });
        Ok(Self(entries.collect()))
    }
}

/// Decodes a string that may arrive as a number (`postalcode` examples show both).
pub fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        other => return Err(D::Error::custom(format!("expected a string, got {other}"))),
    })
}

/// Decodes an amount in cents from an integer or an integer string (SDK samples send entity
/// limits as `"200000000"`). Fractions are refused: money is never a float.
pub fn cents<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cents>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Number(number) => number
            .as_i64()
            .map(|c| Some(Cents(c)))
            .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number of cents"))),
        Value::String(text) => text
            .trim()
            .parse::<i64>()
            .map(|c| Some(Cents(c)))
            .map_err(|_| D::Error::custom(format!("{text:?} is not a whole number of cents"))),
        other => Err(D::Error::custom(format!("expected cents, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Certificates {
        gl_coi_pdf_url: Option<String>,
        wc_coi_pdf_url: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    struct Holder {
        #[serde(default, deserialize_with = "nested")]
        certificates: Option<Certificates>,
        #[serde(default)]
        custom_metadata: Metadata,
        #[serde(default, deserialize_with = "nested")]
        quote_json: Option<Value>,
    }

    fn certificates(json: &str) -> Option<Certificates> {
        serde_json::from_str::<Holder>(json).unwrap().certificates
    }

    #[test]
    fn nested_objects_decode_from_objects_json_strings_and_python_repr() {
        let expected = Some(Certificates { gl_coi_pdf_url: Some("https://x/gl.pdf".into()), wc_coi_pdf_url: None });
        assert_eq!(
            certificates(r#"{"certificates": {"gl_coi_pdf_url": "https://x/gl.pdf", "wc_coi_pdf_url": null}}"#),
            expected
        );
        assert_eq!(
            certificates(r#"{"certificates": "{\"gl_coi_pdf_url\": \"https://x/gl.pdf\", \"wc_coi_pdf_url\": null}"}"#),
            expected
        );
        assert_eq!(
            certificates(r#"{"certificates": "{'gl_coi_pdf_url': 'https://x/gl.pdf', 'wc_coi_pdf_url': None}"}"#),
            expected
        );
        assert_eq!(certificates(r#"{"certificates": null}"#), None);
        assert_eq!(certificates(r#"{"certificates": ""}"#), None);
        assert_eq!(certificates("{}"), None);
    }

    #[test]
    fn python_repr_keeps_apostrophes_quotes_and_literals() {
        let holder: Holder = serde_json::from_str(
            r#"{"custom_metadata": "{'name': \"O'Brien\", 'note': 'say \\'hi\\'', 'q': 'a \"b\"', 'zip': 94110, 'vip': True, 'gone': None}",
                "quote_json": "{'gl': {'net_rate': 20, 'stamping_fee': None}, 'wc': {'net_rate': 45}}"}"#,
        )
        .unwrap();
        let metadata = holder.custom_metadata;
        assert_eq!(metadata.get("name"), Some("O'Brien"));
        assert_eq!(metadata.get("note"), Some("say 'hi'"));
        assert_eq!(metadata.get("q"), Some("a \"b\""));
        assert_eq!(metadata.get("zip"), Some("94110"));
        assert_eq!(metadata.get("vip"), Some("true"));
        assert_eq!(metadata.get("gone"), None);
        assert_eq!(holder.quote_json.unwrap()["wc"]["net_rate"], serde_json::json!(45));
    }

    #[test]
    fn garbage_in_a_nested_string_is_an_error_not_a_guess() {
        let error = serde_json::from_str::<Holder>(r#"{"certificates": "{'unterminated"}"#).unwrap_err().to_string();
        assert!(error.contains("neither JSON nor a Python literal"), "{error}");
        assert!(serde_json::from_str::<Holder>(r#"{"custom_metadata": "[1, 2]"}"#).is_err());
    }

    #[test]
    fn cents_and_strings_accept_their_documented_variants() {
        #[derive(Deserialize)]
        struct Limits {
            #[serde(deserialize_with = "cents")]
            limit: Option<Cents>,
            #[serde(deserialize_with = "string_or_number")]
            postalcode: Option<String>,
        }
        let parsed: Limits = serde_json::from_str(r#"{"limit": "200000000", "postalcode": 78701}"#).unwrap();
        assert_eq!(parsed.limit, Some(Cents(200_000_000)));
        assert_eq!(parsed.postalcode.as_deref(), Some("78701"));
        assert!(serde_json::from_str::<Limits>(r#"{"limit": 10.5, "postalcode": "x"}"#).is_err());
        assert!(serde_json::from_str::<Limits>(r#"{"limit": "10.5", "postalcode": "x"}"#).is_err());
    }
}
