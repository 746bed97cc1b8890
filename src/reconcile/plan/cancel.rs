//! A voided or cancelled work order: cancel what has not started, expire what is unfinished.

use super::{Decision, Planner, Wait};
use crate::reconcile::facts::WorkOrderFacts;
use crate::reconcile::steps::Step;
use crate::resources::Phase;

impl Planner<'_> {
    pub(super) fn cancelled(&mut self, wo: &WorkOrderFacts) -> Decision {
        self.note =
            Some(format!("work order {} was voided or cancelled (WorkMarket status {})", wo.id, wo.status_code));
        let step = match (&self.status.job_id, &self.facts.assignment) {
            (Some(job_id), Some(a)) if self.status.assignment_id.is_some() && !a.cancelled => {
                if !a.started(self.ctx.now) {
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
        Decision { phase: Phase::Cancelled, step, wait: Wait::ForChange, problem: None }
    }
}
