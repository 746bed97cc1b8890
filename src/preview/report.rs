//! What `coverbridge plan` prints: a table for people, JSON or YAML for machines, and the exit
//! status CI acts on.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::reconcile::forecast::{Finding, Forecast, Severity};

/// The plan for every manifest given.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// One entry per CoverageBinding, in the order given.
    pub bindings: Vec<BindingPlan>,
    /// One entry per CategoryMapping given.
    pub mappings: Vec<MappingCheck>,
    /// Documents of other kinds that were skipped, by kind.
    pub skipped: BTreeMap<String, usize>,
}

/// The plan for one binding.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingPlan {
    /// Where the binding is (its own, or `-n` for manifests that name none).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// Its `spec.workOrderId`.
    pub work_order_id: String,
    /// Whether the plan starts from the binding's status in the cluster (`--cluster`).
    pub from_cluster: bool,
    /// What the operator would do; absent when it could not be worked out.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Forecast>,
    /// Why the plan could not be worked out (a platform could not be reached, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What is wrong with, or worth knowing about, one CategoryMapping.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingCheck {
    /// Where the mapping is (its own, or `-n`).
    pub namespace: String,
    /// `metadata.name`; bindings name it in `categoryMappingRef`.
    pub name: String,
    /// Unknown or unapproved codes, rules that can never match.
    pub findings: Vec<Finding>,
}

impl Report {
    /// 1 when a plan could not be made, else 2 when a problem would block coverage (of a
    /// binding, or of any binding a mapping serves), else 0.
    pub fn exit_code(&self) -> u8 {
        let mapping_blocks = self.mappings.iter().flat_map(|m| &m.findings).any(|f| f.severity == Severity::Blocking);
        if self.bindings.iter().any(|b| b.error.is_some()) {
            1
        } else if mapping_blocks || self.bindings.iter().any(|b| b.forecast.as_ref().is_some_and(Forecast::blocked)) {
            2
        } else {
            0
        }
    }

    /// The report as people read it: a summary table, then each binding's steps.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let rows: Vec<[String; 6]> = self.bindings.iter().map(summary_row).collect();
        let header = ["NAMESPACE", "NAME", "WORK ORDER", "NOW", "WRITES", "STOPS IN"].map(str::to_owned);
        out.push_str(&crate::table::columns(&header, &rows));
        for binding in &self.bindings {
            details(&mut out, binding);
        }
        for mapping in self.mappings.iter().filter(|m| !m.findings.is_empty()) {
            let _ = writeln!(out, "\nCategoryMapping {}/{}", mapping.namespace, mapping.name);
            findings(&mut out, &mapping.findings);
        }
        for (kind, count) in &self.skipped {
            let what =
                if kind.is_empty() { "document(s) without a kind".to_owned() } else { format!("{kind} document(s)") };
            let _ =
                writeln!(out, "\nskipped {count} {what}: plan reads CoverageBindings, CategoryMappings and Secrets");
        }
        let _ = writeln!(out, "\n{}", self.verdict());
        out
    }

    fn verdict(&self) -> String {
        let blocked = self.bindings.iter().filter(|b| b.forecast.as_ref().is_some_and(Forecast::blocked)).count();
        let failed = self.bindings.iter().filter(|b| b.error.is_some()).count();
        let writes: usize = self.bindings.iter().filter_map(|b| b.forecast.as_ref()).map(|f| f.steps.len()).sum();
        format!(
            "{} binding(s): {writes} write(s) planned, {blocked} blocked, {failed} not planned (see above); nothing was written",
            self.bindings.len()
        )
    }
}

fn summary_row(binding: &BindingPlan) -> [String; 6] {
    let (now, writes, stops) = match &binding.forecast {
        Some(f) => {
            let kinds: Vec<&str> = f.steps.iter().map(|s| s.kind.as_str()).collect();
            let writes = if kinds.is_empty() { "-".to_owned() } else { kinds.join(", ") };
            let stops = if f.blocked() { format!("{:?} (blocked)", f.stops_in) } else { format!("{:?}", f.stops_in) };
            (format!("{:?}", f.phase_now), writes, stops)
        }
        None => ("?".into(), "?".into(), "not planned".into()),
    };
    [binding.namespace.clone(), binding.name.clone(), binding.work_order_id.clone(), now, writes, stops]
}

fn details(out: &mut String, binding: &BindingPlan) {
    let origin = if binding.from_cluster { ", from its status in the cluster" } else { "" };
    let _ = writeln!(out, "\n{}/{} (work order {}{origin})", binding.namespace, binding.name, binding.work_order_id);
    let Some(forecast) = &binding.forecast else {
        let _ = writeln!(out, "  not planned: {}", binding.error.as_deref().unwrap_or_default());
        return;
    };
    for (i, step) in forecast.steps.iter().enumerate() {
        let request = &step.request;
        let _ = writeln!(out, "  {}. {} {} {}", i + 1, step.kind.as_str(), request.method, request.path);
        if let Some(key) = &step.idempotency_key {
            let note = if step.key_exact { "" } else { " (final once the binding and the objects it names exist)" };
            let _ = writeln!(out, "     idempotency key: {key}{note}");
        }
        let _ = writeln!(out, "     body: {}", request.body);
        let _ = writeln!(out, "     then: {}", step.assumed);
    }
    let _ = writeln!(out, "  stops in {:?}: {}", forecast.stops_in, forecast.waits_for);
    findings(out, &forecast.findings);
}

fn findings(out: &mut String, findings: &[Finding]) {
    for finding in findings {
        let mark = match finding.severity {
            Severity::Blocking => "BLOCKS",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "  {mark} {}: {}", finding.reason, finding.message);
    }
}
