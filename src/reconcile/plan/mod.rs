//! Decide: a pure function of (spec, status, facts, context) that says where the binding stands
//! and which single external write comes next. This is where the integration guide's rules live.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::conditions::{ConditionStatus, Desired};
use super::facts::{Facts, PdfFact, WorkOrderFacts, WorkStage, WorkerFacts};
use super::steps::Step;
use crate::resources::{
    ConditionType as C, CoverageBindingSpec, CoverageBindingStatus, ObservedWorkOrder, Phase, Trigger,
};

/// Operator-wide settings and the clock.
#[derive(Clone, Debug)]
pub struct Context {
    /// The clock reading all of this plan's decisions use.
    pub now: Timestamp,
    /// Entity for bindings that name none.
    pub default_entity: Option<String>,
    /// Domain of proxy e-mail addresses for workers without one.
    pub proxy_email_domain: Option<String>,
    /// WorkMarket's web address, for the default application return URLs.
    pub workmarket_web_url: String,
    /// How far in the future a coverage start must be for 1099Policy to accept it.
    pub effective_margin: SignedDuration,
    /// How long 1099Policy's category codes and entities are trusted once read: a binding held
    /// back by them looks again after this long.
    pub listings_ttl: Duration,
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
    /// PascalCase reason of the `Synced=False` condition, e.g. `ContractorIncomplete`.
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
    let Decision { phase, step, wait, problem } = p.decide();
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
        work_order: facts.work_order.as_ref().map(|wo| observed_work_order(wo, spec)),
        step,
        wait,
        problem,
    }
}

fn ready_reason(phase: Phase, problem: Option<&Problem>, conditions: &[Desired]) -> (String, String) {
    // What blocks a binding explains it best.
    let blocking = [C::WorkerMismatch, C::ContractorConflict, C::ContractorIncomplete, C::CategoryUnmapped];
    if phase == Phase::Failed
        && let Some(problem) = problem
    {
        return (problem.reason.to_owned(), problem.message.clone());
    }
    let explains = |c: &&Desired| {
        (blocking.contains(&c.type_) && c.status == ConditionStatus::True)
            || (phase == Phase::Failed && c.status == ConditionStatus::False && c.type_ != C::Ready)
    };
    if !matches!(phase, Phase::Bound | Phase::Completed)
        && let Some(c) = conditions.iter().find(explains)
    {
        return (c.reason.clone(), c.message.clone());
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

fn observed_work_order(wo: &WorkOrderFacts, spec: &CoverageBindingSpec) -> ObservedWorkOrder {
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
        last_modified: time(wo.last_modified),
    }
}

/// Where a binding stands and what comes next, before conditions are settled.
struct Decision {
    phase: Phase,
    step: Option<Step>,
    wait: Wait,
    problem: Option<Problem>,
}

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
        if self.facts.deleting {
            return self.released();
        }
        let Some(wo) = self.facts.work_order.as_ref() else { return self.not_found() };
        if wo.stage == WorkStage::Cancelled {
            return self.cancelled(wo);
        }
        let provisioned = self.status.contractor_id.is_some();
        if !provisioned && !self.triggered(wo.stage) {
            return self.before_trigger(wo);
        }
        let Some(worker) = wo.worker.as_ref() else {
            self.note = Some(format!("work order {} has no assigned worker yet", wo.id));
            return Decision { phase: Phase::WaitingForTrigger, step: None, wait: Wait::ForChange, problem: None };
        };
        if let Some(mismatch) = self.worker_mismatch(worker) {
            self.conditions.push(Desired::yes(C::WorkerMismatch, "WorkerMismatch", mismatch));
            return Decision { phase: Phase::Failed, step: None, wait: Wait::ForChange, problem: None };
        }
        if !provisioned && matches!(wo.stage, WorkStage::Complete | WorkStage::Paid) {
            self.uninsured(wo, false);
            let message = format!("work order {} finished before any coverage was in place", wo.id);
            return Decision {
                phase: Phase::Failed,
                step: None,
                wait: Wait::ForChange,
                problem: problem("CompletedUninsured", message),
            };
        }

        // What the coverage needs is checked before the first write, so no contractor is
        // created for a job 1099Policy would refuse or a certificate that is not there.
        if self.spec.certificate.is_none()
            && self.status.job_id.is_none()
            && let Err(decision) = self.job_inputs(wo)
        {
            return *decision;
        }
        if !provisioned && let Some(PdfFact::Missing { detail }) = &self.facts.pdf {
            return self.certificate_missing(wo, detail);
        }
        let Some(contractor_id) = self.status.contractor_id.clone() else {
            return self.contractor(wo, worker);
        };
        if self.spec.certificate.is_some() {
            return self.own_certificate(wo, contractor_id);
        }
        self.policy_coverage(wo, contractor_id)
    }

    fn not_found(&self) -> Decision {
        let message = format!(
            "WorkMarket does not know work order {} or does not show it to this API user",
            self.spec.work_order_id
        );
        Decision {
            phase: Phase::Failed,
            step: None,
            wait: Wait::Poll(Duration::from_secs(600)),
            problem: problem("WorkOrderNotFound", message),
        }
    }

    /// Nothing is written before the trigger, but what would block the first write is shown:
    /// a category code or an entity 1099Policy would refuse.
    fn before_trigger(&mut self, wo: &WorkOrderFacts) -> Decision {
        let waits_for = match self.spec.trigger {
            Trigger::Assigned => "assigned",
            Trigger::InProgress => "in progress (the worker checked in)",
        };
        self.note = Some(format!(
            "waiting for work order {} to be {waits_for}; WorkMarket status is {}",
            wo.id, wo.status_code
        ));
        let refused_code = self.show_category_problem();
        let unknown = self.unknown_entity();
        // What 1099Policy's lists refused may be approved there: look again at their next read.
        let wait = if refused_code || unknown.is_some() { Wait::Poll(self.ctx.listings_ttl) } else { Wait::ForChange };
        Decision { phase: Phase::WaitingForTrigger, step: None, wait, problem: unknown }
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
}

mod cancel;
mod certificate;
mod contractor;
mod coverage;

pub use contractor::contractor_draft;

#[cfg(test)]
mod tests;
