//! What the Kubernetes API server would say about a manifest, without an API server: the
//! generated CRD's OpenAPI schema (types, enums, patterns, ranges), unknown fields (as
//! `kubectl apply --validate=strict` reports them), `x-kubernetes-list-type` uniqueness and the
//! CEL rules, including transition rules against an old object.

use coverbridge::resources::{GROUP, VERSION, crds};
use kube::core::cel::Validator;
use serde_json::Value;

/// Validates one coverbridge manifest (`old` is the stored object for an update). Each error
/// names the field it is about, as `spec.coverageTypes[1]: …`.
pub fn validate(doc: &Value, old: Option<&Value>) -> Result<(), Vec<String>> {
    let schema = schema_for(doc)?;
    let mut errors = Vec::new();

    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the generated schema is valid JSON Schema");
    for error in validator.iter_errors(doc) {
        errors.push(format!("{}: {error}", dotted(error.instance_path().as_str())));
    }
    unknown_fields(&schema, doc, "", &mut errors);
    list_uniqueness(&schema, doc, "", &mut errors);
    if errors.is_empty() {
        // The API server runs CEL only on objects that passed the schema.
        if let Err(failures) = Validator::new().validate(&schema, doc, old) {
            for failure in failures.as_slice() {
                errors.push(format!("{}: {}", failure.field_path, failure.message));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The openAPIV3Schema of the CRD serving `doc`'s apiVersion and kind.
pub fn schema_for(doc: &Value) -> Result<Value, Vec<String>> {
    let api_version = doc["apiVersion"].as_str().unwrap_or_default();
    let kind = doc["kind"].as_str().unwrap_or_default();
    if api_version != format!("{GROUP}/{VERSION}") {
        return Err(vec![format!("apiVersion: expected {GROUP}/{VERSION}, got {api_version:?}")]);
    }
    let crd = crds::all()
        .into_iter()
        .find(|crd| crd.spec.names.kind == kind)
        .ok_or_else(|| vec![format!("kind: no coverbridge CRD serves kind {kind:?}")])?;
    let schema = crd.spec.versions[0].schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref());
    Ok(serde_json::to_value(schema.expect("generated CRDs carry a schema")).unwrap())
}

fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    if out.is_empty() { "<root>".into() } else { out }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn unknown_fields(schema: &Value, doc: &Value, path: &str, errors: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return; // metadata and free-form maps are checked by the API server itself.
            };
            for (key, child) in map {
                match properties.get(key) {
                    Some(child_schema) => unknown_fields(child_schema, child, &join(path, key), errors),
                    // The API server handles the type and object metadata of every resource.
                    None if path.is_empty() && ["apiVersion", "kind", "metadata"].contains(&key.as_str()) => {}
                    None => errors.push(format!("{}: unknown field", join(path, key))),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    unknown_fields(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn list_uniqueness(schema: &Value, doc: &Value, path: &str, errors: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, child) in map {
                    if let Some(child_schema) = properties.get(key) {
                        list_uniqueness(child_schema, child, &join(path, key), errors);
                    }
                }
            }
        }
        Value::Array(items) => {
            let key_of = |item: &Value| -> Value {
                match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("map") => {
                        let keys = schema["x-kubernetes-list-map-keys"].as_array().cloned().unwrap_or_default();
                        Value::Array(keys.iter().map(|k| item[k.as_str().unwrap()].clone()).collect())
                    }
                    _ => item.clone(),
                }
            };
            if matches!(schema.get("x-kubernetes-list-type").and_then(Value::as_str), Some("set" | "map")) {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].iter().any(|earlier| key_of(earlier) == key_of(item)) {
                        errors.push(format!("{path}[{i}]: Duplicate value: {item}"));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    list_uniqueness(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}
