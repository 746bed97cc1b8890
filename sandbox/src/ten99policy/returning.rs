//! Returning contractors: people 1099Policy already insured on an earlier engagement, so a new
//! quote for the same kind of work answers `contractor_has_matching_policy` and the job is
//! covered by an assignment. The seed has one (Jordan Lee); tests and the benchmark add as many
//! as they need, in-process or through `POST /_sandbox/returning_contractors`.

use serde::{Deserialize, Serialize};

use super::Ten99PolicySandbox;
use super::error::ApiError;
use super::routes::contractors::check_email_free;
use super::routes::quotes::rates;
use super::routes::sessions::issue_policy;
use super::state::{PolicyRecord, YEAR, new_id};
use crate::money::Cents;
use crate::ten99policy::wire::{CoverageType, WageType};
use crate::ten99policy::{Address, Contractor, Job, Metadata, Quote};

/// A contractor to add, with the earlier job and active policy they hold.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReturningContractor {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail (unique among contractors, as the API requires).
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Home address; region and country are required.
    pub address: Address,
    /// The WorkMarket worker, recorded as `custom_metadata.workmarket_worker_id` as
    /// coverbridge records it (without it coverbridge treats the contractor as someone else's).
    #[serde(default)]
    pub workmarket_worker_id: Option<String>,
    /// The entity the earlier job was for.
    pub entity: String,
    /// Category code of the earlier job: the policy matches jobs with the same code.
    pub category_code: String,
    /// Coverage of the policy (default general liability).
    #[serde(default = "general")]
    pub coverage: Vec<CoverageType>,
}

fn general() -> Vec<CoverageType> {
    vec![CoverageType::General]
}

/// What [`Ten99PolicySandbox::add_returning_contractor`] created.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Returning {
    /// Contractor (`cn_`).
    pub contractor_id: String,
    /// The earlier job (`jb_`).
    pub job_id: String,
    /// The quote the policy was issued for (`qt_`).
    pub quote_id: String,
    /// The active policy, for a year from now (`pl_`).
    pub policy_id: String,
}

impl Ten99PolicySandbox {
    /// Adds a contractor who already holds an active policy (for a year, from now) for jobs of
    /// `new.category_code`, as if an earlier application had completed. Emits no events: it all
    /// happened before. Refuses a taken e-mail, an unknown entity or code, and an address
    /// without region or country, as the API would.
    pub fn add_returning_contractor(&self, new: ReturningContractor) -> Result<Returning, ApiError> {
        if new.address.region.is_none() || new.address.country.is_none() {
            return Err(ApiError::invalid("address.region and address.country are required"));
        }
        if new.coverage.is_empty() {
            return Err(ApiError::invalid("coverage must name at least one coverage type"));
        }
        let (now, url) = (self.now(), self.public_url());
        let mut store = self.store();
        check_email_free(&store, &new.email, None)?;
        store.entity(&new.entity).map_err(|_| ApiError::bad("invalid_entity_id", "unknown entity"))?;
        if !store.category_codes.iter().any(|c| c.category_code == new.category_code) {
            return Err(ApiError::bad("invalid_job_category_code", "unknown job category code"));
        }
        let metadata = match &new.workmarket_worker_id {
            Some(worker) => Metadata::default().with("workmarket_worker_id", worker.clone()),
            None => Metadata::default(),
        };
        let contractor = Contractor {
            id: new_id("cn_", 7),
            created: Some(now),
            first_name: Some(new.first_name),
            middle_name: None,
            last_name: Some(new.last_name),
            email: Some(new.email),
            phone: Some(new.phone),
            company_name: None,
            address: Some(new.address),
            custom_metadata: metadata,
            withhold_premium: Some(false),
        };
        let job = Job {
            id: new_id("jb_", 10),
            created: Some(now),
            name: Some("Earlier engagement".into()),
            description: Some("Work insured before this sandbox started".into()),
            entity: Some(new.entity),
            category_code: Some(new.category_code),
            wage: Some(Cents(45_000)),
            wage_type: Some(WageType::Flatfee),
            years_experience: None,
            address: None,
            custom_metadata: Metadata::default(),
        };
        let (gl, wc, total) = rates(&new.coverage);
        let quote = Quote {
            id: new_id("qt_", 10),
            created: Some(now),
            contractor: Some(contractor.id.clone()),
            job: Some(job.id.clone()),
            coverage_type: new.coverage,
            effective_date: Some(now),
            end_date: Some(now.plus_seconds(YEAR)),
            eligible: Some(true),
            net_rate: Some(total),
            gl_net_rate: gl,
            wc_net_rate: wc,
            quote_json: None,
            custom_metadata: Metadata::default(),
        };
        let policy = issue_policy(&quote, now, &url);
        let returning = Returning {
            contractor_id: contractor.id.clone(),
            job_id: job.id.clone(),
            quote_id: quote.id.clone(),
            policy_id: policy.id.clone(),
        };
        store.policies.push(PolicyRecord { policy, contractor: contractor.id.clone() });
        store.contractors.push(contractor);
        store.jobs.push(job);
        store.quotes.push(quote);
        Ok(returning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ten99policy::Ten99PolicySandboxConfig;
    use crate::ten99policy::seed::{COMPUTER_REPAIR, ENTITY_ID, SPOKESPERSON};
    use crate::ten99policy::wire::PolicyStatus;

    fn person(email: &str) -> ReturningContractor {
        ReturningContractor {
            first_name: "Robin".into(),
            last_name: "Hale".into(),
            email: email.into(),
            phone: "+1 512 555 0100".into(),
            address: Address { region: Some("TX".into()), country: Some("US".into()), ..Address::default() },
            workmarket_worker_id: Some("9000001".into()),
            entity: ENTITY_ID.into(),
            category_code: COMPUTER_REPAIR.into(),
            coverage: general(),
        }
    }

    #[test]
    fn a_returning_contractor_holds_an_active_policy_that_matches_their_kind_of_work() {
        let sandbox = Ten99PolicySandbox::new(Ten99PolicySandboxConfig::default());
        let added = sandbox.add_returning_contractor(person("robin@example.com")).unwrap();
        let store = sandbox.store();
        let contractor = store.contractor(&added.contractor_id).unwrap();
        assert_eq!(contractor.custom_metadata.get("workmarket_worker_id"), Some("9000001"));
        let record = store.policy(&added.policy_id).unwrap();
        assert_eq!((record.policy.status, record.contractor.as_str()), (PolicyStatus::Active, contractor.id.as_str()));
        assert_eq!(record.policy.quote.as_deref(), Some(added.quote_id.as_str()));

        let mut new_job = store.job(&added.job_id).unwrap().clone();
        new_job.id = "jb_new".into();
        let matching = store.matching_policy(&added.contractor_id, &new_job, &[CoverageType::General]);
        assert_eq!(matching.map(|r| r.policy.id.as_str()), Some(added.policy_id.as_str()));
        new_job.category_code = Some(SPOKESPERSON.into());
        assert!(store.matching_policy(&added.contractor_id, &new_job, &[CoverageType::General]).is_none());
        assert!(
            store
                .matching_policy(
                    &added.contractor_id,
                    &store.job(&added.job_id).unwrap().clone(),
                    &[CoverageType::Cyber]
                )
                .is_none()
        );
        assert!(store.events.is_empty(), "it all happened before: nothing to announce");
    }

    #[test]
    fn refuses_what_the_api_would() {
        let sandbox = Ten99PolicySandbox::new(Ten99PolicySandboxConfig::default());
        sandbox.add_returning_contractor(person("robin@example.com")).unwrap();
        let code = |r: Result<Returning, ApiError>| r.unwrap_err().code;
        assert_eq!(code(sandbox.add_returning_contractor(person("robin@example.com"))), "duplicate_email");
        let jordan = person(crate::ten99policy::seed::JORDAN_EMAIL);
        assert_eq!(code(sandbox.add_returning_contractor(jordan)), "duplicate_email");
        let mut nowhere = person("x@example.com");
        nowhere.address.region = None;
        assert_eq!(code(sandbox.add_returning_contractor(nowhere)), "invalid_input");
        let mut unknown = person("y@example.com");
        unknown.entity = "en_nope".into();
        assert_eq!(code(sandbox.add_returning_contractor(unknown)), "invalid_entity_id");
        let mut uncoded = person("z@example.com");
        uncoded.category_code = "jc_nope".into();
        assert_eq!(code(sandbox.add_returning_contractor(uncoded)), "invalid_job_category_code");
    }
}
