//! What 1099Policy holds for the audit, read once and joined to work orders: jobs carry
//! `custom_metadata.work_order_id`, quotes and assignments name their job, policies their quote,
//! certificates their work order. A binding's recorded ids, when there is one, pick exactly.

use std::collections::HashMap;

use super::verdict::{Cover, Term};
use crate::resources::{CertificateStatus, CoverageBindingStatus, PolicyStatus};
use crate::ten99policy::{self as t99, EpochSeconds, Ten99PolicyClient, Ten99PolicyError};

/// Everything of the account, by the links the audit follows.
#[derive(Default)]
pub struct Evidence {
    jobs_by_work_order: HashMap<String, Vec<t99::Job>>,
    quotes_by_job: HashMap<String, Vec<t99::Quote>>,
    policies_by_quote: HashMap<String, Vec<t99::Policy>>,
    policies: HashMap<String, t99::Policy>,
    assignments_by_job: HashMap<String, Vec<t99::Assignment>>,
    assignments: HashMap<String, t99::Assignment>,
    certificates_by_work_order: HashMap<String, Vec<t99::Certificate>>,
    certificates: HashMap<String, t99::Certificate>,
    /// Contractor id → the WorkMarket worker its metadata names.
    workers: HashMap<String, String>,
}

/// How a work order is covered, and by whose contractor record and documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// What covers it.
    pub cover: Cover,
    /// The contractor (`cn_…`) the coverage is for.
    pub contractor_id: Option<String>,
    /// A certificate of insurance (or the policy document) to show.
    pub coi_url: Option<String>,
}

fn time(at: Option<EpochSeconds>) -> Option<jiff::Timestamp> {
    at.and_then(|t| t.to_timestamp())
}

fn group<T>(items: Vec<T>, key: impl Fn(&T) -> Option<String>) -> HashMap<String, Vec<T>> {
    let mut groups: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        if let Some(k) = key(&item) {
            groups.entry(k).or_default().push(item);
        }
    }
    groups
}

impl Evidence {
    /// Reads the account's contractors, jobs, quotes, policies, assignments and certificates
    /// (six listings).
    pub async fn read(client: &Ten99PolicyClient) -> Result<Self, Ten99PolicyError> {
        let all = usize::MAX;
        let workers = client
            .list_contractors()
            .await?
            .into_iter()
            .filter_map(|c| Some((c.id, c.custom_metadata.get("workmarket_worker_id")?.to_owned())))
            .collect();
        let jobs = client.recent_jobs(all).await?;
        let quotes = client.recent_quotes(all).await?;
        let policies = client.list_policies().await?;
        let assignments = client.recent_assignments(all).await?;
        let certificates = client.recent_certificates(all).await?;
        let work_order = |metadata: &t99::Metadata| metadata.get("work_order_id").map(str::to_owned);
        Ok(Self {
            jobs_by_work_order: group(jobs, |j| work_order(&j.custom_metadata)),
            quotes_by_job: group(quotes, |q| q.job.clone()),
            policies_by_quote: group(policies.clone(), |p| p.quote.clone()),
            policies: policies.into_iter().map(|p| (p.id.clone(), p)).collect(),
            assignments_by_job: group(assignments.clone(), |a| a.job.clone()),
            assignments: assignments.into_iter().map(|a| (a.id.clone(), a)).collect(),
            certificates_by_work_order: group(certificates.clone(), |c| work_order(&c.custom_metadata)),
            certificates: certificates.into_iter().map(|c| (c.id.clone(), c)).collect(),
            workers,
        })
    }

    /// What covers `work_order_id`: the binding's recorded ids when given, else whatever
    /// 1099Policy links to the work order for `worker` (not for a worker it had before), the
    /// strongest first (a policy in force, an assignment, an approved certificate).
    pub fn cover(&self, work_order_id: &str, worker: Option<&str>, recorded: Option<&CoverageBindingStatus>) -> Found {
        if let Some(found) = recorded.and_then(|status| self.recorded(status)) {
            return found;
        }
        let jobs = self.jobs_by_work_order.get(work_order_id).map(Vec::as_slice).unwrap_or_default();
        let mut candidates: Vec<Found> = Vec::new();
        for job in jobs {
            for quote in self.quotes_by_job.get(&job.id).into_iter().flatten() {
                for policy in self.policies_by_quote.get(&quote.id).into_iter().flatten() {
                    candidates.push(self.policy(policy, quote.contractor.clone()));
                }
            }
            for assignment in self.assignments_by_job.get(&job.id).into_iter().flatten() {
                candidates.push(self.assignment(assignment));
            }
        }
        for certificate in self.certificates_by_work_order.get(work_order_id).into_iter().flatten() {
            candidates.push(certificate_found(certificate));
        }
        candidates.retain(|found| self.for_worker(found, worker));
        let contractor = candidates.iter().find_map(|c| c.contractor_id.clone());
        let best = candidates.into_iter().min_by_key(strength);
        best.unwrap_or(Found { cover: Cover::None, contractor_id: contractor, coi_url: None })
    }

    /// The cover a binding recorded. An assignment first: a binding covered by one also records
    /// the policy it falls under as `policyId`, and the assignment's own term and state are what
    /// cover this work order.
    /// Whether `found` covers `worker`: its contractor names another WorkMarket worker only when
    /// the work order was reassigned. Unknown either way: kept.
    fn for_worker(&self, found: &Found, worker: Option<&str>) -> bool {
        let covered = found.contractor_id.as_ref().and_then(|c| self.workers.get(c));
        match (covered, worker) {
            (Some(covered), Some(worker)) => covered == worker,
            _ => true,
        }
    }

    fn recorded(&self, status: &CoverageBindingStatus) -> Option<Found> {
        if let Some(assignment) = status.assignment_id.as_ref().and_then(|id| self.assignments.get(id)) {
            return Some(self.assignment(assignment));
        }
        if let Some(policy) = status.policy_id.as_ref().and_then(|id| self.policies.get(id)) {
            return Some(self.policy(policy, status.contractor_id.clone()));
        }
        status.certificate_id.as_ref().and_then(|id| self.certificates.get(id)).map(certificate_found)
    }

    fn policy(&self, policy: &t99::Policy, contractor_id: Option<String>) -> Found {
        let term = Term { start: time(policy.effective_date), end: time(policy.expiration_date) };
        let coi = policy.certificates.as_ref().and_then(|c| c.gl_coi_pdf_url.clone().or(c.wc_coi_pdf_url.clone()));
        Found {
            cover: Cover::Policy { id: policy.id.clone(), status: policy.status, term },
            contractor_id,
            coi_url: coi.or_else(|| policy.pdf_url.clone()),
        }
    }

    fn assignment(&self, assignment: &t99::Assignment) -> Found {
        let policy = assignment.policy.as_ref().map(|id| (id.clone(), self.policies.get(id).map(|p| p.status)));
        let term = Term { start: time(assignment.effective_date), end: time(assignment.end_date) };
        let coi = assignment.certificates.as_ref().and_then(|c| c.gl_coi_pdf_url.clone().or(c.wc_coi_pdf_url.clone()));
        Found {
            cover: Cover::Assignment { id: assignment.id.clone(), policy, term, cancelled: assignment.cancelled },
            contractor_id: assignment.contractor.clone(),
            coi_url: coi,
        }
    }
}

fn certificate_found(certificate: &t99::Certificate) -> Found {
    Found {
        cover: Cover::Certificate { id: certificate.id.clone(), status: certificate.status },
        contractor_id: certificate.contractor.clone(),
        coi_url: certificate.pdf_url.clone(),
    }
}

/// Lower is stronger: coverage in force before coverage that lapsed, before none.
fn strength(found: &Found) -> u8 {
    match &found.cover {
        Cover::Policy { status: PolicyStatus::Active, .. } => 0,
        Cover::Assignment { cancelled: false, .. } => 1,
        Cover::Certificate { status: CertificateStatus::Approved, .. } => 2,
        Cover::Policy { status: PolicyStatus::Expired, .. } => 3,
        Cover::Policy { .. } | Cover::Assignment { .. } | Cover::Certificate { .. } => 4,
        Cover::None => 5,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn evidence() -> Evidence {
        let job: t99::Job =
            serde_json::from_value(json!({"id": "jb_1", "custom_metadata": {"work_order_id": "1"}})).unwrap();
        let quote: t99::Quote = serde_json::from_value(
            json!({"id": "qt_1", "job": "jb_1", "contractor": "cn_old", "coverage_type": ["general"]}),
        )
        .unwrap();
        let policy: t99::Policy =
            serde_json::from_value(json!({"id": "pl_1", "quote": "qt_1", "status": "active"})).unwrap();
        Evidence {
            jobs_by_work_order: group(vec![job], |j| Some(j.custom_metadata.get("work_order_id")?.to_owned())),
            quotes_by_job: group(vec![quote], |q| q.job.clone()),
            policies_by_quote: group(vec![policy.clone()], |p| p.quote.clone()),
            policies: [(policy.id.clone(), policy)].into(),
            workers: [("cn_old".to_owned(), "8823578".to_owned())].into(),
            ..Evidence::default()
        }
    }

    #[test]
    fn a_policy_bought_for_the_worker_before_does_not_cover_the_one_now() {
        let evidence = evidence();
        assert!(matches!(evidence.cover("1", Some("8823578"), None).cover, Cover::Policy { .. }));
        assert!(matches!(evidence.cover("1", None, None).cover, Cover::Policy { .. }), "worker unknown: kept");
        let reassigned = evidence.cover("1", Some("8823999"), None);
        assert_eq!((reassigned.cover, reassigned.contractor_id), (Cover::None, None));
        assert_eq!(evidence.cover("2", Some("8823578"), None).cover, Cover::None, "another work order");
    }
}
