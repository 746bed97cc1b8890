//! What the operator would do for a binding, without doing it (`coverbridge plan`): the same
//! observe and the same pure plan, with each write's outcome assumed — every create succeeds
//! and is recorded as the operator would record it — so the plan can say what follows, until it
//! waits for someone or something.

use serde::Serialize;

use super::act::Outcome;
use super::adopt::adopt;
use super::conditions::{ConditionStatus, Desired};
use super::error::ReconcileError;
use super::facts::{AssignmentFacts, Facts};
use super::keys::{attempt_of, key};
use super::plan::Plan;
use super::record::record;
use super::steps::{Request, Step};
use crate::resources::{CertificateStatus, ConditionType, CoverageBindingStatus, Phase, StepKind};
use crate::ten99policy::Ten99PolicyClient;

/// The idempotency keys of a binding that does not exist yet carry this instead of its UID,
/// which the API server assigns when the binding is created.
pub const UID_PLACEHOLDER: &str = "<uid>";

/// What the operator would do for one binding, in order.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    /// The phase the binding is in, or would be in on its first reconcile.
    pub phase_now: Phase,
    /// The writes it would make, in order.
    pub steps: Vec<ForecastStep>,
    /// The phase it would stop in.
    pub stops_in: Phase,
    /// What it would wait for there, or why it would stop (the `Ready` condition's message).
    pub waits_for: String,
    /// Everything in the way, or worth knowing.
    pub findings: Vec<Finding>,
}

impl Forecast {
    /// Whether something would keep this binding from coverage until a person acts.
    pub fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Blocking)
    }
}

/// One write the operator would make.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForecastStep {
    /// The write's kind, as `status.createAttempts` and the idempotency key name it.
    pub kind: StepKind,
    /// The request, exactly as it would be sent. Ids of objects earlier steps would create are
    /// shown as `<contractor id>`, `<job id>`, ….
    pub request: Request,
    /// The idempotency key it would carry; `None` for an update, which needs none.
    pub idempotency_key: Option<String>,
    /// Whether the key is exactly the one the operator will send: not when it is derived from
    /// the UID of a binding not created yet, or from an id of an object still to be made.
    pub key_exact: bool,
    /// What is assumed to come of it for the steps after it.
    pub assumed: String,
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Severity {
    /// Coverage will not come until a person acts.
    Blocking,
    /// Coverage comes, but someone should know.
    Warning,
}

/// A problem or notable fact about a binding, in the terms of its conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Whether it stops coverage or only deserves a look.
    pub severity: Severity,
    /// The condition or Synced reason, PascalCase (e.g. `UnknownCategoryCode`).
    pub reason: String,
    /// What it means and what to do.
    pub message: String,
}

/// Conditions whose presence (status True) blocks coverage, and those only worth a warning.
const BLOCKING: [ConditionType; 4] = [
    ConditionType::CategoryUnmapped,
    ConditionType::ContractorConflict,
    ConditionType::ContractorIncomplete,
    ConditionType::WorkerMismatch,
];
const WARNING: [ConditionType; 2] = [ConditionType::EffectiveDateClamped, ConditionType::WorkStartedUninsured];

/// Plans forward from `status` and `facts`: each step's outcome assumed (see [`assume`]),
/// recorded as the operator records it, and planned again, until the plan waits.
pub(super) async fn forecast(
    client: &Ten99PolicyClient,
    uid: Option<&str>,
    mut status: CoverageBindingStatus,
    mut facts: Facts,
    mut decide: impl FnMut(&mut CoverageBindingStatus, &Facts) -> Plan,
    max_steps: usize,
) -> Result<Forecast, ReconcileError> {
    let mut plan = decide(&mut status, &facts);
    let phase_now = plan.phase;
    let mut findings = Vec::new();
    let mut steps = Vec::new();
    while let Some(step) = plan.step.clone().filter(|_| steps.len() < max_steps) {
        note(&plan, &mut findings);
        let (outcome, assumed) = assume(client, &step, &facts).await?;
        let idempotency_key =
            keyed(&step).then(|| key(uid.unwrap_or(UID_PLACEHOLDER), &step, attempt_of(&status, &step)).to_string());
        let key_exact = idempotency_key.as_ref().is_some_and(|key| !key.contains(UID_PLACEHOLDER))
            && !names_placeholder(&step.key_terms());
        steps.push(ForecastStep { kind: step.kind(), request: step.request(), idempotency_key, key_exact, assumed });
        record(outcome, &mut status, &mut facts);
        plan = decide(&mut status, &facts);
    }
    note(&plan, &mut findings);
    if plan.step.is_some() {
        let message = format!("the plan stops after {max_steps} writes; the operator would go on from there");
        findings.push(Finding { severity: Severity::Warning, reason: "StepLimit".into(), message });
    }
    if matches!(plan.phase, Phase::Failed) && !findings.iter().any(|f| f.severity == Severity::Blocking) {
        let message = ready_message(&plan);
        findings.push(Finding { severity: Severity::Blocking, reason: "Failed".into(), message });
    }
    Ok(Forecast { phase_now, steps, stops_in: plan.phase, waits_for: ready_message(&plan), findings })
}

/// An id of an object the forecast assumes made, e.g. `<job id>`.
fn placeholder(what: &str) -> String {
    format!("<{what} id>")
}

/// Whether `terms` mention an object the forecast only assumed.
fn names_placeholder(terms: &serde_json::Value) -> bool {
    match terms {
        serde_json::Value::String(s) => s.starts_with('<') && s.ends_with(" id>"),
        serde_json::Value::Array(items) => items.iter().any(names_placeholder),
        serde_json::Value::Object(fields) => fields.values().any(names_placeholder),
        _ => false,
    }
}

/// Whether the step's request carries an idempotency key (every one but a job update).
fn keyed(step: &Step) -> bool {
    !matches!(step, Step::UpdateJob { .. })
}

fn ready_message(plan: &Plan) -> String {
    message_of(plan, ConditionType::Ready)
}

/// Adds what `plan` shows to `findings`, each reason once.
fn note(plan: &Plan, findings: &mut Vec<Finding>) {
    // A problem of a binding that goes no further is in the way; one beside coverage that
    // proceeds or stands (a job 1099Policy will not update, say) is worth a warning.
    let held = plan.step.is_none()
        && matches!(plan.phase, Phase::Pending | Phase::WaitingForTrigger | Phase::Provisioning | Phase::Failed);
    // Each reason once; one seen as a warning while the plan went on blocks when it holds the
    // plan at the end.
    let mut add = |severity, reason: &str, message: &str| match findings.iter_mut().find(|f| f.reason == reason) {
        Some(seen) if severity == Severity::Blocking => seen.severity = Severity::Blocking,
        Some(_) => {}
        None => findings.push(Finding { severity, reason: reason.to_owned(), message: message.to_owned() }),
    };
    for c in plan.conditions.iter().filter(|c| c.status == ConditionStatus::True) {
        if BLOCKING.contains(&c.type_) {
            add(Severity::Blocking, &c.reason, &c.message);
        } else if WARNING.contains(&c.type_) {
            add(Severity::Warning, &c.reason, &c.message);
        }
    }
    if let Some(problem) = &plan.problem {
        add(if held { Severity::Blocking } else { Severity::Warning }, problem.reason, &problem.message);
    }
    if plan.phase == Phase::Cancelled {
        add(Severity::Warning, "Cancelled", &ready_message(plan));
    }
}

fn message_of(plan: &Plan, type_: ConditionType) -> String {
    plan.conditions.iter().find(|c: &&Desired| c.type_ == type_).map(|c| c.message.clone()).unwrap_or_default()
}

/// The outcome assumed for `step`, and how it reads. A new contractor is looked up first (a
/// read), since 1099Policy answers a known e-mail by adoption or conflict, never a second one.
async fn assume(client: &Ten99PolicyClient, step: &Step, facts: &Facts) -> Result<(Outcome, String), ReconcileError> {
    let id = placeholder;
    Ok(match step {
        Step::CreateContractor(draft) => match adopt(client, draft).await? {
            Some(Outcome::Contractor { id, .. }) => (
                Outcome::Contractor { id: id.clone(), adopted: true },
                format!("1099Policy answers duplicate_email and contractor {id}, this worker's, is adopted"),
            ),
            Some(conflict) => (conflict, "1099Policy answers duplicate_email for someone else's contractor".into()),
            None => (Outcome::Contractor { id: id("contractor"), adopted: false }, "the contractor is created".into()),
        },
        Step::UploadCertificate { digest, .. } => (
            Outcome::Certificate { id: id("certificate"), status: CertificateStatus::Pending, digest: digest.clone() },
            "the certificate is uploaded and waits for 1099Policy's review".into(),
        ),
        Step::CreateJob(draft) => {
            (Outcome::Job { id: id("job"), terms: draft.terms.clone() }, "the job is created".into())
        }
        Step::UpdateJob { terms, .. } => (Outcome::JobUpdated(terms.clone()), "the job takes the new terms".into()),
        Step::CreateQuote { .. } => (
            Outcome::Quote { id: id("quote"), eligible: true },
            "the quote is eligible (had the contractor a matching policy already, 1099Policy would answer contractor_has_matching_policy and an assignment would follow instead)".into(),
        ),
        Step::CreateSession { .. } => (
            Outcome::Session { id: id("session"), url: "<application URL>".into() },
            "the application session is created; its URL goes to status.applicationUrl".into(),
        ),
        Step::CreateAssignment { coverage, .. } => {
            let facts = AssignmentFacts { effective: Some(coverage.effective), end: Some(coverage.end), ..assignment() };
            let outcome = Outcome::Assignment { id: id("assignment"), facts, policy: None };
            (outcome, "the assignment is created under the contractor's policy".into())
        }
        Step::ExtendAssignment { end, .. } => {
            let extended = AssignmentFacts { end: Some(*end), ..facts.assignment.clone().unwrap_or_else(assignment) };
            (Outcome::AssignmentExtended(extended), "the assignment ends later".into())
        }
        Step::CancelAssignment { because, .. } => {
            let cancelled = AssignmentFacts { cancelled: true, ..facts.assignment.clone().unwrap_or_else(assignment) };
            (Outcome::AssignmentCancelled { facts: cancelled, because: *because }, "the assignment is cancelled".into())
        }
        Step::ExpireSession { because, .. } => {
            (Outcome::SessionExpired { because: *because }, "the unfinished application is expired".into())
        }
        Step::CreateInvoice { .. } => (Outcome::Invoice { id: id("invoice") }, "the invoice is recorded".into()),
    })
}

/// An assignment nothing is known of yet.
fn assignment() -> AssignmentFacts {
    AssignmentFacts {
        policy_id: None,
        effective: None,
        end: None,
        cancelled: false,
        eligible: true,
        eligibility_message: None,
        gl_coi_url: None,
        wc_coi_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::plan::{Problem, Wait};
    use crate::resources::{JobTerms, WageType};

    fn plan(phase: Phase, step: Option<Step>) -> Plan {
        Plan {
            phase,
            conditions: Vec::new(),
            work_order: None,
            step,
            wait: Wait::ForChange,
            problem: Some(Problem { reason: "RegionUnknown", message: "set spec.region".into() }),
        }
    }

    #[test]
    fn a_problem_first_seen_beside_a_step_blocks_once_it_holds_the_plan() {
        let terms = JobTerms {
            category_code: "jc_1".into(),
            wage_cents: 100,
            wage_type: WageType::Flatfee,
            region: "CA".into(),
        };
        let mut findings = Vec::new();
        note(&plan(Phase::Bound, Some(Step::UpdateJob { job_id: "jb_1".into(), terms })), &mut findings);
        assert_eq!(findings[0].severity, Severity::Warning, "coverage goes on");
        note(&plan(Phase::Provisioning, None), &mut findings);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Blocking, "the plan stops on it");
        note(&plan(Phase::Bound, None), &mut findings);
        assert_eq!(findings[0].severity, Severity::Blocking, "never lowered again");
    }
}
