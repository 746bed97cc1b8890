//! What `coverbridge audit` prints: one row per work order with its coverage evidence and a
//! verdict, as a table, CSV (for the auditor's spreadsheet) or JSON.

use std::fmt::Write;

use jiff::Timestamp;
use serde::Serialize;

use super::verdict::{Cover, Term, Verdict};

/// One work order and its evidence.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// WorkMarket's assignment number.
    pub work_order_id: String,
    /// Its title.
    pub title: String,
    /// WorkMarket's status code.
    pub status: String,
    /// When the work is scheduled.
    pub window: Term,
    /// The worker: user number and name.
    pub worker: String,
    /// `namespace/name` of the CoverageBinding, or `none`.
    pub binding: String,
    /// The 1099Policy contractor (`cn_…`).
    pub contractor_id: Option<String>,
    /// What covers it.
    pub cover: Cover,
    /// A certificate of insurance (or the policy document).
    pub coi_url: Option<String>,
    /// The judgement.
    pub verdict: Verdict,
}

/// The columns of the table and the CSV.
const COLUMNS: [&str; 14] = [
    "work order",
    "status",
    "start",
    "end",
    "worker",
    "binding",
    "contractor",
    "covered by",
    "policy",
    "policy status",
    "coverage start",
    "coverage end",
    "coi",
    "verdict",
];

fn day(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "-".to_owned(), |t| t.strftime("%Y-%m-%dT%H:%MZ").to_string())
}

impl Row {
    fn cells(&self) -> [String; 14] {
        let (policy, policy_status, term) = match &self.cover {
            Cover::Policy { id, status, term } => (id.clone(), format!("{status:?}").to_lowercase(), *term),
            Cover::Assignment { policy, term, cancelled, .. } => {
                let (id, status) = policy.clone().unwrap_or_default();
                let status = if *cancelled {
                    "assignment cancelled".to_owned()
                } else {
                    status.map_or_else(|| "-".to_owned(), |s| format!("{s:?}").to_lowercase())
                };
                (id, status, *term)
            }
            Cover::Certificate { status, .. } => {
                ("-".into(), format!("certificate {status:?}").to_lowercase(), Term::default())
            }
            Cover::None => ("-".into(), "-".into(), Term::default()),
        };
        let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        [
            self.work_order_id.clone(),
            self.status.clone(),
            day(self.window.start),
            day(self.window.end),
            self.worker.clone(),
            self.binding.clone(),
            or_dash(&self.contractor_id),
            self.cover.how().to_owned(),
            policy,
            policy_status,
            day(term.start),
            day(term.end),
            or_dash(&self.coi_url),
            self.verdict.words().to_owned(),
        ]
    }
}

/// The rows as aligned columns.
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 14]> = rows.iter().map(Row::cells).collect();
    crate::table::columns(&COLUMNS.map(|c| c.to_uppercase()), &cells)
}

/// The rows as CSV (RFC 4180), with a header line. A cell a spreadsheet would take for a
/// formula (names come from WorkMarket as people typed them) is prefixed with `'`.
pub fn csv(rows: &[Row]) -> String {
    let field = |value: &str| {
        let value = match value {
            "-" => value.to_owned(),
            _ if value.starts_with(['=', '+', '-', '@']) => format!("'{value}"),
            _ => value.to_owned(),
        };
        if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", COLUMNS.map(field).join(","));
    for row in rows {
        let _ = writeln!(out, "{}", row.cells().iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let row = Row {
            work_order_id: "1".into(),
            title: "t".into(),
            status: "active".into(),
            window: Term::default(),
            worker: "=HYPERLINK(\"x\"), Jr".into(),
            binding: "none".into(),
            contractor_id: None,
            cover: Cover::None,
            coi_url: None,
            verdict: Verdict::NotCovered,
        };
        let csv = csv(&[row]);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.starts_with("1,active,-,-,\"'=HYPERLINK(\"\"x\"\"), Jr\",none,-,not covered,"), "{line}");
    }
}
