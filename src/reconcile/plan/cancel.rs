//! Undoing coverage whose work will not happen — a voided or cancelled work order, or a binding
//! deleted with `deletionPolicy: Cancel`: cancel what has not started, expire what is unfinished.
//! Both ends decide the same way; only their words differ.

use super::{Decision, Planner, Wait};
use crate::reconcile::conditions::carried_over;
use crate::reconcile::facts::WorkOrderFacts;
use crate::reconcile::steps::{Step, Undo};
use crate::resources::{ConditionType as C, DeletionPolicy, Phase};

impl Planner<'_> {
    pub(super) fn cancelled(&mut self, wo: &WorkOrderFacts) -> Decision {
        self.note =
            Some(format!("work order {} was voided or cancelled (WorkMarket status {})", wo.id, wo.status_code));
        let step = self.undo(Undo::WorkOrderCancelled);
        Decision { phase: Phase::Cancelled, step, wait: Wait::ForChange, problem: None }
    }

    /// A binding being deleted: its phase and conditions stay as they were while its deletion
    /// policy is carried out; no step left means the runtime may let it go.
    pub(super) fn released(&mut self) -> Decision {
        let step = match self.spec.deletion_policy {
            DeletionPolicy::Orphan => None,
            DeletionPolicy::Cancel => self.undo(Undo::BindingDeleted),
        };
        let doing = match (&step, self.spec.deletion_policy) {
            (_, DeletionPolicy::Orphan) => "coverage in 1099Policy is left as it is (deletionPolicy Orphan)",
            (Some(Step::CancelAssignment { .. }), _) => "cancelling the 1099Policy assignment before it starts",
            (Some(_), _) => "expiring the worker's unfinished 1099Policy application",
            (None, _) => "nothing is left to cancel",
        };
        self.note = Some(format!("the binding is being deleted: {doing}"));
        let spoken: Vec<C> = self.conditions.iter().map(|c| c.type_).chain([C::Ready]).collect();
        self.conditions.extend(carried_over(&self.status.conditions, &spoken));
        let phase = self.status.phase.unwrap_or(Phase::Pending);
        Decision { phase, step, wait: Wait::ForChange, problem: None }
    }

    /// The next write that undoes coverage: cancel an assignment that has not started, else
    /// expire an application nobody finished. An assignment already started stays in force,
    /// and the Insured condition says so.
    fn undo(&mut self, because: Undo) -> Option<Step> {
        let step = match (&self.status.job_id, &self.facts.assignment) {
            (Some(job_id), Some(a)) if self.status.assignment_id.is_some() && !a.cancelled => {
                if !a.started(self.ctx.now) {
                    Some(Step::CancelAssignment { job_id: job_id.clone(), because })
                } else {
                    let message = format!(
                        "{} after the 1099Policy assignment started; 1099Policy cancels only assignments that have not started, so it stays in force",
                        because.cause()
                    );
                    self.insured(true, "AssignmentStarted", message);
                    None
                }
            }
            _ => None,
        };
        step.or_else(|| {
            let open = self.facts.session.as_ref().is_some_and(|s| !s.expired) && self.facts.policy.is_none();
            self.status
                .application_session_id
                .clone()
                .filter(|_| open)
                .map(|session_id| Step::ExpireSession { session_id, because })
        })
    }
}
