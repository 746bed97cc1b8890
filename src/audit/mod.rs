//! `coverbridge audit`: every WorkMarket work order scheduled in a window, with the evidence of
//! its coverage — binding, worker, contractor, policy or assignment or certificate, term, COI —
//! and a verdict, for operations and compliance. Read-only, like `plan`: the clients refuse
//! anything but reads, and the bindings are only listed.

mod evidence;
mod report;
mod verdict;

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use jiff::{SignedDuration, Timestamp, ToSpan};
use kube::ResourceExt;
use serde::Serialize;

use crate::config::PlatformArgs;
use crate::connect::Access;
use crate::resources::{CoverageBinding, CoverageBindingStatus};
use crate::workmarket::{Listed, WorkOrderStatus};

pub use evidence::{Evidence, Found};
pub use report::Row;
pub use verdict::{Cover, Term, Verdict, verdict};

/// Settings of `coverbridge audit`.
#[derive(clap::Args, Clone, Debug)]
pub struct AuditArgs {
    /// Start of the window: a date (2026-11-01, from midnight UTC) or an RFC 3339 time.
    /// Default: 30 days ago.
    #[arg(long, value_parser = moment)]
    pub from: Option<Timestamp>,

    /// End of the window: a date (2026-12-31, up to the end of that day UTC) or an RFC 3339
    /// time. Default: 14 days from now.
    #[arg(long, value_parser = end_moment)]
    pub to: Option<Timestamp>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// Do not read CoverageBindings from the cluster even when a kubeconfig is found; coverage
    /// is then judged from 1099Policy alone and every binding reads "none".
    #[arg(long)]
    pub no_cluster: bool,

    /// How the platforms are reached: the same settings as `coverbridge run`.
    #[command(flatten)]
    pub platforms: PlatformArgs,
}

/// How the audit is printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Aligned columns.
    Table,
    /// CSV with a header line, for a spreadsheet.
    Csv,
    /// JSON: the window and the rows.
    Json,
}

/// Work orders someone is (or was) working on, or that were called off: the ones coverage is
/// about. Unassigned ones (draft, sent, declined) have nobody to insure yet.
const STATUSES: &[&str] = &["active", "inprogress", "complete", "paymentPending", "paid", "cancelled", "void"];

/// Exit status when active work is not covered.
const UNCOVERED: u8 = 2;

fn moment(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let date: jiff::civil::Date =
        text.parse().map_err(|_| format!("{text:?} is not a date (2026-11-01) or an RFC 3339 time"))?;
    date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| e.to_string())
}

fn end_moment(text: &str) -> Result<Timestamp, String> {
    let at = moment(text)?;
    // A bare date means the whole of that day.
    Ok(if text.trim().parse::<Timestamp>().is_ok() { at } else { at + 24.hours() })
}

/// What the JSON output holds.
#[derive(Serialize)]
struct Audit<'a> {
    from: Timestamp,
    to: Timestamp,
    rows: &'a [Row],
}

/// Runs `coverbridge audit` and prints the rows: exit 2 when a work order that is assigned or in
/// progress is not covered, 1 when the audit could not be made, else 0.
pub async fn run(args: AuditArgs) -> ExitCode {
    let now = Timestamp::now();
    let from = args.from.unwrap_or(now - SignedDuration::from_hours(30 * 24));
    let to = args.to.unwrap_or(now + SignedDuration::from_hours(14 * 24));
    if from >= to {
        eprintln!("coverbridge audit: --from {from} is not before --to {to}");
        return ExitCode::FAILURE;
    }
    let rows = match audit(&args, Term { start: Some(from), end: Some(to) }).await {
        Ok(rows) => rows,
        Err(message) => {
            eprintln!("coverbridge audit: {message}");
            return ExitCode::FAILURE;
        }
    };
    let text = match args.output {
        Output::Table => report::table(&rows),
        Output::Csv => report::csv(&rows),
        Output::Json => serde_json::to_string_pretty(&Audit { from, to, rows: &rows }).expect("rows serialize"),
    };
    let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
    let uncovered = rows.iter().any(|r| r.verdict == Verdict::NotCovered && is_active(&r.status));
    if uncovered { ExitCode::from(UNCOVERED) } else { ExitCode::SUCCESS }
}

/// Assigned or in progress: work that is going on, or about to.
fn is_active(status: &str) -> bool {
    matches!(WorkOrderStatus::parse(status), WorkOrderStatus::Active | WorkOrderStatus::InProgress)
}

/// The rows for every work order scheduled in `window`.
pub async fn audit(args: &AuditArgs, window: Term) -> Result<Vec<Row>, String> {
    let platforms = args.platforms.connect(Access::ReadOnly, None).map_err(|e| e.to_string())?;
    let bindings = if args.no_cluster { HashMap::new() } else { bindings().await? };
    let listed = platforms.workmarket.list_assignments(STATUSES).await.map_err(|e| format!("WorkMarket: {e}"))?;
    let evidence = Evidence::read(platforms.reconciler.ten99policy()).await.map_err(|e| format!("1099Policy: {e}"))?;
    let mut seen = std::collections::HashSet::new();
    Ok(listed
        .into_iter()
        .filter(|w| overlaps(w, window) && seen.insert(w.id.clone()))
        .map(|w| {
            let binding = bindings.get(&w.id).and_then(|found| pick(found, w.worker_id.as_deref()));
            row(w, binding, &evidence)
        })
        .collect())
}

/// A work order's binding: of several (one per worker, after a reassignment), the one made for
/// the worker WorkMarket shows now, else the first.
fn pick<'a>(bindings: &'a [Bound], worker: Option<&str>) -> Option<&'a Bound> {
    let for_worker =
        |(_, status): &&Bound| status.as_ref().and_then(|s| s.work_order.as_ref()?.worker_id.as_deref()) == worker;
    bindings.iter().find(for_worker).or(bindings.first())
}

/// A binding's `namespace/name` and status.
type Bound = (String, Option<CoverageBindingStatus>);

fn overlaps(work_order: &Listed, window: Term) -> bool {
    let starts_before_end = match (work_order.window_start, window.end) {
        (Some(start), Some(end)) => start < end,
        _ => true,
    };
    let ends_after_start = match (work_order.window_end.or(work_order.window_start), window.start) {
        (Some(end), Some(start)) => end >= start,
        _ => true,
    };
    starts_before_end && ends_after_start
}

fn row(work_order: Listed, binding: Option<&Bound>, evidence: &Evidence) -> Row {
    let recorded = binding.and_then(|(_, status)| status.as_ref());
    let found = evidence.cover(&work_order.id, work_order.worker_id.as_deref(), recorded);
    let window = Term { start: work_order.window_start, end: work_order.window_end };
    let worker = match (&work_order.worker_id, &work_order.worker_name) {
        (Some(id), Some(name)) => format!("{id} {name}"),
        (Some(id), None) => id.clone(),
        _ => "-".into(),
    };
    Row {
        verdict: verdict(&work_order.status, window, &found.cover),
        status: work_order.status.as_str().to_owned(),
        work_order_id: work_order.id,
        title: work_order.title,
        window,
        worker,
        binding: binding.map_or_else(|| "none".to_owned(), |(name, _)| name.clone()),
        contractor_id: found.contractor_id,
        cover: found.cover,
        coi_url: found.coi_url,
    }
}

/// The cluster's bindings by work order, read with the kubeconfig (or in-cluster account) when
/// there is one: `namespace/name` and status. None found: every row's binding is "none".
async fn bindings() -> Result<HashMap<String, Vec<Bound>>, String> {
    let Ok(config) = kube::Config::infer().await else {
        eprintln!("coverbridge audit: no kubeconfig; coverage is judged from 1099Policy alone");
        return Ok(HashMap::new());
    };
    let client = kube::Client::try_from(config).map_err(|e| format!("kubeconfig: {e}"))?;
    let api = kube::Api::<CoverageBinding>::all(client);
    let list = api
        .list(&Default::default())
        .await
        .map_err(|e| format!("listing CoverageBindings (pass --no-cluster to audit without them): {e}"))?;
    let mut by_work_order: HashMap<String, Vec<Bound>> = HashMap::new();
    for b in list.items {
        let name = format!("{}/{}", b.namespace().unwrap_or_default(), b.name_any());
        by_work_order.entry(b.spec.work_order_id.clone()).or_default().push((name, b.status));
    }
    Ok(by_work_order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::ObservedWorkOrder;

    fn bound(name: &str, worker: &str) -> Bound {
        let work_order = ObservedWorkOrder { worker_id: Some(worker.into()), ..Default::default() };
        (name.into(), Some(CoverageBindingStatus { work_order: Some(work_order), ..Default::default() }))
    }

    #[test]
    fn of_several_bindings_the_one_for_the_current_worker_is_taken() {
        let bindings = [bound("ns/old-worker", "1"), bound("ns/new-worker", "2")];
        assert_eq!(pick(&bindings, Some("2")).unwrap().0, "ns/new-worker");
        assert_eq!(pick(&bindings, Some("3")).unwrap().0, "ns/old-worker", "else the first");
        assert!(pick(&[], Some("1")).is_none());
    }
}
