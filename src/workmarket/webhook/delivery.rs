//! Parsing a webhook delivery made from the shipped template, JSON or form-encoded.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::Value;

use super::WorkOrderEvent;
use crate::workmarket::WorkOrderStatus;
use crate::workmarket::fields::unix_time;

/// Longest assignment number accepted; real ones have 10 digits.
const MAX_ID_LEN: usize = 64;

/// What a WorkMarket webhook said: which work order to look at again, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The event's meaning; `None` when the template has no `event` field.
    pub event: Option<WorkOrderEvent>,
    /// The event name as the template wrote it.
    pub event_name: Option<String>,
    /// The assignment number (`${assignment_id}`).
    pub assignment_id: String,
    /// The raw status when the event fired (`${status}`: `active`, never `in_progress`).
    pub status: Option<WorkOrderStatus>,
    /// When WorkMarket built the delivery (`${now}`, Unix seconds or ISO 8601 per the company
    /// setting); `None` when absent or in another format.
    pub sent_at: Option<Timestamp>,
}

/// Why a delivery body is not one coverbridge can act on. Messages quote no field values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The body is not a JSON object (for JSON) or not form-encoded pairs (for forms).
    #[error("webhook body is not a {0}")]
    Malformed(&'static str),
    /// A field the template defines holds something other than text or a number.
    #[error("webhook field {0} is not text")]
    NotText(&'static str),
    /// No `assignment_id` (or an empty one): the template lacks `${assignment_id}`.
    #[error("webhook has no assignment_id; the template must send \"assignment_id\":\"${{assignment_id}}\"")]
    MissingAssignmentId,
    /// An `assignment_id` that is not an assignment number (such as an unrendered variable).
    #[error("webhook assignment_id is not an assignment number")]
    InvalidAssignmentId,
}

/// Parses a delivery. `content_type` picks the format; without a recognised one, a body
/// starting with `{` is JSON and anything else form-encoded. Unknown fields (such as the
/// `resource_*` worker variables on Accepted) are ignored, and empty values mean absent.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Delivery, DeliveryError> {
    let media_type =
        content_type.and_then(|ct| ct.split(';').next()).map(|ct| ct.trim().to_ascii_lowercase()).unwrap_or_default();
    let is_json = if media_type == "application/json" || media_type.ends_with("+json") {
        true
    } else if media_type == "application/x-www-form-urlencoded" {
        false
    } else {
        body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    };
    let fields = if is_json { json_fields(body)? } else { form_fields(body)? };
    let field = |name: &'static str| -> Result<Option<String>, DeliveryError> {
        match fields.get(name) {
            Some(Some(text)) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
            Some(None) => Err(DeliveryError::NotText(name)),
            _ => Ok(None),
        }
    };
    let assignment_id = field("assignment_id")?.ok_or(DeliveryError::MissingAssignmentId)?;
    let valid_id = assignment_id.len() <= MAX_ID_LEN
        && assignment_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_id {
        return Err(DeliveryError::InvalidAssignmentId);
    }
    let event_name = field("event")?;
    Ok(Delivery {
        event: event_name.as_deref().map(WorkOrderEvent::from_name),
        event_name,
        assignment_id,
        status: field("status")?.map(|s| WorkOrderStatus::parse(&s)),
        sent_at: field("now")?.as_deref().and_then(parse_time),
    })
}

/// Top-level fields of a JSON object: `Some(text)` for strings and numbers, `None` for other
/// shapes, absent for `null`.
fn json_fields(body: &[u8]) -> Result<HashMap<String, Option<String>>, DeliveryError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(DeliveryError::Malformed("JSON object"));
    };
    Ok(object
        .into_iter()
        .filter_map(|(key, value)| match value {
            Value::Null => None,
            Value::String(text) => Some((key, Some(text))),
            Value::Number(n) => Some((key, Some(n.to_string()))),
            _ => Some((key, None)),
        })
        .collect())
}

/// Form pairs; the first non-empty value of a repeated key wins.
fn form_fields(body: &[u8]) -> Result<HashMap<String, Option<String>>, DeliveryError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| DeliveryError::Malformed("form-encoded body"))?;
    let mut fields: HashMap<String, Option<String>> = HashMap::new();
    for (key, value) in pairs {
        let slot = fields.entry(key).or_insert(None);
        if slot.as_deref().is_none_or(|v| v.trim().is_empty()) {
            *slot = Some(value);
        }
    }
    Ok(fields)
}

/// `${now}` as WorkMarket renders dates: Unix seconds by default, or ISO 8601 in UTC.
fn parse_time(text: &str) -> Option<Timestamp> {
    match text.parse::<i64>() {
        Ok(number) => unix_time(number),
        Err(_) => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json; charset=UTF-8");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn parses_the_json_template() {
        let body = br#"{"event":"Check In","assignment_id":"6029116324","status":"active","now":"1764000000"}"#;
        let delivery = parse(JSON, body).unwrap();
        assert_eq!(
            delivery,
            Delivery {
                event: Some(WorkOrderEvent::InProgress),
                event_name: Some("Check In".into()),
                assignment_id: "6029116324".into(),
                status: Some(WorkOrderStatus::Active),
                sent_at: Some(Timestamp::from_second(1764000000).unwrap()),
            }
        );
    }

    #[test]
    fn parses_the_form_template() {
        let body =
            b"event=Budget+Increase+Approved&assignment_id=6029116325&status=active&now=2015-01-13T16%3A40%3A18.000Z";
        let delivery = parse(FORM, body).unwrap();
        assert_eq!(delivery.event, Some(WorkOrderEvent::Repriced));
        assert_eq!(delivery.assignment_id, "6029116325");
        assert_eq!(delivery.sent_at, Some("2015-01-13T16:40:18Z".parse().unwrap()));
    }

    #[test]
    fn sniffs_the_format_without_a_content_type() {
        assert!(parse(None, br#" {"assignment_id":"1"}"#).is_ok());
        assert!(parse(Some("text/plain"), b"assignment_id=1").is_ok());
    }

    #[test]
    fn extra_fields_and_empty_values_are_tolerated() {
        let body = br#"{"event":"Accepted","assignment_id":6029116324,"status":"","now":"",
            "resource_id":"8823578","resource_email":"a@example.com","custom":{"x":1}}"#;
        let delivery = parse(JSON, body).unwrap();
        assert_eq!(delivery.assignment_id, "6029116324");
        assert_eq!(delivery.status, None);
        assert_eq!(delivery.sent_at, None);
        assert_eq!(delivery.event, Some(WorkOrderEvent::Assigned));
    }

    #[test]
    fn an_unknown_date_format_is_no_date_not_an_error() {
        let body = br#"{"assignment_id":"1","now":"13/01/2015 4:40 PM"}"#;
        let delivery = parse(JSON, body).unwrap();
        assert_eq!(delivery.sent_at, None);
        assert_eq!(delivery.event, None);
    }

    #[test]
    fn rejects_what_cannot_be_acted_on() {
        assert_eq!(parse(JSON, br#"{"event":"Accepted","assignment_id":""}"#), Err(DeliveryError::MissingAssignmentId));
        assert_eq!(parse(FORM, b"event=Accepted"), Err(DeliveryError::MissingAssignmentId));
        assert_eq!(parse(JSON, br#"{"assignment_id":"${assignment_id}"}"#), Err(DeliveryError::InvalidAssignmentId));
        assert_eq!(parse(JSON, br#"{"assignment_id":["1"]}"#), Err(DeliveryError::NotText("assignment_id")));
        assert_eq!(parse(JSON, b"[1,2]"), Err(DeliveryError::Malformed("JSON object")));
        assert_eq!(parse(JSON, b"{not json"), Err(DeliveryError::Malformed("JSON object")));
        let message = DeliveryError::MissingAssignmentId.to_string();
        assert!(message.contains("${assignment_id}"), "{message}");
    }

    #[test]
    fn the_shipped_template_parses_once_rendered() {
        let rendered = super::super::TEMPLATE
            .replace("${assignment_id}", "6029116324")
            .replace("${status}", "active")
            .replace("${now}", "1764000000");
        let delivery = parse(JSON, rendered.as_bytes()).unwrap();
        assert_eq!(delivery.event, Some(WorkOrderEvent::Assigned));
        assert_eq!(delivery.assignment_id, "6029116324");
    }
}
