//! Decide: a pure function of (spec, status, facts, context) that says where the binding stands
//! and which single external write comes next. This is where the integration guide's rules live.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::conditions::Desired;
use super::facts::{CategoryFact, Facts, PdfFact, WorkOrderFacts, WorkStage, WorkerFacts};
use super::steps::{ContractorDraft, Coverage, JobDraft, Step};
use crate::resources::{
    CertificateStatus, ConditionType as C, CoverageBindingSpec, CoverageBindingStatus, JobTerms, ObservedWorkOrder,
    Phase, PolicyStatus, Trigger,
};

/// Operator-wide settings and the clock.
#[derive(Clone, Debug)]
pub struct Context {
    /// Now.
    pub now: Timestamp,
    /// Entity for bindings that name none.
    pub default_entity: Option<String>,
    /// Domain of proxy e-mail addresses for workers without one.
    pub proxy_email_domain: Option<String>,
    /// WorkMarket's web address, for the default application return URLs.
    pub workmarket_web_url: String,
    /// How far in the future a coverage start must be for 1099Policy to accept it.
    pub effective_margin: SignedDuration,
}

/// How soon to look again when there is nothing to do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Only when something changes (a webhook, an edit); the runtime's slow resync still applies.
    ForChange,
    /// Poll, because the change may come without a webhook.
    Poll(Duration),
}

/// A reason the flow cannot go on until a person acts, reported as `Synced=False`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// PascalCase reason.
    pub reason: &'static str,
    /// What to fix.
    pub message: String,
}

/// The decision for one binding.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Phase to report.
    pub phase: Phase,
    /// Conditions other than Synced (the driver knows whether the reconcile succeeded).
    pub conditions: Vec<Desired>,
    /// The work order as observed.
    pub work_order: Option<ObservedWorkOrder>,
    /// The next external write, if any.
    pub step: Option<Step>,
    /// When to look again if `step` is `None`.
    pub wait: Wait,
    /// A blocking configuration problem, if any.
    pub problem: Option<Problem>,
}

/// How often to look for a policy when the application may finish without a webhook.
pub const APPLICATION_POLL: Duration = Duration::from_secs(300);
/// How often to look at a certificate under review.
pub const CERTIFICATE_POLL: Duration = Duration::from_secs(120);

/// Decides the next step for a binding.
pub fn plan(spec: &CoverageBindingSpec, status: &CoverageBindingStatus, facts: &Facts, ctx: &Context) -> Plan {
    let mut p = Planner { spec, status, facts, ctx, conditions: Vec::new(), note: None };
    let (phase, step, wait, problem) = p.decide();
    let ready = matches!(phase, Phase::Bound | Phase::Completed);
    let (reason, message) = match p.note.take() {
        Some(note) => (format!("{phase:?}"), note),
        None => ready_reason(phase, problem.as_ref(), &p.conditions),
    };
    p.conditions.push(if ready {
        Desired::yes(C::Ready, reason, message)
    } else {
        Desired::no(C::Ready, reason, message)
    });
    Plan {
        phase,
        conditions: p.conditions,
        work_order: facts.work_order.as_ref().map(|wo| observe(wo, spec)),
        step,
        wait,
        problem,
    }
}

fn ready_reason(phase: Phase, problem: Option<&Problem>, conditions: &[Desired]) -> (String, String) {
    // What blocks a Failed binding explains it best.
    let blocking = [C::WorkerMismatch, C::ContractorConflict, C::ContractorIncomplete, C::CategoryUnmapped];
    if phase == Phase::Failed {
        if let Some(problem) = problem {
            return (problem.reason.to_owned(), problem.message.clone());
        }
        if let Some(c) =
            conditions.iter().find(|c| blocking.contains(&c.type_) || (c.status == "False" && c.type_ != C::Ready))
        {
            return (c.reason.clone(), c.message.clone());
        }
    }
    let message = match phase {
        Phase::Pending => "not observed yet",
        Phase::WaitingForTrigger => "waiting for the work order to reach the trigger state",
        Phase::Provisioning => "creating the 1099Policy contractor, job and quote",
        Phase::AwaitingApplication => "the worker must finish the 1099Policy application at status.applicationUrl",
        Phase::AwaitingCertificateReview => "1099Policy is reviewing the worker's certificate",
        Phase::Bound => "coverage is in force for this work order",
        Phase::NeedsReview => "the worker's certificate was flagged and needs a person to review it",
        Phase::Unprotected => "coverage was in force and is not any more",
        Phase::Cancelled => "the work order was voided or cancelled",
        Phase::Completed => "the work order finished while covered",
        Phase::Failed => "a person must act; see the other conditions",
    };
    (format!("{phase:?}"), message.to_owned())
}

/// Stable region: the binding's override, else the work location, else the worker's home.
fn region(spec: &CoverageBindingSpec, wo: &WorkOrderFacts) -> Option<String> {
    spec.region
        .clone()
        .or_else(|| wo.location_region.clone())
        .or_else(|| wo.worker.as_ref().and_then(|w| w.address.region.clone()))
}

fn observe(wo: &WorkOrderFacts, spec: &CoverageBindingSpec) -> ObservedWorkOrder {
    let time = |t: Option<Timestamp>| t.map(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time);
    ObservedWorkOrder {
        status: Some(wo.status_code.clone()),
        title: Some(wo.title.clone()),
        wage_cents: wo.wage.as_ref().ok().map(|(c, _)| c.get()),
        wage_type: wo.wage.as_ref().ok().map(|(_, t)| *t),
        window_start: time(wo.window_start),
        window_end: time(wo.window_end),
        region: region(spec, wo),
        worker_id: wo.worker.as_ref().map(|w| w.id.clone()),
        worker_name: wo.worker.as_ref().map(|w| format!("{} {}", w.first_name, w.last_name).trim().to_owned()),
    }
}

type Decision = (Phase, Option<Step>, Wait, Option<Problem>);

struct Planner<'a> {
    spec: &'a CoverageBindingSpec,
    status: &'a CoverageBindingStatus,
    facts: &'a Facts,
    ctx: &'a Context,
    conditions: Vec<Desired>,
    /// A more specific Ready message than the phase's.
    note: Option<String>,
}

fn problem(reason: &'static str, message: impl Into<String>) -> Option<Problem> {
    Some(Problem { reason, message: message.into() })
}

impl Planner<'_> {
    fn decide(&mut self) -> Decision {
        let Some(wo) = self.facts.work_order.as_ref() else {
            let message = format!(
                "WorkMarket does not know work order {} or does not show it to this API user",
                self.spec.work_order_id
            );
            return (Phase::Failed, None, Wait::Poll(Duration::from_secs(600)), problem("WorkOrderNotFound", message));
        };
        if wo.stage == WorkStage::Cancelled {
            return self.cancelled(wo);
        }
        let provisioned = self.status.contractor_id.is_some();
        if !provisioned && !self.triggered(wo.stage) {
            let waits_for = match self.spec.trigger {
                Trigger::Assigned => "assigned",
                Trigger::InProgress => "in progress (the worker checked in)",
            };
            self.note = Some(format!(
                "waiting for work order {} to be {waits_for}; WorkMarket status is {}",
                wo.id, wo.status_code
            ));
            return (Phase::WaitingForTrigger, None, Wait::ForChange, None);
        }
        let Some(worker) = wo.worker.as_ref() else {
            self.note = Some(format!("work order {} has no assigned worker yet", wo.id));
            return (Phase::WaitingForTrigger, None, Wait::ForChange, None);
        };
        if let Some(mismatch) = self.worker_mismatch(worker) {
            self.conditions.push(Desired::yes(C::WorkerMismatch, "WorkerMismatch", mismatch));
            return (Phase::Failed, None, Wait::ForChange, None);
        }
        if !provisioned && matches!(wo.stage, WorkStage::Complete | WorkStage::Paid) {
            self.uninsured(wo, false);
            let message = format!("work order {} finished before any coverage was in place", wo.id);
            return (Phase::Failed, None, Wait::ForChange, problem("CompletedUninsured", message));
        }

        let Some(contractor_id) = self.status.contractor_id.clone() else {
            return self.contractor(wo, worker);
        };
        if self.spec.certificate.is_some() {
            return self.own_certificate(wo, contractor_id);
        }
        self.policy_coverage(wo, contractor_id)
    }

    fn triggered(&self, stage: WorkStage) -> bool {
        match self.spec.trigger {
            Trigger::Assigned => stage != WorkStage::Open,
            Trigger::InProgress => stage.started(),
        }
    }

    fn worker_mismatch(&self, worker: &WorkerFacts) -> Option<String> {
        if let Some(expected) = self.spec.worker_id.as_deref().filter(|e| *e != worker.id) {
            return Some(format!(
                "spec.workerId is {expected} but WorkMarket shows worker {} on the work order",
                worker.id
            ));
        }
        let recorded = self.status.work_order.as_ref().and_then(|w| w.worker_id.as_deref());
        match recorded {
            Some(before) if self.status.contractor_id.is_some() && before != worker.id => Some(format!(
                "coverage was provisioned for worker {before}, but WorkMarket now shows worker {}; create a new CoverageBinding for the new worker",
                worker.id
            )),
            _ => None,
        }
    }

    fn contractor(&mut self, wo: &WorkOrderFacts, worker: &WorkerFacts) -> Decision {
        if let Some(conflict) = &self.facts.contractor_conflict {
            self.conditions.push(Desired::yes(C::ContractorConflict, "ContractorConflict", conflict.clone()));
            return (Phase::Failed, None, Wait::ForChange, None);
        }
        match contractor_draft(self.spec, worker, self.ctx.proxy_email_domain.as_deref()) {
            Ok(draft) => {
                self.uninsured(wo, false);
                (Phase::Provisioning, Some(Step::CreateContractor(draft)), Wait::ForChange, None)
            }
            Err(missing) => {
                let message = format!(
                    "1099Policy needs {} for the contractor, and neither WorkMarket's record of worker {} nor spec.contractor has it",
                    missing.join(", "),
                    worker.id
                );
                self.conditions.push(Desired::yes(C::ContractorIncomplete, "ContractorIncomplete", message));
                self.uninsured(wo, false);
                (Phase::Failed, None, Wait::ForChange, None)
            }
        }
    }

    fn own_certificate(&mut self, wo: &WorkOrderFacts, contractor_id: String) -> Decision {
        let pdf = match &self.facts.pdf {
            Some(PdfFact::Present { bytes, digest }) => Some((bytes, digest)),
            Some(PdfFact::Missing { detail }) => {
                self.conditions.push(Desired::no(C::CertificateValid, "CertificateMissing", detail.clone()));
                self.uninsured(wo, false);
                return (Phase::Failed, None, Wait::ForChange, problem("CertificateMissing", detail.clone()));
            }
            None => None,
        };
        let uploaded_matches = self.status.certificate_id.is_some()
            && pdf.is_none_or(|(_, digest)| self.status.certificate_digest.as_deref() == Some(digest.as_str()));
        if !uploaded_matches && let Some((bytes, digest)) = pdf {
            self.uninsured(wo, false);
            let step = Step::UploadCertificate {
                contractor_id,
                pdf: bytes.clone(),
                digest: digest.clone(),
                work_order_id: wo.id.clone(),
            };
            return (Phase::Provisioning, Some(step), Wait::ForChange, None);
        }
        let status = self.facts.certificate.as_ref().map(|c| c.status).or(self.status.certificate_status);
        let (phase, wait) = match status {
            Some(CertificateStatus::Approved) => {
                self.conditions.push(Desired::yes(
                    C::CertificateValid,
                    "Approved",
                    "1099Policy approved the worker's certificate",
                ));
                (self.finished_or(wo, Phase::Bound), Wait::ForChange)
            }
            Some(CertificateStatus::Flagged) => {
                self.conditions.push(Desired::no(
                    C::CertificateValid,
                    "Flagged",
                    "1099Policy flagged the certificate for manual review",
                ));
                (Phase::NeedsReview, Wait::Poll(CERTIFICATE_POLL))
            }
            Some(CertificateStatus::Denied) => {
                self.conditions.push(Desired::no(
                    C::CertificateValid,
                    "Denied",
                    "1099Policy denied the certificate; upload a new PDF to the Secret",
                ));
                (Phase::Failed, Wait::ForChange)
            }
            Some(CertificateStatus::Error) => {
                self.conditions.push(Desired::no(
                    C::CertificateValid,
                    "ProcessingError",
                    "1099Policy could not process the certificate PDF; upload a readable PDF",
                ));
                (Phase::Failed, Wait::ForChange)
            }
            Some(CertificateStatus::Pending | CertificateStatus::Processing) | None => {
                self.conditions.push(Desired::unknown(
                    C::CertificateValid,
                    "UnderReview",
                    "1099Policy is reviewing the certificate",
                ));
                (Phase::AwaitingCertificateReview, Wait::Poll(CERTIFICATE_POLL))
            }
        };
        self.uninsured(wo, phase == Phase::Bound || phase == Phase::Completed);
        (phase, None, wait, None)
    }

    /// Category, entity, wage, region and window: what a job and a quote need.
    fn job_inputs(&mut self, wo: &WorkOrderFacts) -> Result<(JobTerms, String, (Timestamp, Timestamp)), Box<Decision>> {
        let code = match &self.facts.category {
            CategoryFact::Direct(code) => code.clone(),
            CategoryFact::Mapped { chosen, .. } => chosen.code.clone(),
            CategoryFact::Unmapped { mapping, detail } => {
                let message = format!(
                    "no rule of CategoryMapping {mapping} matches this work order ({detail}) and it has no defaultCategoryCode"
                );
                return Err(self.blocked_by_condition(wo, C::CategoryUnmapped, "CategoryUnmapped", message));
            }
            CategoryFact::MappingMissing { mapping } => {
                let message = format!("CategoryMapping {mapping} does not exist; create it or set spec.categoryCode");
                return Err(self.blocked_by_condition(wo, C::CategoryUnmapped, "CategoryMappingMissing", message));
            }
            CategoryFact::NotNeeded => {
                unreachable!("the observer resolves the category for policy coverage")
            }
        };
        let Some(entity) = self.spec.entity.clone().or_else(|| self.ctx.default_entity.clone()) else {
            return Err(self.blocked(
                wo,
                "EntityMissing",
                "spec.entity is not set and the operator has no default entity (COVERBRIDGE_DEFAULT_ENTITY)",
            ));
        };
        let (wage, wage_type) = match &wo.wage {
            Ok(wage) => *wage,
            Err(why) => {
                return Err(self.blocked(wo, "UnsupportedPricing", format!("cannot derive a 1099Policy wage: {why}")));
            }
        };
        let Some(region) = region(self.spec, wo) else {
            return Err(self.blocked(
                wo,
                "RegionUnknown",
                "the work location has no state and neither does the worker's address; set spec.region",
            ));
        };
        let (Some(start), Some(end)) = (wo.window_start, wo.window_end) else {
            return Err(self.blocked(
                wo,
                "ScheduleMissing",
                format!("work order {} has no schedule window to cover", wo.id),
            ));
        };
        let terms = JobTerms { category_code: code, wage_cents: wage.get(), wage_type, region };
        Ok((terms, entity, (start, end)))
    }

    fn blocked(&mut self, wo: &WorkOrderFacts, reason: &'static str, message: impl Into<String>) -> Box<Decision> {
        self.uninsured(wo, false);
        Box::new((Phase::Failed, None, Wait::ForChange, problem(reason, message)))
    }

    fn blocked_by_condition(
        &mut self,
        wo: &WorkOrderFacts,
        type_: C,
        reason: &'static str,
        message: String,
    ) -> Box<Decision> {
        self.conditions.push(Desired::yes(type_, reason, message));
        self.uninsured(wo, false);
        Box::new((Phase::Failed, None, Wait::ForChange, None))
    }

    fn policy_coverage(&mut self, wo: &WorkOrderFacts, contractor_id: String) -> Decision {
        let (terms, entity, window) = match self.job_inputs(wo) {
            Ok(inputs) => inputs,
            Err(decision) => return *decision,
        };
        let Some(job_id) = self.status.job_id.clone() else {
            self.insured(false, "Provisioning", "creating the 1099Policy job");
            self.uninsured(wo, false);
            let draft = JobDraft {
                name: format!("WO {} — {}", wo.id, wo.title),
                description: if wo.description.trim().is_empty() { wo.title.clone() } else { wo.description.clone() },
                entity,
                terms,
                work_order_id: wo.id.clone(),
            };
            return (Phase::Provisioning, Some(Step::CreateJob(draft)), Wait::ForChange, None);
        };
        let mut job_problem = None;
        let job_current = self.status.job_terms.as_ref() == Some(&terms);
        if !job_current {
            if self.status.refused_job_terms.as_ref() != Some(&terms) {
                return self.with_coverage_state(wo, Some(Step::UpdateJob { job_id, terms }));
            }
            job_problem = problem(
                "JobNotUpdatable",
                "WorkMarket changed the work order's pay, category or place, and 1099Policy refuses to update a job that is in use or invoiced",
            );
        }
        let coverage = self.coverage(window);
        let decision = self.coverage_step(wo, contractor_id, job_id, coverage);
        match (decision, job_problem) {
            ((phase, step, wait, None), Some(p)) => (phase, step, wait, Some(p)),
            (decision, _) => decision,
        }
    }

    /// Coverage state without a new step; used when a job update must go first.
    fn with_coverage_state(&mut self, wo: &WorkOrderFacts, step: Option<Step>) -> Decision {
        let insured = self.in_force();
        self.insured(insured, if insured { "InForce" } else { "Provisioning" }, "");
        self.uninsured(wo, insured);
        let phase = if insured { self.finished_or(wo, Phase::Bound) } else { Phase::Provisioning };
        (phase, step, Wait::ForChange, None)
    }

    /// Whether coverage is in force, from what was read, else from what status recorded.
    fn in_force(&self) -> bool {
        if self.facts.assignment.as_ref().is_some_and(|a| a.cancelled || !a.eligible) {
            return false;
        }
        match &self.facts.policy {
            Some(policy) => policy.status == PolicyStatus::Active,
            None => self.status.policy_status == Some(PolicyStatus::Active),
        }
    }

    /// The window 1099Policy will accept for this work order: the start no earlier than now plus
    /// the margin, the end at least a day after the start and at most a year.
    fn coverage(&mut self, window: (Timestamp, Timestamp)) -> Coverage {
        let earliest = self.ctx.now + self.ctx.effective_margin;
        let effective = window.0.max(earliest);
        let end = window
            .1
            .max(effective + SignedDuration::from_hours(24))
            .min(effective + SignedDuration::from_hours(24 * 365));
        Coverage { types: self.spec.coverage_types.clone(), effective, end, window }
    }

    fn coverage_step(
        &mut self,
        wo: &WorkOrderFacts,
        contractor_id: String,
        job_id: String,
        coverage: Coverage,
    ) -> Decision {
        // The coverage actually in force, or about to be requested, may start after the work.
        let starts = self
            .facts
            .assignment
            .as_ref()
            .and_then(|a| a.effective)
            .filter(|_| self.status.assignment_id.is_some())
            .unwrap_or(coverage.effective);
        if starts > coverage.window.0 {
            let message = format!(
                "coverage starts at {starts}, after the work order's start at {}: 1099Policy accepts only future start dates",
                coverage.window.0
            );
            self.conditions.push(Desired::yes(C::EffectiveDateClamped, "EffectiveDateClamped", message));
        }
        if self.status.assignment_id.is_some() || self.facts.matching_policy {
            return self.assignment_coverage(wo, contractor_id, job_id, coverage);
        }
        let Some(quote_id) = self.status.quote_id.clone() else {
            self.insured(false, "Provisioning", "quoting the coverage");
            self.uninsured(wo, false);
            let step = Step::CreateQuote { contractor_id, job_id, coverage, work_order_id: wo.id.clone() };
            return (Phase::Provisioning, Some(step), Wait::ForChange, None);
        };
        if self.facts.quote.as_ref().is_some_and(|q| !q.eligible) {
            self.insured(
                false,
                "NotEligible",
                "1099Policy will not insure this contractor for this job (quote not eligible)",
            );
            self.uninsured(wo, false);
            return (Phase::Failed, None, Wait::ForChange, None);
        }
        if let Some(policy) = &self.facts.policy {
            return self.policy_state(wo, policy.status, job_id, contractor_id);
        }
        let session_usable =
            self.status.application_session_id.is_some() && self.facts.session.as_ref().is_none_or(|s| !s.expired);
        if !session_usable {
            self.insured(false, "AwaitingApplication", "starting the worker's insurance application");
            self.uninsured(wo, false);
            let default_url =
                format!("{}/assignments/details/{}", self.ctx.workmarket_web_url.trim_end_matches('/'), wo.id);
            let urls = self.spec.application.as_ref();
            let step = Step::CreateSession {
                replaces: self.status.application_session_id.clone(),
                quote_id,
                success_url: urls
                    .and_then(|u| u.success_url.clone())
                    .unwrap_or_else(|| format!("{default_url}?coverage=active")),
                cancel_url: urls
                    .and_then(|u| u.cancel_url.clone())
                    .unwrap_or_else(|| format!("{default_url}?coverage=canceled")),
                work_order_id: wo.id.clone(),
            };
            return (Phase::Provisioning, Some(step), Wait::ForChange, None);
        }
        self.insured(false, "AwaitingApplication", "the worker has not finished the 1099Policy application");
        self.uninsured(wo, false);
        (Phase::AwaitingApplication, None, Wait::Poll(APPLICATION_POLL), None)
    }

    fn policy_state(
        &mut self,
        wo: &WorkOrderFacts,
        status: PolicyStatus,
        job_id: String,
        contractor_id: String,
    ) -> Decision {
        match status {
            PolicyStatus::Active => {
                self.insured(true, "PolicyActive", "the worker's 1099Policy policy is active");
                self.uninsured(wo, true);
                let phase = self.finished_or(wo, Phase::Bound);
                (phase, self.invoice(wo, contractor_id, job_id), Wait::ForChange, None)
            }
            PolicyStatus::Cancelled | PolicyStatus::Expired => {
                let word = if status == PolicyStatus::Cancelled { "cancelled" } else { "expired" };
                let reason = if status == PolicyStatus::Cancelled { "PolicyCancelled" } else { "PolicyExpired" };
                self.insured(false, reason, format!("the 1099Policy policy was {word}"));
                self.uninsured(wo, false);
                (Phase::Unprotected, None, Wait::ForChange, None)
            }
        }
    }

    fn assignment_coverage(
        &mut self,
        wo: &WorkOrderFacts,
        contractor_id: String,
        job_id: String,
        coverage: Coverage,
    ) -> Decision {
        if self.status.assignment_id.is_none() {
            self.insured(false, "Provisioning", "covering the job under the worker's existing policy");
            self.uninsured(wo, false);
            let step = Step::CreateAssignment { contractor_id, job_id, coverage, work_order_id: wo.id.clone() };
            return (Phase::Provisioning, Some(step), Wait::ForChange, None);
        }
        let Some(assignment) = self.facts.assignment.clone() else {
            // Not read this time (e.g. just created): trust what status says.
            let insured = self.status.policy_status == Some(PolicyStatus::Active);
            self.insured(insured, if insured { "AssignmentActive" } else { "Provisioning" }, "");
            self.uninsured(wo, insured);
            let phase = if insured { self.finished_or(wo, Phase::Bound) } else { Phase::Provisioning };
            return (phase, None, Wait::ForChange, None);
        };
        if assignment.cancelled {
            self.insured(false, "AssignmentCancelled", "the 1099Policy assignment was cancelled");
            self.uninsured(wo, false);
            return (Phase::Unprotected, None, Wait::ForChange, None);
        }
        if !assignment.eligible {
            let why = assignment
                .eligibility_message
                .clone()
                .unwrap_or_else(|| "1099Policy found the assignment not eligible".into());
            self.insured(false, "NotEligible", why);
            self.uninsured(wo, false);
            return (Phase::Failed, None, Wait::ForChange, None);
        }
        if let Some(policy) = &self.facts.policy
            && policy.status != PolicyStatus::Active
        {
            return self.policy_state(wo, policy.status, job_id, contractor_id);
        }
        self.insured(true, "AssignmentActive", "the job is covered under the worker's existing policy");
        self.uninsured(wo, true);
        let phase = self.finished_or(wo, Phase::Bound);
        // A rescheduled work order that now ends later: extend the assignment to match.
        let rescheduled_later = assignment.end.is_some_and(|end| end < coverage.end);
        if rescheduled_later && matches!(wo.stage, WorkStage::Assigned | WorkStage::InProgress) {
            return (phase, Some(Step::ExtendAssignment { job_id, end: coverage.end }), Wait::ForChange, None);
        }
        (phase, self.invoice(wo, contractor_id, job_id), Wait::ForChange, None)
    }

    fn invoice(&self, wo: &WorkOrderFacts, contractor_id: String, job_id: String) -> Option<Step> {
        if self.status.invoice_id.is_some() {
            return None;
        }
        if let Some(invoice) = &self.spec.invoice {
            return Some(Step::CreateInvoice {
                contractor_id,
                job_id,
                gross_pay: crate::money::Cents(invoice.gross_pay),
                start: invoice.paycycle_start.0,
                end: invoice.paycycle_end.0,
            });
        }
        let wage = self.status.job_terms.as_ref().map(|t| t.wage_cents);
        match (wo.stage, wo.total_cost, wo.window_start, wo.window_end) {
            (WorkStage::Paid, Some(total), Some(start), Some(end)) if Some(total.get()) != wage => {
                Some(Step::CreateInvoice { contractor_id, job_id, gross_pay: total, start, end })
            }
            _ => None,
        }
    }

    fn finished_or(&self, wo: &WorkOrderFacts, phase: Phase) -> Phase {
        if matches!(wo.stage, WorkStage::Complete | WorkStage::Paid) { Phase::Completed } else { phase }
    }

    fn insured(&mut self, yes: bool, reason: &str, message: impl Into<String>) {
        let mut message = message.into();
        if message.is_empty() {
            message = if yes { "coverage is in force".into() } else { "coverage is not in force yet".into() };
        }
        self.conditions.push(if yes {
            Desired::yes(C::Insured, reason, message)
        } else {
            Desired::no(C::Insured, reason, message)
        });
    }

    /// The one fact a compliance team must never miss: work going on with nothing covering it.
    fn uninsured(&mut self, wo: &WorkOrderFacts, covered: bool) {
        if wo.stage.started() && !covered {
            let who = wo.worker.as_ref().map_or_else(String::new, |w| format!(" by worker {}", w.id));
            let message = format!(
                "work on work order {} has started{who} (WorkMarket status {}) and no coverage is in force",
                wo.id, wo.status_code
            );
            self.conditions.push(Desired::yes(C::WorkStartedUninsured, "WorkStartedUninsured", message));
        }
    }

    fn cancelled(&mut self, wo: &WorkOrderFacts) -> Decision {
        self.note =
            Some(format!("work order {} was voided or cancelled (WorkMarket status {})", wo.id, wo.status_code));
        let step = match (&self.status.job_id, &self.facts.assignment) {
            (Some(job_id), Some(a)) if self.status.assignment_id.is_some() && !a.cancelled => {
                if a.effective.is_none_or(|start| self.ctx.now < start) {
                    Some(Step::CancelAssignment { job_id: job_id.clone() })
                } else {
                    let message = "the work order was cancelled after its 1099Policy assignment started; 1099Policy cancels only assignments that have not started";
                    self.insured(true, "AssignmentStarted", message);
                    None
                }
            }
            _ => None,
        };
        let step = step.or_else(|| {
            let open = self.facts.session.as_ref().is_some_and(|s| !s.expired) && self.facts.policy.is_none();
            self.status
                .application_session_id
                .clone()
                .filter(|_| open)
                .map(|session_id| Step::ExpireSession { session_id })
        });
        (Phase::Cancelled, step, Wait::ForChange, None)
    }
}

/// A contractor for `worker`, or the names of what 1099Policy requires and nobody provided.
pub fn contractor_draft(
    spec: &CoverageBindingSpec,
    worker: &WorkerFacts,
    proxy_domain: Option<&str>,
) -> Result<ContractorDraft, Vec<&'static str>> {
    let overrides = spec.contractor.as_ref();
    let mut missing = Vec::new();
    let email = overrides
        .and_then(|o| o.email.clone())
        .or_else(|| worker.email.clone())
        .or_else(|| proxy_domain.map(|d| format!("{}@{}", worker.id, d.trim_start_matches('@'))));
    if email.is_none() {
        missing.push("an e-mail (set COVERBRIDGE_PROXY_EMAIL_DOMAIN for workers without one)");
    }
    let phone = overrides.and_then(|o| o.phone.clone()).or_else(|| worker.phone.clone());
    if phone.is_none() {
        missing.push("a phone number");
    }
    let mut address = worker.address.clone();
    if let Some(o) = overrides.and_then(|o| o.address.as_ref()) {
        let pick = |over: &Option<String>, have: &mut Option<String>| {
            if over.is_some() {
                *have = over.clone();
            }
        };
        pick(&o.line1, &mut address.line1);
        pick(&o.line2, &mut address.line2);
        pick(&o.city, &mut address.city);
        pick(&o.region, &mut address.region);
        pick(&o.postal_code, &mut address.postal_code);
        pick(&o.country, &mut address.country);
    }
    if address.region.is_none() {
        missing.push("the address region (state)");
    }
    if address.country.is_none() {
        missing.push("the address country");
    }
    if worker.first_name.trim().is_empty() || worker.last_name.trim().is_empty() {
        missing.push("first and last name");
    }
    match (email, phone, missing.is_empty()) {
        (Some(email), Some(phone), true) => Ok(ContractorDraft {
            worker_id: worker.id.clone(),
            first_name: worker.first_name.clone(),
            last_name: worker.last_name.clone(),
            email,
            phone,
            address,
        }),
        _ => Err(missing),
    }
}

#[cfg(test)]
mod tests;
