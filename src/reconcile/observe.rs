//! Observe: read the work order and whatever the status's external ids point at, and turn the
//! clients' models into the core's facts. Reads only what the binding's state needs, so a
//! converged binding costs few calls and never a write.

use std::sync::Arc;
use std::time::Duration;

use super::error::{ReconcileError, Ten99Read};
use super::facts::*;
use super::host::Host;
use super::keys::sha256_hex;
use super::listings::Listings;
use super::mapping::{KnownCode, WorkCategory, choose};
use crate::resources::{CoverageBinding, CoverageBindingStatus, DeletionPolicy, PolicyStatus};
use crate::ten99policy::{self as t99, Ten99PolicyClient};
use crate::workmarket::{self as wm, WorkMarketClient, WorkMarketError, WorkOrderStatus};

/// Reads what a binding's decision needs.
#[derive(Clone)]
pub struct Observer {
    workmarket: WorkMarketClient,
    ten99policy: Ten99PolicyClient,
    listings: Arc<Listings>,
    default_entity: Option<String>,
}

impl Observer {
    /// An observer over the two clients. Category codes and entities are checked against
    /// 1099Policy's lists, read at most once per `listings_ttl`; `default_entity` is the
    /// operator's entity for bindings that name none.
    pub fn new(
        workmarket: WorkMarketClient,
        ten99policy: Ten99PolicyClient,
        listings_ttl: Duration,
        default_entity: Option<String>,
    ) -> Self {
        let listings = Arc::new(Listings::new(workmarket.clone(), ten99policy.clone(), listings_ttl));
        Self { workmarket, ten99policy, listings, default_entity }
    }

    /// Reads 1099Policy's category codes afresh and keeps them for every binding's next check.
    pub async fn refresh_category_codes(&self) -> Result<Arc<Vec<KnownCode>>, ReconcileError> {
        self.listings.refresh_category_codes().await
    }

    /// Everything the plan needs for `binding` in its current `status`.
    pub async fn observe(
        &self,
        binding: &CoverageBinding,
        status: &CoverageBindingStatus,
        host: &impl Host,
    ) -> Result<Facts, ReconcileError> {
        let spec = &binding.spec;
        let order = match self.workmarket.get_assignment(&spec.work_order_id).await {
            Ok(order) => order,
            Err(WorkMarketError::NotFound { .. }) => return Ok(Facts::new(None)),
            Err(e) => return Err(e.into()),
        };
        let mut facts = Facts::new(Some(work_order_facts(&order)));

        self.inputs(binding, status, &order, host, &mut facts).await?;
        let read = ReconcileError::reading;
        if let Some(id) = &status.certificate_id {
            let certificate = self.ten99policy.get_certificate(id).await.map_err(read(Ten99Read::Certificate))?;
            facts.certificate = Some(CertificateFacts { status: certificate.status, pdf_url: certificate.pdf_url });
        }
        if let Some(id) = &status.assignment_id {
            let assignment = self.ten99policy.get_assignment(id).await.map_err(read(Ten99Read::Assignment))?;
            facts.assignment = Some(assignment_facts(&assignment));
        }
        if let Some(id) = &status.policy_id {
            let policy = self.ten99policy.get_policy(id).await.map_err(read(Ten99Read::Policy))?;
            facts.policy = Some(policy_facts(&policy));
        } else if let (Some(quote), None) = (&status.quote_id, &status.assignment_id) {
            if status.application_session_id.is_some() {
                let policies =
                    self.ten99policy.list_policies_by_quote(quote).await.map_err(read(Ten99Read::PoliciesOfQuote))?;
                facts.policy = best_policy(&policies).map(policy_facts);
                if facts.policy.is_none()
                    && let Some(id) = &status.application_session_id
                {
                    let session =
                        self.ten99policy.get_application_session(id).await.map_err(read(Ten99Read::Session))?;
                    facts.session =
                        Some(SessionFacts { url: session.url.unwrap_or_default(), expired: session.expired });
                }
            } else {
                let quote = self.ten99policy.get_quote(quote).await.map_err(read(Ten99Read::Quote))?;
                facts.quote = Some(QuoteFacts { eligible: quote.eligible.unwrap_or(true) });
            }
        }
        Ok(facts)
    }

    /// What undoing a deleted binding needs, by its deletion policy: the assignment and the
    /// unfinished application, if any. WorkMarket is not read; deletion does not depend on it.
    pub async fn observe_deleted(
        &self,
        binding: &CoverageBinding,
        status: &CoverageBindingStatus,
    ) -> Result<Facts, ReconcileError> {
        let mut facts = Facts { deleting: true, ..Facts::new(None) };
        if binding.spec.deletion_policy == DeletionPolicy::Orphan {
            return Ok(facts);
        }
        let read = ReconcileError::reading;
        if let (Some(id), Some(_)) = (&status.assignment_id, &status.job_id) {
            let assignment = self.ten99policy.get_assignment(id).await.map_err(read(Ten99Read::Assignment))?;
            facts.assignment = Some(assignment_facts(&assignment));
        }
        if let (Some(id), None) = (&status.application_session_id, &status.policy_id) {
            let session = self.ten99policy.get_application_session(id).await.map_err(read(Ten99Read::Session))?;
            facts.session = Some(SessionFacts { url: session.url.unwrap_or_default(), expired: session.expired });
        }
        Ok(facts)
    }

    /// What the binding's own inputs say: its certificate PDF, or its job category while the job
    /// is still to be created.
    async fn inputs(
        &self,
        binding: &CoverageBinding,
        status: &CoverageBindingStatus,
        order: &wm::WorkOrder,
        host: &impl Host,
        facts: &mut Facts,
    ) -> Result<(), ReconcileError> {
        let (spec, namespace) = (&binding.spec, binding.metadata.namespace.as_deref().unwrap_or_default());
        if let Some(source) = &spec.certificate {
            let secret = &source.secret_ref;
            facts.pdf = Some(match host.secret_value(namespace, &secret.name, &secret.key).await? {
                Some(bytes) => PdfFact::Present { digest: sha256_hex(&bytes), bytes },
                None => {
                    PdfFact::Missing { detail: format!("Secret {namespace}/{} has no key {}", secret.name, secret.key) }
                }
            });
        } else if status.job_id.is_some() {
            // The job carries its category from now on; the mapping is not needed any more, so
            // a mapping that is missing or changed cannot touch coverage already provisioned.
        } else {
            facts.category = match (spec.mapping_name(), &spec.category_code) {
                (Some(name), _) => self.category(order, namespace, name, host).await?,
                (None, Some(code)) => {
                    CategoryFact::Direct { code: code.clone(), listing: self.listings.code(code).await? }
                }
                (None, None) => CategoryFact::NotNeeded,
            };
            if let Some(entity) = spec.entity_or(self.default_entity.as_deref()) {
                facts.entity = Some(self.listings.entity(entity).await?);
            }
        }
        Ok(())
    }

    async fn category(
        &self,
        order: &wm::WorkOrder,
        namespace: &str,
        name: &str,
        host: &impl Host,
    ) -> Result<CategoryFact, ReconcileError> {
        let Some(mapping) = host.mapping(namespace, name).await? else {
            return Ok(CategoryFact::MappingMissing { mapping: name.to_owned() });
        };
        let mut work = WorkCategory {
            industry: order.industry.clone(),
            industry_id: None,
            client_id: order.client_id,
            labels: order.labels.iter().map(|l| l.name.clone()).collect(),
        };
        if mapping.spec.rules.iter().any(|r| r.industry_id.is_some())
            && let Some(industry) = &work.industry
        {
            let industries = self.listings.industries().await?;
            work.industry_id = industries.iter().find(|i| i.name.eq_ignore_ascii_case(industry)).map(|i| i.id);
        }
        Ok(match choose(&mapping.spec, &work) {
            Some(chosen) => {
                let listing = self.listings.code(&chosen.code).await?;
                CategoryFact::Mapped { mapping: name.to_owned(), chosen, listing }
            }
            None => CategoryFact::Unmapped { mapping: name.to_owned(), detail: describe(&work) },
        })
    }
}

fn describe(work: &WorkCategory) -> String {
    let mut parts = vec![format!("industry {}", work.industry.as_deref().unwrap_or("none"))];
    if let Some(client) = work.client_id {
        parts.push(format!("client {client}"));
    }
    if !work.labels.is_empty() {
        parts.push(format!("labels {}", work.labels.join(", ")));
    }
    parts.join(", ")
}

/// The policy that says the most: an active one, else the newest.
fn best_policy(policies: &[t99::Policy]) -> Option<&t99::Policy> {
    policies.iter().find(|p| p.status == PolicyStatus::Active).or_else(|| policies.first())
}

/// The stage coverage cares about, from WorkMarket's many status codes.
pub fn stage(status: &WorkOrderStatus) -> WorkStage {
    use WorkOrderStatus as S;
    match status {
        S::Active => WorkStage::Assigned,
        S::InProgress => WorkStage::InProgress,
        S::Complete | S::PaymentPending | S::Closed => WorkStage::Complete,
        S::Paid | S::Refunded => WorkStage::Paid,
        S::Cancelled | S::CancelledPayPending | S::CancelledWithPay | S::Void | S::Deleted => WorkStage::Cancelled,
        // Not (or no longer) assigned, or a code this version does not know: create nothing.
        _ => WorkStage::Open,
    }
}

/// A work order as the core sees it.
pub fn work_order_facts(order: &wm::WorkOrder) -> WorkOrderFacts {
    WorkOrderFacts {
        id: order.id.clone(),
        title: order.title.clone(),
        description: order.description.clone().unwrap_or_default(),
        stage: stage(&order.status),
        status_code: order.status.as_str().to_owned(),
        window_start: order.schedule.start(),
        window_end: order.schedule.end(),
        location_region: order.location.as_ref().and_then(|l| l.address.state_code()).map(str::to_owned),
        wage: wm::wage(&order.pricing).map_err(|e| e.to_string()),
        total_cost: order.payment.total_cost,
        worker: order.worker.as_ref().map(worker_facts),
        last_modified: order.last_modified,
    }
}

fn worker_facts(worker: &wm::Worker) -> WorkerFacts {
    let address = worker.address.as_ref().map(|a| AddressFacts {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.state_code().map(str::to_owned),
        postal_code: a.postal_code.clone(),
        country: a.country_code().map(str::to_owned),
    });
    WorkerFacts {
        id: worker.id.clone(),
        first_name: worker.first_name.clone().unwrap_or_default(),
        last_name: worker.last_name.clone().unwrap_or_default(),
        email: worker.email.clone(),
        phone: worker.phone().map(|p| p.number.clone()),
        address: address.unwrap_or_default(),
    }
}

/// A policy as the core sees it.
pub fn policy_facts(policy: &t99::Policy) -> PolicyFacts {
    let certificates = policy.certificates.as_ref();
    PolicyFacts {
        id: policy.id.clone(),
        status: policy.status,
        pdf_url: policy.pdf_url.clone(),
        gl_coi_url: certificates.and_then(|c| c.gl_coi_pdf_url.clone()),
        wc_coi_url: certificates.and_then(|c| c.wc_coi_pdf_url.clone()),
    }
}

/// An assignment as the core sees it.
pub fn assignment_facts(assignment: &t99::Assignment) -> AssignmentFacts {
    let certificates = assignment.certificates.as_ref();
    AssignmentFacts {
        policy_id: assignment.policy.clone(),
        effective: assignment.effective_date.and_then(|d| d.to_timestamp()),
        end: assignment.end_date.and_then(|d| d.to_timestamp()),
        cancelled: assignment.cancelled,
        eligible: assignment.eligible.as_ref().is_none_or(|e| e.result),
        eligibility_message: assignment.eligible.as_ref().and_then(|e| e.message.clone()),
        gl_coi_url: certificates.and_then(|c| c.gl_coi_pdf_url.clone()),
        wc_coi_url: certificates.and_then(|c| c.wc_coi_pdf_url.clone()),
    }
}
