//! The checked-in CRDs are exactly what `coverbridge crds` prints, and they are structural.

use std::process::Command;

use coverbridge::resources::crds;
use serde_json::Value;

const CHECKED_IN: [&str; 2] = ["crds/coverbridge.yaml", "charts/coverbridge/crds/coverbridge.yaml"];
const REFRESH: &str =
    "cargo run -- crds > crds/coverbridge.yaml && cp crds/coverbridge.yaml charts/coverbridge/crds/coverbridge.yaml";

#[test]
fn checked_in_crds_match_the_crds_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_coverbridge")).arg("crds").output().unwrap();
    assert!(output.status.success(), "coverbridge crds failed: {}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed, crds::to_yaml());
    for path in CHECKED_IN {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            checked_in == printed,
            "{path} differs from `coverbridge crds` (the Rust types changed). Refresh it with:\n  {REFRESH}"
        );
    }
}

#[test]
fn printed_yaml_parses_back_into_the_same_crds() {
    let parsed: Vec<Value> = serde_saphyr::from_multiple(&crds::to_yaml()).unwrap();
    let expected: Vec<Value> = crds::all().iter().map(|c| serde_json::to_value(c).unwrap()).collect();
    assert_eq!(parsed, expected);
}

fn schema(kind: &str) -> Value {
    let crd = crds::all().into_iter().find(|c| c.spec.names.kind == kind).unwrap();
    let version = &crd.spec.versions[0];
    assert!(version.subresources.as_ref().and_then(|s| s.status.as_ref()).is_some(), "{kind}: status subresource");
    serde_json::to_value(version.schema.as_ref().unwrap().open_api_v3_schema.as_ref().unwrap()).unwrap()
}

/// Kubernetes' structural-schema rules: every node has a type (or opts out explicitly) and no
/// value-dependent composition.
fn assert_structural(node: &Value, path: &str, problems: &mut Vec<String>) {
    let obj = node.as_object().expect("schema nodes are objects");
    let opted_out =
        obj.contains_key("x-kubernetes-int-or-string") || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    if !obj.contains_key("type") && !opted_out {
        problems.push(format!("{path}: no type"));
    }
    for forbidden in ["$ref", "anyOf", "oneOf", "allOf", "not", "uniqueItems"] {
        if obj.contains_key(forbidden) {
            problems.push(format!("{path}: uses {forbidden}"));
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (key, child) in props {
            assert_structural(child, &format!("{path}.{key}"), problems);
        }
    }
    if let Some(items) = obj.get("items") {
        assert_structural(items, &format!("{path}[]"), problems);
    }
    if let Some(additional) = obj.get("additionalProperties").filter(|a| a.is_object()) {
        assert_structural(additional, &format!("{path}{{}}"), problems);
    }
}

fn at<'a>(schema: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(schema, |node, step| match *step {
        "[]" => &node["items"],
        key => &node["properties"][key],
    })
}

fn rules(node: &Value) -> Vec<String> {
    node["x-kubernetes-validations"]
        .as_array()
        .map(|rules| rules.iter().map(|r| r["rule"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn schemas_are_structural() {
    for kind in ["CoverageBinding", "CategoryMapping"] {
        let mut problems = Vec::new();
        assert_structural(&schema(kind), kind, &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn binding_schema_carries_the_promised_validation() {
    let s = schema("CoverageBinding");
    let spec = at(&s, &["spec"]);
    assert!(rules(spec).iter().any(|r| r.contains("categoryCode") && r.contains("categoryMappingRef")));
    let work_order = at(&s, &["spec", "workOrderId"]);
    assert_eq!(rules(work_order), ["self == oldSelf"]);
    assert_eq!(work_order["minLength"], 1);
    assert_eq!(at(&s, &["spec", "entity"])["pattern"], "^en_[A-Za-z0-9]+$");
    assert_eq!(at(&s, &["spec", "categoryCode"])["pattern"], "^jc_[A-Za-z0-9]+$");
    let types = at(&s, &["spec", "coverageTypes"]);
    assert_eq!(types["minItems"], 1);
    assert_eq!(types["x-kubernetes-list-type"], "set");
    assert_eq!(
        types["items"]["enum"],
        serde_json::json!(["general", "professional", "workers-comp", "media", "cyber"])
    );
    let gross = at(&s, &["spec", "invoice", "grossPay"]);
    assert_eq!((gross["minimum"].as_f64(), gross["maximum"].as_f64()), (Some(100.0), Some(100_000_000.0)));
    assert!(rules(at(&s, &["spec", "invoice"])).iter().any(|r| r.contains("paycycleEnd >= self.paycycleStart")));
    let conditions = at(&s, &["status", "conditions"]);
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(conditions["x-kubernetes-list-map-keys"], serde_json::json!(["type"]));
    assert_eq!(at(&s, &["spec", "trigger"])["default"], "Assigned");
    assert_eq!(at(&s, &["spec", "deletionPolicy"])["default"], "Orphan");
}

#[test]
fn mapping_schema_carries_the_promised_validation() {
    let s = schema("CategoryMapping");
    let rule = at(&s, &["spec", "rules", "[]"]);
    assert!(rules(rule).iter().any(|r| r.contains("has(self.industry)") && r.contains("has(self.label)")));
    assert_eq!(at(&s, &["spec", "rules", "[]", "categoryCode"])["pattern"], "^jc_[A-Za-z0-9]+$");
    assert_eq!(at(&s, &["spec", "defaultCategoryCode"])["pattern"], "^jc_[A-Za-z0-9]+$");
    assert_eq!(at(&s, &["status", "conditions"])["x-kubernetes-list-type"], "map");
}

#[test]
fn every_schema_field_is_documented_for_kubectl_explain() {
    fn walk(node: &Value, path: &str, missing: &mut Vec<String>) {
        if let Some(props) = node["properties"].as_object() {
            for (key, child) in props {
                let child_path = format!("{path}.{key}");
                if child["description"].as_str().is_none_or(str::is_empty)
                    && !["apiVersion", "kind", "metadata"].contains(&key.as_str())
                {
                    missing.push(child_path.clone());
                }
                walk(child, &child_path, missing);
            }
        }
        if node.get("items").is_some() {
            walk(&node["items"], &format!("{path}[]"), missing);
        }
    }
    for kind in ["CoverageBinding", "CategoryMapping"] {
        let mut missing = Vec::new();
        walk(&schema(kind), kind, &mut missing);
        assert!(missing.is_empty(), "fields without a description: {missing:#?}");
    }
}

#[test]
fn names_and_printer_columns() {
    let all = crds::all();
    let binding = &all[0];
    assert_eq!(binding.spec.names.short_names.as_deref(), Some(&["covb".to_owned()][..]));
    assert_eq!(binding.spec.names.categories.as_deref(), Some(&["coverbridge".to_owned()][..]));
    let columns: Vec<_> =
        binding.spec.versions[0].additional_printer_columns.as_ref().unwrap().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["WorkOrder", "Worker", "Phase", "Policy", "COI", "Age"]);
    let mapping = &all[1];
    assert_eq!(mapping.spec.names.short_names.as_deref(), Some(&["catmap".to_owned()][..]));
    let columns: Vec<_> =
        mapping.spec.versions[0].additional_printer_columns.as_ref().unwrap().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["Rules", "Valid", "Age"]);
}
