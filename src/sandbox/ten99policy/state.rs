//! The sandbox's memory: every object, the clock, and the events they produce.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::webhooks::Endpoint;
use crate::resources::{CoverageType, PolicyStatus};
use crate::ten99policy::{
    ApplicationSession, Assignment, CategoryCode, Certificate, Contractor, Entity, EpochSeconds, Event, EventType,
    Invoice, Job, Policy, Quote,
};

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;
/// Seconds in a (non-leap) year: the longest allowed coverage term.
pub(crate) const YEAR: i64 = 365 * DAY;

/// Real time plus an offset tests can advance, so keys and policies expire without sleeping.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// Now, in sandbox time.
    pub fn now(&self) -> EpochSeconds {
        EpochSeconds::now().plus_seconds(self.offset.load(Ordering::SeqCst))
    }

    /// Moves sandbox time forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::SeqCst);
    }

    /// How far sandbox time is ahead of real time.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }
}

/// A policy and who holds it (the API's policy object does not name the contractor).
#[derive(Clone, Debug)]
pub(crate) struct PolicyRecord {
    pub policy: Policy,
    pub contractor: String,
}

/// Every object of one sandbox, in creation order (lists are served newest first).
#[derive(Default)]
pub(crate) struct Store {
    pub contractors: Vec<Contractor>,
    pub entities: Vec<Entity>,
    pub category_codes: Vec<CategoryCode>,
    pub jobs: Vec<Job>,
    pub quotes: Vec<Quote>,
    pub sessions: Vec<ApplicationSession>,
    pub policies: Vec<PolicyRecord>,
    pub assignments: Vec<Assignment>,
    pub certificates: Vec<Certificate>,
    pub invoices: Vec<Invoice>,
    pub events: Vec<Event>,
    pub endpoints: Vec<Endpoint>,
}

/// Finds an object by id in one collection, mutably or not.
macro_rules! finder {
    ($name:ident, $name_mut:ident, $field:ident, $t:ty, $what:literal) => {
        pub fn $name(&self, id: &str) -> Result<&$t, ApiError> {
            self.$field.iter().find(|o| o.id == id).ok_or_else(|| ApiError::not_found($what, id))
        }

        #[allow(dead_code)]
        pub fn $name_mut(&mut self, id: &str) -> Result<&mut $t, ApiError> {
            self.$field.iter_mut().find(|o| o.id == id).ok_or_else(|| ApiError::not_found($what, id))
        }
    };
}

impl Store {
    finder!(contractor, contractor_mut, contractors, Contractor, "contractor");
    finder!(entity, entity_mut, entities, Entity, "entity");
    finder!(job, job_mut, jobs, Job, "job");
    finder!(quote, quote_mut, quotes, Quote, "quote");
    finder!(session, session_mut, sessions, ApplicationSession, "application session");
    finder!(assignment, assignment_mut, assignments, Assignment, "assignment");
    finder!(certificate, certificate_mut, certificates, Certificate, "certificate");
    finder!(invoice, invoice_mut, invoices, Invoice, "invoice");

    pub fn policy(&self, id: &str) -> Result<&PolicyRecord, ApiError> {
        self.policies.iter().find(|p| p.policy.id == id).ok_or_else(|| ApiError::not_found("policy", id))
    }

    pub fn policy_mut(&mut self, id: &str) -> Result<&mut PolicyRecord, ApiError> {
        self.policies.iter_mut().find(|p| p.policy.id == id).ok_or_else(|| ApiError::not_found("policy", id))
    }

    /// The contractor's most recent active policy that matches: its quote covers every
    /// requested coverage type (all of them when `coverage` is empty) and was for a job with
    /// the same category code as `job`. This is the sandbox's simple reading of "matching"
    /// (the real service also compares work and home state and platform).
    pub fn matching_policy(&self, contractor: &str, job: &Job, coverage: &[CoverageType]) -> Option<&PolicyRecord> {
        self.policies.iter().rev().find(|record| {
            record.contractor == contractor
                && record.policy.status == PolicyStatus::Active
                && self.policy_matches(&record.policy, job, coverage)
        })
    }

    /// Whether `policy` covers `coverage` for jobs of `job`'s category.
    pub fn policy_matches(&self, policy: &Policy, job: &Job, coverage: &[CoverageType]) -> bool {
        let Some(quote) = policy.quote.as_deref().and_then(|q| self.quote(q).ok()) else {
            return false;
        };
        let quoted_job = quote.job.as_deref().and_then(|j| self.job(j).ok());
        let same_category = quoted_job.is_some_and(|quoted| quoted.category_code == job.category_code);
        same_category && coverage.iter().all(|c| quote.coverage_type.contains(c))
    }

    /// The job's live (not cancelled) assignment.
    pub fn live_assignment_for_job(&self, job: &str) -> Option<&Assignment> {
        self.assignments.iter().rev().find(|a| a.job.as_deref() == Some(job) && !a.cancelled)
    }

    /// Whether the contractor is covered for the job: a live assignment, or an active policy
    /// issued for a quote on this job.
    pub fn has_coverage_for(&self, contractor: &str, job: &str) -> bool {
        let assigned = self
            .assignments
            .iter()
            .any(|a| !a.cancelled && a.job.as_deref() == Some(job) && a.contractor.as_deref() == Some(contractor));
        let insured = self.policies.iter().any(|record| {
            record.contractor == contractor
                && record.policy.status == PolicyStatus::Active
                && record
                    .policy
                    .quote
                    .as_deref()
                    .and_then(|q| self.quote(q).ok())
                    .is_some_and(|q| q.job.as_deref() == Some(job))
        });
        assigned || insured
    }

    /// Records an event and queues it for every endpoint that wants it.
    pub fn emit(&mut self, event_type: EventType, object: &impl Serialize, now: EpochSeconds) {
        let object = serde_json::to_value(object).unwrap_or(Value::Null);
        let event = Event { id: Some(new_id("ev_", 22)), event_type, created: Some(now), object };
        for endpoint in &mut self.endpoints {
            endpoint.offer(&event);
        }
        self.events.push(event);
    }

    /// Moves links made under base URL `old` to `new` (the sandbox learned where it is served).
    pub fn relink(&mut self, old: &str, new: &str) {
        let move_link = |link: &mut Option<String>| {
            if let Some(rest) = link.as_deref().and_then(|l| l.strip_prefix(old)) {
                *link = Some(format!("{new}{rest}"));
            }
        };
        for record in &mut self.policies {
            move_link(&mut record.policy.pdf_url);
            if let Some(certificates) = &mut record.policy.certificates {
                move_link(&mut certificates.gl_coi_pdf_url);
                move_link(&mut certificates.wc_coi_pdf_url);
            }
        }
        for session in &mut self.sessions {
            move_link(&mut session.url);
        }
        for certificate in &mut self.certificates {
            move_link(&mut certificate.pdf_url);
        }
    }

    /// Expires active policies whose expiration date has passed (emits `policy.expired`).
    pub fn expire_due(&mut self, now: EpochSeconds) {
        let mut expired = Vec::new();
        for record in &mut self.policies {
            let policy = &mut record.policy;
            let due = policy.expiration_date.is_some_and(|end| end <= now);
            if policy.status == PolicyStatus::Active && due {
                policy.status = PolicyStatus::Expired;
                policy.is_active = Some(false);
                expired.push(policy.clone());
            }
        }
        for policy in expired {
            self.emit(EventType::PolicyExpired, &policy_object(&policy), now);
        }
    }
}

/// A policy as the API and its events show it (with `"object": "policy"`).
pub(crate) fn policy_object(policy: &Policy) -> Value {
    let mut value = serde_json::to_value(policy).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("object".into(), "policy".into());
    }
    value
}

/// Letters and digits without look-alikes, as in the API's short ids.
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Crockford's base 32, as in ULIDs.
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `prefix` followed by `len` random base58 characters, e.g. `cn_Ehb3bYa`.
pub(crate) fn new_id(prefix: &str, len: usize) -> String {
    let mut id = String::from(prefix);
    id.extend((0..len).map(|_| BASE58[fastrand::usize(..BASE58.len())] as char));
    id
}

/// A ULID-shaped id (48-bit millisecond time, 80 random bits), as sessions use.
pub(crate) fn new_ulid(prefix: &str, now_millis: u64) -> String {
    let mut id = String::from(prefix);
    for shift in (0..10).rev() {
        id.push(CROCKFORD[((now_millis >> (shift * 5)) & 31) as usize] as char);
    }
    id.extend((0..16).map(|_| CROCKFORD[fastrand::usize(..32)] as char));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_real_shapes() {
        let id = new_id("cn_", 10);
        assert!(id.starts_with("cn_") && id.len() == 13, "{id}");
        let ulid = new_ulid("ias_", 1_644_000_000_000);
        assert_eq!(ulid.len(), 4 + 26);
        assert!(ulid.starts_with("ias_01"), "{ulid}");
    }

    #[test]
    fn the_clock_advances() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(25 * 3600);
        assert!(clock.now().get() - before.get() >= 25 * 3600);
        assert_eq!(clock.offset(), 25 * 3600);
    }
}
