//! Filling a webhook template's `${variables}`, escaped the way WorkMarket escapes them: JSON
//! bodies get JSON-string escaping *without* quotes (so templates write `"id":"${assignment_id}"`),
//! form bodies and URLs URL-encoding, header values escaped quotes, other bodies the raw value.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::variables;

/// Variable values of one event. Every value is a string, as WorkMarket renders them.
pub(crate) type Values = BTreeMap<&'static str, String>;

/// How a value is escaped where it lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escape {
    /// Inside a JSON string, without the surrounding quotes.
    Json,
    /// URL-encoded (form bodies and URLs).
    Url,
    /// A header value: quotes escaped.
    Header,
    /// As is.
    Raw,
}

impl Escape {
    /// The escaping for a body of `content_type`.
    pub fn for_body(content_type: &str) -> Self {
        let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match media_type.as_str() {
            "application/json" => Self::Json,
            "application/x-www-form-urlencoded" => Self::Url,
            _ => Self::Raw,
        }
    }

    fn apply(self, value: &str) -> String {
        match self {
            Self::Json => {
                let quoted = serde_json::to_string(value).expect("strings serialize");
                quoted[1..quoted.len() - 1].to_owned()
            }
            Self::Url => url_encode(value),
            Self::Header => value.replace('"', "\\\""),
            Self::Raw => value.to_owned(),
        }
    }
}

/// What Java's `URLEncoder` leaves alone: letters, digits and `.-*_` (space becomes `+`).
const URL_ENCODER: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'*').remove(b'_').remove(b' ');

fn url_encode(value: &str) -> String {
    utf8_percent_encode(value, URL_ENCODER).to_string().replace(' ', "+")
}

/// The `${name}` variables in `text` (the pattern `\$\{\w+\}`), in order.
pub(crate) fn variables_in(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        if len > 0 && after[len..].starts_with('}') {
            found.push(&after[..len]);
            rest = &after[len + 1..];
        } else {
            rest = after;
        }
    }
    found
}

/// Replaces every `${name}` in `template` by its escaped value. A variable that exists but not
/// for this event renders empty, as in WorkMarket; an unknown one fails the whole render
/// (WorkMarket then logs the error and sends nothing).
pub(crate) fn render(template: &str, values: &Values, escape: Escape) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    for name in variables_in(template) {
        let marker = format!("${{{name}}}");
        let at = rest.find(&marker).expect("variables_in found it here");
        out.push_str(&rest[..at]);
        let value = match values.get(name) {
            Some(value) => value.as_str(),
            None if variables::is_known(name) => "",
            None => return Err(format!("unknown variable ${{{name}}}")),
        };
        out.push_str(&escape.apply(value));
        rest = &rest[at + marker.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values::from([("assignment_id", "6029116324".to_owned()), ("note", "Say \"hi\" & <go>\nnow/ü".to_owned())])
    }

    #[test]
    fn finds_variables_by_workmarkets_pattern() {
        assert_eq!(variables_in("a ${x} ${ y} ${} ${z_1}${w}$ {v}"), ["x", "z_1", "w"]);
    }

    #[test]
    fn json_escapes_without_quotes() {
        let body = render(r#"{"id":"${assignment_id}","n":"${note}"}"#, &values(), Escape::Json).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["n"], "Say \"hi\" & <go>\nnow/ü");
        assert_eq!(parsed["id"], "6029116324");
    }

    #[test]
    fn form_and_url_encode() {
        let body = render("id=${assignment_id}&note=${note}", &values(), Escape::Url).unwrap();
        assert_eq!(body, "id=6029116324&note=Say+%22hi%22+%26+%3Cgo%3E%0Anow%2F%C3%BC");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        assert_eq!(pairs[1].1, "Say \"hi\" & <go>\nnow/ü");
    }

    #[test]
    fn headers_escape_quotes_and_raw_is_raw() {
        assert_eq!(render("x ${note}", &values(), Escape::Header).unwrap(), "x Say \\\"hi\\\" & <go>\nnow/ü");
        assert_eq!(render("${note}", &values(), Escape::Raw).unwrap(), "Say \"hi\" & <go>\nnow/ü");
    }

    #[test]
    fn ineligible_is_empty_and_unknown_fails() {
        assert_eq!(render("[${resource_email}]", &values(), Escape::Raw).unwrap(), "[]");
        assert_eq!(render("${bogus}", &values(), Escape::Raw).unwrap_err(), "unknown variable ${bogus}");
    }

    #[test]
    fn content_types_pick_the_escaping() {
        assert_eq!(Escape::for_body("application/json; charset=utf-8"), Escape::Json);
        assert_eq!(Escape::for_body("application/x-www-form-urlencoded"), Escape::Url);
        assert_eq!(Escape::for_body("text/xml"), Escape::Raw);
    }
}
