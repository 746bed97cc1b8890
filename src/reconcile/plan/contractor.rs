//! The contractor: who the worker is to 1099Policy, from WorkMarket's record and the binding's
//! overrides, with nothing invented.

use super::{Decision, Planner, Wait};
use crate::reconcile::conditions::Desired;
use crate::reconcile::facts::{WorkOrderFacts, WorkerFacts};
use crate::reconcile::steps::{ContractorDraft, Step};
use crate::resources::{ConditionType as C, CoverageBindingSpec, Phase};

impl Planner<'_> {
    pub(super) fn contractor(&mut self, wo: &WorkOrderFacts, worker: &WorkerFacts) -> Decision {
        if let Some(conflict) = &self.facts.contractor_conflict {
            self.conditions.push(Desired::yes(C::ContractorConflict, "ContractorConflict", conflict.clone()));
            return Decision { phase: Phase::Failed, step: None, wait: Wait::ForChange, problem: None };
        }
        match contractor_draft(self.spec, worker, self.ctx.proxy_email_domain.as_deref()) {
            Ok(draft) => {
                self.uninsured(wo, false);
                Decision {
                    phase: Phase::Provisioning,
                    step: Some(Step::CreateContractor(draft)),
                    wait: Wait::ForChange,
                    problem: None,
                }
            }
            Err(missing) => {
                let message = format!(
                    "1099Policy needs {} for the contractor, and neither WorkMarket's record of worker {} nor spec.contractor has it",
                    missing.join(", "),
                    worker.id
                );
                self.conditions.push(Desired::yes(C::ContractorIncomplete, "ContractorIncomplete", message));
                self.uninsured(wo, false);
                Decision { phase: Phase::Failed, step: None, wait: Wait::ForChange, problem: None }
            }
        }
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
