//! Every manifest under `examples/` is what the API server would accept, and the validation in
//! the CRDs rejects broken input with a message that names the field.

mod support;

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};
use support::crd_validation::validate;

fn examples() -> Vec<(PathBuf, Vec<Value>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
            (path, docs)
        })
        .collect()
}

fn example(name: &str) -> Value {
    examples()
        .into_iter()
        .flat_map(|(_, docs)| docs)
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no example named {name}"))
}

#[test]
fn every_example_validates_against_the_generated_crds() {
    let mut kinds = Vec::new();
    for (path, docs) in examples() {
        for doc in docs {
            let kind = doc["kind"].as_str().unwrap().to_owned();
            if doc["apiVersion"].as_str().unwrap().starts_with("coverbridge.io/") {
                if let Err(errors) = validate(&doc, None) {
                    panic!("{} ({kind}) is invalid:\n{}", path.display(), errors.join("\n"));
                }
                // And the operator's own types read it.
                match kind.as_str() {
                    "CoverageBinding" => {
                        drop(serde_json::from_value::<coverbridge::resources::CoverageBinding>(doc).unwrap())
                    }
                    "CategoryMapping" => {
                        drop(serde_json::from_value::<coverbridge::resources::CategoryMapping>(doc).unwrap())
                    }
                    other => panic!("unexpected kind {other}"),
                }
            }
            kinds.push(kind);
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        ["CategoryMapping", "CoverageBinding", "CoverageBinding", "CoverageBinding", "CoverageBinding", "Secret"]
    );
}

#[test]
fn certificate_example_references_a_pdf_in_its_secret() {
    let binding = example("repair-6029116327");
    let secret = example("coi-8823581");
    let key = binding["spec"]["certificate"]["secretRef"]["key"].as_str().unwrap();
    assert_eq!(binding["spec"]["certificate"]["secretRef"]["name"], secret["metadata"]["name"]);
    let pdf = base64::engine::general_purpose::STANDARD.decode(secret["data"][key].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "the example certificate is a PDF");
}

fn rejected(doc: &Value, old: Option<&Value>) -> String {
    match validate(doc, old) {
        Ok(()) => panic!("accepted an invalid manifest:\n{doc:#}"),
        Err(errors) => errors.join("\n"),
    }
}

/// `doc` with the field at `pointer` set to `value` (added when missing).
fn with(mut doc: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}")) {
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        parent => parent[key] = value,
    }
    doc
}

#[test]
fn unknown_coverage_type_is_rejected_by_field() {
    let broken = with(example("cabling-6029116324"), "/spec/coverageTypes", json!(["general", "flood"]));
    let message = rejected(&broken, None);
    assert!(message.contains("spec.coverageTypes[1]") && message.contains("flood"), "{message}");
}

#[test]
fn broken_bindings_are_rejected_with_the_field_named() {
    let base = example("site-survey-6029116325");
    let mut both = base.clone();
    both["spec"]["categoryMappingRef"] = json!({"name": "default"});
    let cases = [
        (with(base.clone(), "/spec/coverageTypes", json!([])), "spec.coverageTypes"),
        (with(base.clone(), "/spec/coverageTypes", json!(["general", "general"])), "spec.coverageTypes[1]"),
        (with(base.clone(), "/spec/workOrderId", json!("")), "spec.workOrderId"),
        (with(base.clone(), "/spec/entity", json!("Ah3tqYn")), "spec.entity"),
        (with(base.clone(), "/spec/categoryCode", json!("MTqpkbkp6G")), "spec.categoryCode"),
        (with(base.clone(), "/spec/invoice/grossPay", json!(99)), "spec.invoice.grossPay"),
        (with(base.clone(), "/spec/invoice/grossPay", json!(100_000_001)), "spec.invoice.grossPay"),
        (with(base.clone(), "/spec/invoice/grossPay", json!(412.5)), "spec.invoice.grossPay"),
        (with(base.clone(), "/spec/invoice/paycycleEnd", json!("2026-11-30T00:00:00Z")), "spec.invoice.paycycleEnd"),
        (with(base.clone(), "/spec/invoice/paycycleStart", json!("next monday")), "spec.invoice.paycycleStart"),
        (with(base.clone(), "/spec/trigger", json!("Paid")), "spec.trigger"),
        (with(base.clone(), "/spec/deletionPolicy", json!("Delete")), "spec.deletionPolicy"),
        (with(base.clone(), "/spec/region", json!("New York")), "spec.region"),
        (with(base.clone(), "/spec/coverageType", json!(["general"])), "spec.coverageType"),
        (both, "categoryCode or categoryMappingRef"),
    ];
    for (doc, field) in cases {
        let message = rejected(&doc, None);
        assert!(message.contains(field), "expected an error about {field}, got:\n{message}");
    }
}

#[test]
fn work_order_id_cannot_change_after_creation() {
    let old = example("cabling-6029116324");
    let changed = with(old.clone(), "/spec/workOrderId", json!("6029116399"));
    assert!(validate(&changed, None).is_ok(), "a new object may carry any work order");
    let message = rejected(&changed, Some(&old));
    assert!(message.contains("spec.workOrderId") && message.contains("immutable"), "{message}");
    let other_change = with(old.clone(), "/spec/coverageTypes", json!(["general"]));
    assert!(validate(&other_change, Some(&old)).is_ok(), "other fields stay editable");
}

#[test]
fn broken_mappings_are_rejected_with_the_field_named() {
    let base = example("default");
    let cases = [
        (with(base.clone(), "/spec/rules/0", json!({"categoryCode": "jc_5Tqpkbkp6G"})), "spec.rules[0]"),
        (with(base.clone(), "/spec/rules/1/categoryCode", json!("5Tqpkbkp6G")), "spec.rules[1].categoryCode"),
        (with(base.clone(), "/spec/defaultCategoryCode", json!("default")), "spec.defaultCategoryCode"),
        (with(base.clone(), "/spec/rules/2/clientId", json!("acme")), "spec.rules[2].clientId"),
    ];
    for (doc, field) in cases {
        let message = rejected(&doc, None);
        assert!(message.contains(field), "expected an error about {field}, got:\n{message}");
    }
}
