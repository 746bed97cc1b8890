//! `coverbridge plan`: what the operator would do with a set of manifests, before they are
//! merged — each binding's writes in order, with the exact requests and idempotency keys, what
//! it would then wait for, and every problem in the way — against the live APIs, read-only.
//!
//! The plan is the operator's own: the same observation and the same pure `plan` function, with
//! each write's outcome assumed (`reconcile::forecast`). The clients are built read-only, so a
//! write is refused inside the client before it is sent.

mod host;
mod manifests;
mod report;

use std::io::Write;
use std::process::ExitCode;

use kube::ResourceExt;

use crate::config::PlatformArgs;
use crate::connect::Access;
use crate::reconcile::Reconciler;
use crate::reconcile::forecast::{Finding, Forecast, ForecastStep, Severity};
use crate::reconcile::mapping::shadowed;
use crate::resources::{CategoryMapping, CoverageBinding, StepKind};

pub use host::PreviewHost;
pub use manifests::{ManifestError, Manifests};
pub use report::{BindingPlan, MappingCheck, Report};

/// Settings of `coverbridge plan`.
#[derive(clap::Args, Clone, Debug)]
pub struct PlanArgs {
    /// Manifests to plan: a file, a directory (its .yaml, .yml and .json files, not
    /// recursively, as kubectl reads one) or - for standard input. Repeatable.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<String>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// Start each binding from its status in the cluster (kubeconfig, read-only), so the plan
    /// shows only what is left; mappings and Secrets the manifests lack are read there too.
    #[arg(long)]
    pub cluster: bool,

    /// Namespace of manifests that name none: kubeconfig's namespace with --cluster, else
    /// `default`.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,

    /// Print the worker's e-mail, phone and street address in the contractor's request body
    /// (left out by default: plans end up in CI logs).
    #[arg(long)]
    pub show_personal_data: bool,

    /// How the platforms are reached: the same settings as `coverbridge run`.
    #[command(flatten)]
    pub platforms: PlatformArgs,
}

/// How the plan is printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A summary table, then each binding's steps.
    Table,
    /// The report as JSON.
    Json,
    /// The report as YAML.
    Yaml,
}

/// Exit status for a usage, configuration or connection error.
const UNUSABLE: u8 = 1;

/// Runs `coverbridge plan` and prints the report: exit 0 when nothing is wrong, 2 when a problem
/// would block coverage, 1 when the plan could not be made.
pub async fn run(args: PlanArgs) -> ExitCode {
    match plan(&args).await {
        Ok(report) => {
            // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{}", render(&report, args.output));
            ExitCode::from(report.exit_code())
        }
        Err(message) => {
            eprintln!("coverbridge plan: {message}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn render(report: &Report, output: Output) -> String {
    match output {
        Output::Table => report.table(),
        Output::Json => serde_json::to_string_pretty(report).expect("the report serializes"),
        Output::Yaml => serde_saphyr::to_string(report).expect("the report serializes"),
    }
}

/// The report for `args`; `Err` when nothing could be planned at all.
pub async fn plan(args: &PlanArgs) -> Result<Report, String> {
    let cluster = match args.cluster {
        true => Some(kube::Client::try_default().await.map_err(|e| format!("--cluster: no usable kubeconfig: {e}"))?),
        false => None,
    };
    let namespace = match (&args.namespace, &cluster) {
        (Some(namespace), _) => namespace.clone(),
        (None, Some(client)) => client.default_namespace().to_owned(),
        (None, None) => "default".to_owned(),
    };
    let manifests = Manifests::load(&args.files, &namespace).map_err(|e| e.to_string())?;
    if manifests.bindings.is_empty() && manifests.mappings.is_empty() {
        return Err("the manifests hold no CoverageBinding or CategoryMapping".into());
    }
    let platforms = args.platforms.connect(Access::ReadOnly, None).map_err(|e| e.to_string())?;
    let host = PreviewHost::new(&manifests, cluster.as_ref());
    let mut report = Report { skipped: manifests.skipped.clone(), ..Report::default() };
    for mapping in &manifests.mappings {
        let users = manifests.bindings.iter().filter(|b| uses(b, mapping)).count();
        report.mappings.push(check_mapping(&platforms.reconciler, mapping, users).await);
    }
    for binding in &manifests.bindings {
        let mut plan = plan_binding(&platforms.reconciler, binding, &host, cluster.as_ref()).await;
        if !args.show_personal_data {
            plan.forecast.iter_mut().flat_map(|f| f.steps.iter_mut()).for_each(redact);
        }
        report.bindings.push(plan);
    }
    Ok(report)
}

/// What identifies a person in a contractor's request body.
const PERSONAL: [&str; 5] = ["/email", "/phone", "/address/line1", "/address/line2", "/address/postalcode"];

fn redact(step: &mut ForecastStep) {
    if step.kind != StepKind::Contractor {
        return;
    }
    for field in PERSONAL {
        if let Some(value) = step.request.body.pointer_mut(field).filter(|v| v.is_string()) {
            *value = serde_json::Value::from("<redacted: --show-personal-data>");
        }
    }
}

fn uses(binding: &CoverageBinding, mapping: &CategoryMapping) -> bool {
    binding.namespace() == mapping.namespace() && binding.spec.mapping_name() == mapping.metadata.name.as_deref()
}

/// What is wrong with a mapping: its unknown or unapproved codes block whatever binding uses
/// them (in the cluster too), a shadowed rule is a warning.
async fn check_mapping(reconciler: &Reconciler, mapping: &CategoryMapping, users: usize) -> MappingCheck {
    let warn = |reason: &str, message: String| Finding { severity: Severity::Warning, reason: reason.into(), message };
    let block =
        |reason: &str, message: String| Finding { severity: Severity::Blocking, reason: reason.into(), message };
    let mut findings: Vec<Finding> = shadowed(&mapping.spec)
        .into_iter()
        .map(|s| {
            let message = format!(
                "spec.rules[{}] can never match: spec.rules[{}] comes first and matches everything it would",
                s.rule, s.by
            );
            warn("ShadowedRule", message)
        })
        .collect();
    match reconciler.mapping_status(mapping, users).await {
        Ok(status) => {
            if !status.unknown_codes.is_empty() {
                let message = format!("1099Policy does not know {}", status.unknown_codes.join(", "));
                findings.push(block("UnknownCategoryCode", message));
            }
            if !status.unapproved_codes.is_empty() {
                let message =
                    format!("1099Policy has not approved {} for this account", status.unapproved_codes.join(", "));
                findings.push(block("UnapprovedCategoryCode", message));
            }
        }
        Err(error) => findings.push(warn("CodesNotChecked", format!("the codes could not be checked: {error}"))),
    }
    MappingCheck { namespace: mapping.namespace().unwrap_or_default(), name: mapping.name_any(), findings }
}

/// The plan for one binding, from its status in the cluster when `cluster` is given and it
/// exists there.
async fn plan_binding(
    reconciler: &Reconciler,
    given: &CoverageBinding,
    host: &PreviewHost<'_>,
    cluster: Option<&kube::Client>,
) -> BindingPlan {
    let mut plan = BindingPlan {
        namespace: given.namespace().unwrap_or_default(),
        name: given.name_any(),
        work_order_id: given.spec.work_order_id.clone(),
        from_cluster: false,
        forecast: None,
        error: None,
    };
    let binding = match live(given, cluster).await {
        Ok(Some(live)) => {
            plan.from_cluster = true;
            live
        }
        Ok(None) => given.clone(),
        Err(error) => {
            plan.error = Some(error);
            return plan;
        }
    };
    match reconciler.forecast(&binding, host).await {
        Ok(forecast) => plan.forecast = Some(with_unseen(forecast, host.take_unseen(), cluster.is_some())),
        Err(error) => plan.error = Some(error.to_string()),
    }
    plan
}

/// The binding as the cluster has it, with the spec under review: its UID (for the keys) and
/// status (so the plan shows only what is left).
async fn live(given: &CoverageBinding, cluster: Option<&kube::Client>) -> Result<Option<CoverageBinding>, String> {
    let Some(client) = cluster else { return Ok(None) };
    let namespace = given.namespace().unwrap_or_default();
    let api = kube::Api::<CoverageBinding>::namespaced(client.clone(), &namespace);
    let found = api.get_opt(&given.name_any()).await.map_err(|e| format!("reading it from the cluster: {e}"))?;
    Ok(found.map(|mut live| {
        live.spec = given.spec.clone();
        live
    }))
}

/// Says where a missing mapping or Secret was looked for, so "does not exist" is not misread.
/// Without `--cluster` it may well exist there: what its absence blocks is only a warning then.
fn with_unseen(mut forecast: Forecast, unseen: Vec<String>, cluster: bool) -> Forecast {
    if !unseen.is_empty() && !cluster {
        for finding in forecast
            .findings
            .iter_mut()
            .filter(|f| ["MappingNotFound", "CertificateMissing", "Failed"].contains(&f.reason.as_str()))
        {
            finding.severity = Severity::Warning;
        }
    }
    for what in unseen {
        let message = match cluster {
            true => format!("{what} is neither among the manifests nor in the cluster"),
            false => format!("{what} is not among the manifests; pass --cluster to read it from the cluster"),
        };
        forecast.findings.push(Finding { severity: Severity::Warning, reason: "NotGiven".into(), message });
    }
    forecast
}
