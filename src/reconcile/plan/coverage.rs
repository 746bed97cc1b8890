//! Policy coverage: the job (and its updates), the quote with its clamped window, then either the
//! worker's application and policy or an assignment under the policy they hold, and the invoice.

use jiff::{SignedDuration, Timestamp};

use super::{APPLICATION_POLL, Decision, Planner, Wait, problem, region};
use crate::reconcile::conditions::Desired;
use crate::reconcile::facts::{CategoryFact, WorkOrderFacts, WorkStage};
use crate::reconcile::steps::{Coverage, JobDraft, Step};
use crate::resources::{ConditionType as C, JobTerms, Phase, PolicyStatus};

impl Planner<'_> {
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

    pub(super) fn policy_coverage(&mut self, wo: &WorkOrderFacts, contractor_id: String) -> Decision {
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
}
