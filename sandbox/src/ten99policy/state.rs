//! The sandbox's memory: every object, the clock, and the events they produce.
//!
//! Collections are append-only vectors in creation order (lists serve them newest first); a
//! lookup by id goes through a position index that catches up with new objects lazily, so the
//! sandbox stays fast with tens of thousands of objects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::error::ApiError;
use super::webhooks::Endpoint;
use crate::ten99policy::wire::{CoverageType, PolicyStatus};
use crate::ten99policy::{
    ApplicationSession, Assignment, CategoryCode, Certificate, Contractor, Entity, EpochSeconds, EventType, Invoice,
    Job, Policy, Quote,
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

/// An event as kept: serialized once, as the events API and webhooks send it, beside what
/// filters need. (Kept as text it takes a third of the memory of the parsed object.)
#[derive(Clone, Debug)]
pub(crate) struct StoredEvent {
    pub id: Arc<str>,
    pub event_type: EventType,
    pub json: Bytes,
}

impl StoredEvent {
    /// The event's JSON, parsed back.
    pub fn event(&self) -> Value {
        serde_json::from_slice(&self.json).expect("stored events are JSON")
    }
}

impl Serialize for StoredEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value: Value = serde_json::from_slice(&self.json).map_err(serde::ser::Error::custom)?;
        value.serialize(serializer)
    }
}

/// Where objects sit in an append-only collection, by a hash of their id. It indexes objects
/// pushed since the last lookup on the next one; a hit is checked against the object, and a
/// miss (or a stale position) falls back to a scan, so it is never wrong, only sometimes slow.
#[derive(Default)]
pub(crate) struct Positions {
    inner: RefCell<PositionsInner>,
}

#[derive(Default)]
struct PositionsInner {
    hasher: RandomState,
    by_hash: HashMap<u64, u32>,
    indexed: usize,
}

impl Positions {
    /// The position of the object with `id` among `len` objects, whose ids `id_at` gives.
    pub fn find<'a>(&self, len: usize, id_at: impl Fn(usize) -> &'a str, id: &str) -> Option<usize> {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        if inner.indexed > len {
            inner.by_hash.clear();
            inner.indexed = 0;
        }
        for position in inner.indexed..len {
            inner.by_hash.entry(inner.hasher.hash_one(id_at(position))).or_insert(position as u32);
        }
        inner.indexed = len;
        let hash = inner.hasher.hash_one(id);
        if let Some(&position) = inner.by_hash.get(&hash)
            && (position as usize) < len
            && id_at(position as usize) == id
        {
            return Some(position as usize);
        }
        let position = (0..len).find(|p| id_at(*p) == id)?;
        inner.by_hash.insert(hash, position as u32);
        Some(position)
    }
}

/// The objects of one kind, in creation order, each boxed: the vector holds only pointers, so
/// it never sits on much unused room and growing it copies little.
#[derive(Debug)]
pub(crate) struct Objects<T>(Vec<Box<T>>);

impl<T> Default for Objects<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

type Iter<'a, T> = std::iter::Map<std::slice::Iter<'a, Box<T>>, fn(&'a Box<T>) -> &'a T>;
type IterMut<'a, T> = std::iter::Map<std::slice::IterMut<'a, Box<T>>, fn(&'a mut Box<T>) -> &'a mut T>;

impl<T> Objects<T> {
    pub fn push(&mut self, object: T) {
        self.0.push(Box::new(object));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, position: usize) -> Option<&T> {
        self.0.get(position).map(|b| &**b)
    }

    pub fn iter(&self) -> Iter<'_, T> {
        self.0.iter().map(|b| &**b)
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        self.0.iter_mut().map(|b| &mut **b)
    }
}

impl<T> std::ops::Index<usize> for Objects<T> {
    type Output = T;

    fn index(&self, position: usize) -> &T {
        &self.0[position]
    }
}

impl<T> std::ops::IndexMut<usize> for Objects<T> {
    fn index_mut(&mut self, position: usize) -> &mut T {
        &mut self.0[position]
    }
}

impl<'a, T> IntoIterator for &'a Objects<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Objects<T> {
    type Item = &'a mut T;
    type IntoIter = IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// Every object of one sandbox, in creation order (lists are served newest first).
#[derive(Default)]
pub(crate) struct Store {
    pub contractors: Objects<Contractor>,
    pub entities: Vec<Entity>,
    pub category_codes: Vec<CategoryCode>,
    pub jobs: Objects<Job>,
    pub quotes: Objects<Quote>,
    pub sessions: Objects<ApplicationSession>,
    pub policies: Objects<PolicyRecord>,
    pub assignments: Objects<Assignment>,
    pub certificates: Objects<Certificate>,
    pub invoices: Objects<Invoice>,
    pub events: Vec<StoredEvent>,
    pub endpoints: Vec<Endpoint>,
    /// Position indexes of the collections above.
    pub(crate) positions: Indexes,
    /// No active policy expires before this (sandbox time), as of the last check, when the
    /// collection had `expiry_checked` policies; `None` forces the next check.
    next_expiry: Option<EpochSeconds>,
    expiry_checked: usize,
}

/// One [`Positions`] per collection, and the policies of each contractor.
#[derive(Default)]
pub(crate) struct Indexes {
    contractors: Positions,
    entities: Positions,
    jobs: Positions,
    quotes: Positions,
    sessions: Positions,
    assignments: Positions,
    certificates: Positions,
    invoices: Positions,
    policies: Positions,
    /// Positions of each contractor's policies, and how many policies were looked at.
    policies_by_contractor: RefCell<(HashMap<String, Vec<u32>>, usize)>,
    /// Positions of contractors by e-mail, and how many contractors were looked at.
    contractors_by_email: RefCell<(HashMap<String, Vec<u32>>, usize)>,
}

/// Finds an object by id in one collection, mutably or not.
macro_rules! finder {
    ($name:ident, $name_mut:ident, $field:ident, $t:ty, $what:literal) => {
        pub fn $name(&self, id: &str) -> Result<&$t, ApiError> {
            let position = self.positions.$field.find(self.$field.len(), |p| self.$field[p].id.as_str(), id);
            position.map(|p| &self.$field[p]).ok_or_else(|| ApiError::not_found($what, id))
        }

        #[allow(dead_code)]
        pub fn $name_mut(&mut self, id: &str) -> Result<&mut $t, ApiError> {
            let position = self.positions.$field.find(self.$field.len(), |p| self.$field[p].id.as_str(), id);
            position.map(|p| &mut self.$field[p]).ok_or_else(|| ApiError::not_found($what, id))
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
        let position = self.positions.policies.find(self.policies.len(), |p| self.policies[p].policy.id.as_str(), id);
        position.map(|p| &self.policies[p]).ok_or_else(|| ApiError::not_found("policy", id))
    }

    pub fn policy_mut(&mut self, id: &str) -> Result<&mut PolicyRecord, ApiError> {
        let position = self.positions.policies.find(self.policies.len(), |p| self.policies[p].policy.id.as_str(), id);
        position.map(|p| &mut self.policies[p]).ok_or_else(|| ApiError::not_found("policy", id))
    }

    /// The contractor's policies, oldest first (policies are never removed, nor change hands).
    fn policies_of(&self, contractor: &str) -> Vec<&PolicyRecord> {
        let mut index = self.positions.policies_by_contractor.borrow_mut();
        let (by_contractor, seen) = &mut *index;
        for (position, record) in self.policies.iter().enumerate().skip(*seen) {
            by_contractor.entry(record.contractor.clone()).or_default().push(position as u32);
        }
        *seen = self.policies.len();
        by_contractor
            .get(contractor)
            .map_or_else(Vec::new, |positions| positions.iter().map(|p| &self.policies[*p as usize]).collect())
    }

    /// Contractors whose e-mail is `email` (case-sensitive, as the API's filter), oldest first.
    pub fn contractors_with_email(&self, email: &str) -> Vec<&Contractor> {
        let mut index = self.positions.contractors_by_email.borrow_mut();
        let (by_email, seen) = &mut *index;
        if *seen > self.contractors.len() {
            by_email.clear();
            *seen = 0;
        }
        for (position, contractor) in self.contractors.iter().enumerate().skip(*seen) {
            by_email.entry(contractor.email.clone().unwrap_or_default()).or_default().push(position as u32);
        }
        *seen = self.contractors.len();
        let found = by_email.get(email).map_or(&[][..], Vec::as_slice);
        found
            .iter()
            .filter_map(|p| self.contractors.get(*p as usize))
            .filter(|c| c.email.as_deref() == Some(email))
            .collect()
    }

    /// A contractor's e-mail changed: the e-mail index starts over.
    pub fn contractor_emails_changed(&mut self) {
        *self.positions.contractors_by_email.get_mut() = Default::default();
    }

    /// Policy changes other than new policies (a reactivation) must call this, so the next
    /// access checks expiry again.
    pub fn policies_changed(&mut self) {
        self.next_expiry = None;
    }

    /// The contractor's most recent active policy that matches: its quote covers every
    /// requested coverage type (all of them when `coverage` is empty) and was for a job with
    /// the same category code as `job`. This is the sandbox's simple reading of "matching"
    /// (the real service also compares work and home state and platform).
    pub fn matching_policy(&self, contractor: &str, job: &Job, coverage: &[CoverageType]) -> Option<&PolicyRecord> {
        self.policies_of(contractor).into_iter().rev().find(|record| {
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
        let insured = self.policies_of(contractor).into_iter().any(|record| {
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
        let id: Arc<str> = new_id("ev_", 22).into();
        let event = super::events::event_json(&id, &event_type, now, object);
        // Copied to its exact length: the serializer's buffer grew by doubling.
        let json = Bytes::copy_from_slice(&serde_json::to_vec(&event).expect("events serialize"));
        let stored = StoredEvent { id, event_type, json };
        for endpoint in &mut self.endpoints {
            endpoint.offer(&stored);
        }
        self.events.push(stored);
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

    /// Expires active policies whose expiration date has passed (emits `policy.expired`). Cheap
    /// when nothing can have run out since the last look.
    pub fn expire_due(&mut self, now: EpochSeconds) {
        let unchanged = self.expiry_checked == self.policies.len();
        if unchanged && self.next_expiry.is_some_and(|next| now < next) {
            return;
        }
        let mut expired = Vec::new();
        let mut next = EpochSeconds(i64::MAX);
        for record in &mut self.policies {
            let policy = &mut record.policy;
            let due = policy.expiration_date.is_some_and(|end| end <= now);
            if policy.status == PolicyStatus::Active && due {
                policy.status = PolicyStatus::Expired;
                policy.is_active = Some(false);
                expired.push(policy.clone());
            } else if policy.status == PolicyStatus::Active
                && let Some(end) = policy.expiration_date
            {
                next = next.min(end);
            }
        }
        self.next_expiry = Some(next);
        self.expiry_checked = self.policies.len();
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
    fn positions_find_objects_pushed_at_any_time_and_never_a_wrong_one() {
        let positions = Positions::default();
        let mut items: Vec<String> = (0..100).map(|i| format!("cn_{i}")).collect();
        let find = |items: &Vec<String>, id: &str| positions.find(items.len(), |p| items[p].as_str(), id);
        assert_eq!(find(&items, "cn_42"), Some(42));
        items.push("cn_new".into());
        assert_eq!(find(&items, "cn_new"), Some(100), "indexed on the next lookup");
        assert_eq!(find(&items, "cn_nope"), None);
        // Positions that went stale (an object removed) are checked and corrected.
        items.remove(0);
        assert_eq!(find(&items, "cn_42"), Some(41));
        assert_eq!(find(&items, "cn_new"), Some(99));
        items.clear();
        assert_eq!(find(&items, "cn_42"), None);
    }

    #[test]
    fn objects_keep_their_order_and_are_reachable_every_way() {
        let mut objects = Objects::default();
        for i in 0..3 {
            objects.push(i * 10);
        }
        objects[1] += 1;
        for o in &mut objects {
            *o += 1;
        }
        assert_eq!(objects.iter().copied().collect::<Vec<_>>(), [1, 12, 21]);
        assert_eq!((objects.len(), objects.get(2), objects.get(3)), (3, Some(&21), None));
        assert_eq!((&objects).into_iter().next_back(), Some(&21));
    }

    #[test]
    fn contractors_are_found_by_email_as_they_come_and_change() {
        let mut store = Store::default();
        let contractor = |id: &str, email: &str| Contractor {
            id: id.into(),
            created: None,
            first_name: None,
            middle_name: None,
            last_name: None,
            email: Some(email.into()),
            phone: None,
            company_name: None,
            address: None,
            custom_metadata: Default::default(),
            withhold_premium: None,
        };
        store.contractors.push(contractor("cn_1", "a@example.com"));
        assert_eq!(store.contractors_with_email("a@example.com").len(), 1);
        store.contractors.push(contractor("cn_2", "b@example.com"));
        assert_eq!(store.contractors_with_email("b@example.com")[0].id, "cn_2");
        assert!(store.contractors_with_email("A@example.com").is_empty(), "case-sensitive");
        store.contractor_mut("cn_1").unwrap().email = Some("c@example.com".into());
        store.contractor_emails_changed();
        assert!(store.contractors_with_email("a@example.com").is_empty());
        assert_eq!(store.contractors_with_email("c@example.com")[0].id, "cn_1");
    }

    fn policy(id: &str, contractor: &str, end: i64) -> PolicyRecord {
        PolicyRecord {
            contractor: contractor.into(),
            policy: Policy {
                id: id.into(),
                created: None,
                quote: None,
                status: PolicyStatus::Active,
                is_active: Some(true),
                effective_date: None,
                expiration_date: Some(EpochSeconds(end)),
                pdf_url: None,
                certificates: None,
            },
        }
    }

    #[test]
    fn policies_expire_when_due_however_they_arrived() {
        let mut store = Store::default();
        store.policies.push(policy("pl_1", "cn_a", 100));
        store.expire_due(EpochSeconds(50));
        store.policies.push(policy("pl_2", "cn_b", 60));
        store.expire_due(EpochSeconds(70));
        assert_eq!(store.policy("pl_2").unwrap().policy.status, PolicyStatus::Expired, "a new policy is looked at");
        assert_eq!(store.policy("pl_1").unwrap().policy.status, PolicyStatus::Active);
        store.expire_due(EpochSeconds(100));
        assert_eq!(store.policy("pl_1").unwrap().policy.status, PolicyStatus::Expired);
        // Reactivated after its end: expires again at the next look.
        store.policy_mut("pl_1").unwrap().policy.status = PolicyStatus::Active;
        store.policies_changed();
        store.expire_due(EpochSeconds(101));
        assert_eq!(store.policy("pl_1").unwrap().policy.status, PolicyStatus::Expired);
        assert_eq!(store.events.len(), 3, "one policy.expired each time");
        assert_eq!(store.policies_of("cn_a").len(), 1);
        assert!(store.policies_of("cn_nobody").is_empty());
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
