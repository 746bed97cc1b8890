//! Policy coverage: the job (and its updates), the quote with its clamped window, then either the
//! worker's application and policy or an assignment under the policy they hold, and the invoice.

const REGION_UNKNOWN: &str = "the work location has no state and neither does the worker's address; set spec.region";

fn schedule(wo: &WorkOrderFacts) -> Option<(Timestamp, Timestamp)> {
    wo.window_start.zip(wo.window_end)
}

fn schedule_missing(wo: &WorkOrderFacts) -> String {
    format!("work order {} has no schedule window to cover", wo.id)
}

use jiff::{SignedDuration, Timestamp};

use super::{APPLICATION_POLL, Decision, Planner, Problem, Wait, problem, region};
use crate::reconcile::conditions::Desired;
use crate::reconcile::facts::{CategoryFact, Listing, WorkOrderFacts, WorkStage};
use crate::reconcile::steps::{Coverage, JobDraft, Step};
use crate::resources::{ConditionType as C, JobTerms, Phase, PolicyStatus};

/// What a new job needs (its quote needs the schedule too), all known before anything is written.
pub(super) struct JobInputs {
    terms: JobTerms,
    entity: String,
}

impl Planner<'_> {
    /// The job category code for a job still to be created, or the condition that blocks it:
    /// no code, or one 1099Policy would refuse.
    fn category_code(&self) -> Result<String, Desired> {
        let unmapped = |reason: &str, message: String| Desired::yes(C::CategoryUnmapped, reason, message);
        if let Some((code, source, listing)) = self.facts.category.chosen() {
            return match listing {
                Listing::Listed | Listing::Unchecked => Ok(code.to_owned()),
                Listing::Unknown => Err(unmapped(
                    "UnknownCategoryCode",
                    format!(
                        "1099Policy does not know category code {code} (from {source}); nothing is written to 1099Policy until it is corrected"
                    ),
                )),
                Listing::NotApproved => Err(unmapped(
                    "UnapprovedCategoryCode",
                    format!(
                        "1099Policy has not approved category code {code} (from {source}) for this account; nothing is written to 1099Policy until it is approved or the code is changed"
                    ),
                )),
            };
        }
        match &self.facts.category {
            CategoryFact::Unmapped { mapping, detail } => Err(unmapped(
                "NoMatchingRule",
                format!(
                    "no rule of CategoryMapping {mapping} matches this work order ({detail}) and it has no defaultCategoryCode"
                ),
            )),
            CategoryFact::MappingMissing { mapping } => Err(unmapped(
                "MappingNotFound",
                format!("CategoryMapping {mapping} does not exist; create it or set spec.categoryCode"),
            )),
            _ => unreachable!("the observer resolves the category while the job does not exist"),
        }
    }

    /// Category, entity, wage, region and window of a job still to be created. Checked before
    /// the binding's first write, so nothing is created that a later step would have to refuse.
    pub(super) fn job_inputs(&mut self, wo: &WorkOrderFacts) -> Result<JobInputs, Box<Decision>> {
        let code = match self.category_code() {
            Ok(code) => code,
            Err(condition) => return Err(self.blocked_by_condition(wo, condition)),
        };
        let Some(entity) = self.spec.entity_or(self.ctx.default_entity.as_deref()).map(str::to_owned) else {
            return Err(self.blocked(
                wo,
                "EntityMissing",
                "spec.entity is not set and the operator has no default entity (COVERBRIDGE_DEFAULT_ENTITY)",
            ));
        };
        if let Some(unknown) = self.unknown_entity() {
            return Err(self.held_back(wo, unknown));
        }
        let (wage, wage_type) = match &wo.wage {
            Ok(wage) => *wage,
            Err(why) => {
                return Err(self.blocked(wo, "UnsupportedPricing", format!("cannot derive a 1099Policy wage: {why}")));
            }
        };
        let Some(region) = region(self.spec, wo) else {
            return Err(self.blocked(wo, "RegionUnknown", REGION_UNKNOWN));
        };
        if schedule(wo).is_none() {
            return Err(self.blocked(wo, "ScheduleMissing", schedule_missing(wo)));
        }
        let terms = JobTerms { category_code: code, wage_cents: wage.get(), wage_type, region };
        Ok(JobInputs { terms, entity })
    }

    /// The terms an existing job should have now: pay and place follow WorkMarket, the category
    /// stays what the job was created with (a mapping that changed or went away affects only
    /// what is still to be created).
    fn current_terms(&self, wo: &WorkOrderFacts, created: &JobTerms) -> Result<JobTerms, Problem> {
        let (wage, wage_type) = wo.wage.as_ref().map_err(|why| Problem {
            reason: "UnsupportedPricing",
            message: format!("cannot derive a 1099Policy wage for the job update: {why}"),
        })?;
        let region =
            region(self.spec, wo).ok_or_else(|| Problem { reason: "RegionUnknown", message: REGION_UNKNOWN.into() })?;
        Ok(JobTerms {
            category_code: created.category_code.clone(),
            wage_cents: wage.get(),
            wage_type: *wage_type,
            region,
        })
    }

    fn blocked(&mut self, wo: &WorkOrderFacts, reason: &'static str, message: impl Into<String>) -> Box<Decision> {
        self.uninsured(wo, false);
        Box::new(Decision {
            phase: Phase::Failed,
            step: None,
            wait: Wait::ForChange,
            problem: problem(reason, message),
        })
    }

    /// Blocked by a condition that fixing configuration clears (a mapping, say): nothing is
    /// written and the phase says how far the binding got, not `Failed`. A code 1099Policy
    /// refused is looked at again when its list is next read, since approval happens there.
    fn blocked_by_condition(&mut self, wo: &WorkOrderFacts, condition: Desired) -> Box<Decision> {
        // A chosen code that is blocked was refused by 1099Policy's list.
        let refused_code = self.facts.category.chosen().is_some();
        self.conditions.push(condition);
        self.uninsured(wo, false);
        let wait = if refused_code { Wait::Poll(self.ctx.listings_ttl) } else { Wait::ForChange };
        Box::new(Decision { phase: self.held_phase(), step: None, wait, problem: None })
    }

    /// Held back by something 1099Policy may list later (an entity): like a condition, the
    /// phase stays, nothing is written, and the list is read again after its refresh time.
    fn held_back(&mut self, wo: &WorkOrderFacts, unknown: Problem) -> Box<Decision> {
        self.uninsured(wo, false);
        self.note = Some(unknown.message.clone());
        let (phase, wait) = (self.held_phase(), Wait::Poll(self.ctx.listings_ttl));
        Box::new(Decision { phase, step: None, wait, problem: Some(unknown) })
    }

    /// The entity a new job would name, when 1099Policy does not list it.
    pub(super) fn unknown_entity(&self) -> Option<Problem> {
        if self.facts.entity != Some(Listing::Unknown) {
            return None;
        }
        let entity = self.spec.entity_or(self.ctx.default_entity.as_deref()).unwrap_or_default();
        let source = if self.spec.entity.is_some() { "spec.entity" } else { "COVERBRIDGE_DEFAULT_ENTITY" };
        let message = format!(
            "1099Policy does not list entity {entity} (from {source}) for this account; nothing is written to 1099Policy until it is corrected"
        );
        Some(Problem { reason: "UnknownEntity", message })
    }

    fn held_phase(&self) -> Phase {
        if self.status.contractor_id.is_some() { Phase::Provisioning } else { Phase::Pending }
    }

    /// Before the trigger: a category problem is shown already, so it can be fixed in time.
    /// Returns whether it is a code 1099Policy refused, which its list may change.
    pub(super) fn show_category_problem(&mut self) -> bool {
        let unresolved = self.spec.certificate.is_none() && self.status.job_id.is_none();
        if unresolved && let Err(condition) = self.category_code() {
            self.conditions.push(condition);
            return self.facts.category.chosen().is_some();
        }
        false
    }

    pub(super) fn policy_coverage(&mut self, wo: &WorkOrderFacts, contractor_id: String) -> Decision {
        let Some(job_id) = self.status.job_id.clone() else {
            let inputs = match self.job_inputs(wo) {
                Ok(inputs) => inputs,
                Err(decision) => return *decision,
            };
            self.insured(false, "Provisioning", "creating the 1099Policy job");
            self.uninsured(wo, false);
            let draft = JobDraft {
                name: format!("WO {} — {}", wo.id, wo.title),
                description: if wo.description.trim().is_empty() { wo.title.clone() } else { wo.description.clone() },
                entity: inputs.entity,
                terms: inputs.terms,
                work_order_id: wo.id.clone(),
            };
            return Decision {
                phase: Phase::Provisioning,
                step: Some(Step::CreateJob(draft)),
                wait: Wait::ForChange,
                problem: None,
            };
        };
        let job_problem = match self.job_update(wo, &job_id) {
            Ok(Some(step)) => return self.with_coverage_state(wo, Some(step)),
            Ok(None) => None,
            Err(problem) => Some(problem),
        };
        let Some(window) = schedule(wo) else {
            let state = self.with_coverage_state(wo, None);
            return Decision { problem: problem("ScheduleMissing", schedule_missing(wo)), ..state };
        };
        let coverage = self.coverage(window);
        let decision = self.coverage_step(wo, contractor_id, job_id, coverage);
        match (decision, job_problem) {
            (decision @ Decision { problem: None, .. }, Some(p)) => Decision { problem: Some(p), ..decision },
            (decision, _) => decision,
        }
    }

    /// An update of the existing job when WorkMarket changed its pay or place, unless
    /// 1099Policy already refused exactly that update; or why the job is left as it is.
    fn job_update(&self, wo: &WorkOrderFacts, job_id: &str) -> Result<Option<Step>, Problem> {
        let Some(created) = self.status.job_terms.as_ref() else { return Ok(None) };
        let terms = self.current_terms(wo, created)?;
        if terms == *created {
            return Ok(None);
        }
        if self.status.refused_job_terms.as_ref() != Some(&terms) {
            return Ok(Some(Step::UpdateJob { job_id: job_id.to_owned(), terms }));
        }
        Err(Problem {
            reason: "JobNotUpdatable",
            message: "WorkMarket changed the work order's pay or place, and 1099Policy refuses to update a job that is in use or invoiced".into(),
        })
    }

    /// Coverage state without a new step; used when a job update must go first.
    fn with_coverage_state(&mut self, wo: &WorkOrderFacts, step: Option<Step>) -> Decision {
        let insured = self.in_force();
        self.insured(insured, if insured { "InForce" } else { "Provisioning" }, "");
        self.uninsured(wo, insured);
        let phase = if insured { self.finished_or(wo, Phase::Bound) } else { Phase::Provisioning };
        Decision { phase, step, wait: Wait::ForChange, problem: None }
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
        self.show_clamped(&coverage);
        if self.status.assignment_id.is_some() || self.facts.matching_policy {
            return self.assignment_coverage(wo, contractor_id, job_id, coverage);
        }
        let Some(quote_id) = self.status.quote_id.clone() else {
            self.insured(false, "Provisioning", "quoting the coverage");
            self.uninsured(wo, false);
            let step = Step::CreateQuote { contractor_id, job_id, coverage, work_order_id: wo.id.clone() };
            return Decision { phase: Phase::Provisioning, step: Some(step), wait: Wait::ForChange, problem: None };
        };
        if self.facts.quote.as_ref().is_some_and(|q| !q.eligible) {
            self.insured(
                false,
                "NotEligible",
                "1099Policy will not insure this contractor for this job (quote not eligible)",
            );
            self.uninsured(wo, false);
            return Decision { phase: Phase::Failed, step: None, wait: Wait::ForChange, problem: None };
        }
        if let Some(policy) = &self.facts.policy {
            return self.policy_state(wo, policy.status, job_id, contractor_id);
        }
        let session_usable =
            self.status.application_session_id.is_some() && self.facts.session.as_ref().is_none_or(|s| !s.expired);
        if !session_usable {
            self.insured(false, "AwaitingApplication", "starting the worker's insurance application");
            self.uninsured(wo, false);
            let step = self.session(wo, quote_id);
            return Decision { phase: Phase::Provisioning, step: Some(step), wait: Wait::ForChange, problem: None };
        }
        self.insured(false, "AwaitingApplication", "the worker has not finished the 1099Policy application");
        self.uninsured(wo, false);
        Decision { phase: Phase::AwaitingApplication, step: None, wait: Wait::Poll(APPLICATION_POLL), problem: None }
    }

    /// Says so when the coverage in force, or about to be requested, starts after the work.
    fn show_clamped(&mut self, coverage: &Coverage) {
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
    }

    /// A new application session for the quote, returning the worker to the binding's pages or
    /// by default to the work order in WorkMarket.
    fn session(&self, wo: &WorkOrderFacts, quote_id: String) -> Step {
        let default_url =
            format!("{}/assignments/details/{}", self.ctx.workmarket_web_url.trim_end_matches('/'), wo.id);
        let urls = self.spec.application.as_ref();
        Step::CreateSession {
            replaces: self.status.application_session_id.clone(),
            quote_id,
            success_url: urls
                .and_then(|u| u.success_url.clone())
                .unwrap_or_else(|| format!("{default_url}?coverage=active")),
            cancel_url: urls
                .and_then(|u| u.cancel_url.clone())
                .unwrap_or_else(|| format!("{default_url}?coverage=canceled")),
            work_order_id: wo.id.clone(),
        }
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
                Decision { phase, step: self.invoice(wo, contractor_id, job_id), wait: Wait::ForChange, problem: None }
            }
            PolicyStatus::Cancelled | PolicyStatus::Expired => {
                let word = if status == PolicyStatus::Cancelled { "cancelled" } else { "expired" };
                let reason = if status == PolicyStatus::Cancelled { "PolicyCancelled" } else { "PolicyExpired" };
                self.insured(false, reason, format!("the 1099Policy policy was {word}"));
                self.uninsured(wo, false);
                Decision { phase: Phase::Unprotected, step: None, wait: Wait::ForChange, problem: None }
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
            return Decision { phase: Phase::Provisioning, step: Some(step), wait: Wait::ForChange, problem: None };
        }
        let Some(assignment) = self.facts.assignment.clone() else {
            // Not read this time (e.g. just created): trust what status says.
            let insured = self.status.policy_status == Some(PolicyStatus::Active);
            self.insured(insured, if insured { "AssignmentActive" } else { "Provisioning" }, "");
            self.uninsured(wo, insured);
            let phase = if insured { self.finished_or(wo, Phase::Bound) } else { Phase::Provisioning };
            return Decision { phase, step: None, wait: Wait::ForChange, problem: None };
        };
        if assignment.cancelled {
            self.insured(false, "AssignmentCancelled", "the 1099Policy assignment was cancelled");
            self.uninsured(wo, false);
            return Decision { phase: Phase::Unprotected, step: None, wait: Wait::ForChange, problem: None };
        }
        if !assignment.eligible {
            let why = assignment
                .eligibility_message
                .clone()
                .unwrap_or_else(|| "1099Policy found the assignment not eligible".into());
            self.insured(false, "NotEligible", why);
            self.uninsured(wo, false);
            return Decision { phase: Phase::Failed, step: None, wait: Wait::ForChange, problem: None };
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
            return Decision {
                phase,
                step: Some(Step::ExtendAssignment { job_id, end: coverage.end }),
                wait: Wait::ForChange,
                problem: None,
            };
        }
        Decision { phase, step: self.invoice(wo, contractor_id, job_id), wait: Wait::ForChange, problem: None }
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
}
