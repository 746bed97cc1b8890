//! The 1099Policy event parser: a webhook body (after its signature checked out) or an
//! events-API object.
//!
//! Invariants, beyond "no panic":
//! - the event type survives its wire name (`parse(as_str(t)) == t`);
//! - every reference the receiver looks bindings up by is non-empty, and either named in the
//!   object's field or the object's own id of the right kind (`cn_`, `qt_`, `jb_`, `pl_`);
//! - an event whose object is a JSON object (every real one) reads back the same after being
//!   written in 1099Policy's shape, as the sandbox sends it and the receiver reads it.
#![no_main]

use coverbridge::ten99policy::{ApplicationSession, Assignment, Certificate, Event, EventType, Invoice, Policy};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::parse(data) else { return };

    assert_eq!(EventType::parse(event.event_type.as_str()), event.event_type);

    let references = [
        (event.contractor_id(), "contractor", "cn_"),
        (event.quote_id(), "quote", "qt_"),
        (event.job_id(), "job", "jb_"),
        (event.policy_id(), "policy", "pl_"),
    ];
    for (reference, field, prefix) in references {
        if let Some(id) = reference {
            assert!(!id.is_empty(), "an empty {field} reference");
            let named = event.object.get(field).is_some_and(|v| v == id || v.get("id").is_some_and(|v| v == id));
            assert!(named || id.starts_with(prefix), "{field} {id:?} is neither named nor of its kind");
        }
    }

    // The typed decoders of the objects events carry must fail cleanly, never panic.
    let _ = event.object_as::<Policy>();
    let _ = event.object_as::<Assignment>();
    let _ = event.object_as::<Certificate>();
    let _ = event.object_as::<ApplicationSession>();
    let _ = event.object_as::<Invoice>();

    let nests_an_object = event.object.get("object").is_some_and(Value::is_object);
    if event.object.is_object() && !nests_an_object {
        let written = serde_json::to_vec(&event).expect("an event serializes");
        let again = Event::parse(&written).expect("what was written parses");
        assert_eq!((&again.id, &again.event_type, again.created), (&event.id, &event.event_type, event.created));
        assert!(same(&again.object, &event.object), "{:?} became {:?}", event.object, again.object);
    }
});

/// JSON equality, except that floats need only agree to their last digits: serde_json's default
/// float parsing can be one step off for long mantissas, which no field coverbridge reads has.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y)),
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(key, x)| ys.get(key).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}
