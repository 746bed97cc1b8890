//! The WorkMarket webhook parser, JSON and form-encoded. Input: one byte choosing the
//! `Content-Type` (or none), then the body.
//!
//! Invariants, beyond "no panic":
//! - an accepted delivery names a work order: a non-empty assignment id of at most 64 ASCII
//!   letters, digits, `-` and `_` (it ends up in API paths and log lines);
//! - the event's meaning is there exactly when its name is, and names are trimmed;
//! - what was accepted reads back the same when written as the template's JSON and as a form.
#![no_main]

use coverbridge::workmarket::webhook::{Delivery, parse};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 7] = [
    Some("application/json"),
    Some("application/json; charset=UTF-8"),
    Some("application/x-www-form-urlencoded"),
    None,
    Some("text/plain"),
    Some("application/vnd.workmarket+json"),
    Some("multipart/form-data; boundary=x"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let Ok(delivery) = parse(content_type, body) else { return };

    let id = &delivery.assignment_id;
    assert!(!id.is_empty() && id.len() <= 64, "{id:?}");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id:?}");
    assert_eq!(delivery.event.is_some(), delivery.event_name.is_some());
    if let Some(name) = &delivery.event_name {
        assert!(!name.is_empty() && name.trim() == name, "{name:?}");
    }

    let fields = fields(&delivery);
    let json = serde_json::to_vec(&fields.iter().cloned().collect::<serde_json::Map<_, _>>()).unwrap();
    assert_eq!(parse(Some("application/json"), &json).as_ref(), Ok(&delivery), "as JSON");
    let form = serde_urlencoded::to_string(&fields).unwrap();
    assert_eq!(parse(Some("application/x-www-form-urlencoded"), form.as_bytes()).as_ref(), Ok(&delivery), "as a form");
});

/// The delivery as the template's fields.
fn fields(delivery: &Delivery) -> Vec<(String, serde_json::Value)> {
    let mut fields = vec![("assignment_id".to_owned(), delivery.assignment_id.clone().into())];
    if let Some(name) = &delivery.event_name {
        fields.push(("event".to_owned(), name.clone().into()));
    }
    if let Some(status) = &delivery.status {
        fields.push(("status".to_owned(), status.as_str().into()));
    }
    if let Some(sent_at) = delivery.sent_at {
        fields.push(("now".to_owned(), sent_at.to_string().into()));
    }
    fields
}
