//! The drafts of what the core creates, in its own terms, and the 1099Policy request bodies
//! they become. Conversions live here so a draft and what it sends are read side by side.

use jiff::Timestamp;

use crate::reconcile::facts::AddressFacts;
use crate::resources::{CoverageType, JobTerms};
use crate::ten99policy::{self as t99, Metadata};

/// A 1099Policy contractor to create for a WorkMarket worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractorDraft {
    /// WorkMarket user number (`custom_metadata.workmarket_worker_id`).
    pub worker_id: String,
    /// First name as WorkMarket has it; never empty.
    pub first_name: String,
    /// Last name as WorkMarket has it; never empty.
    pub last_name: String,
    /// E-mail (the worker's, an override, or a proxy address).
    pub email: String,
    /// Phone number: the override, else the worker's mobile, work or first number.
    pub phone: String,
    /// Home address, with overrides applied; region and country are two-letter codes.
    pub address: AddressFacts,
}

/// A 1099Policy job for a work order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobDraft {
    /// `WO <id> — <title>`.
    pub name: String,
    /// The work order's description.
    pub description: String,
    /// The `en_…` entity the work is for: the binding's, else the operator's default.
    pub entity: String,
    /// Category, wage and region.
    pub terms: JobTerms,
    /// `custom_metadata.work_order_id`.
    pub work_order_id: String,
}

/// The coverage window and types of a quote or assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Coverage types the binding asks for (`spec.coverageTypes`).
    pub types: Vec<CoverageType>,
    /// Start, never earlier than 1099Policy accepts.
    pub effective: Timestamp,
    /// End of coverage: at least a day after the start, at most a year.
    pub end: Timestamp,
    /// The work order's own window, which the idempotency key is derived from: the clamped
    /// start depends on the clock, so it must not.
    pub window: (Timestamp, Timestamp),
}

/// The metadata every object made for a work order carries, so a lost answer can be found again.
pub fn work_order_metadata(work_order_id: &str) -> Metadata {
    Metadata::default().with("work_order_id", work_order_id)
}

/// Request bodies of the steps that carry their few fields themselves rather than a draft.
pub mod requests {
    use bytes::Bytes;
    use jiff::Timestamp;

    use super::work_order_metadata;
    use crate::money::Cents;
    use crate::ten99policy as t99;

    /// The worker's own certificate, tagged with its digest so a retry can find it.
    pub fn certificate(contractor: &str, pdf: &[u8], digest: &str, work_order_id: &str) -> t99::CertificateUpload {
        t99::CertificateUpload {
            contractor: contractor.to_owned(),
            filename: "certificate.pdf".into(),
            pdf: Bytes::copy_from_slice(pdf),
            custom_metadata: work_order_metadata(work_order_id).with("sha256", digest),
        }
    }

    /// An application session for `quote`, returning the worker to the given pages.
    pub fn session(
        quote: &str,
        success_url: &str,
        cancel_url: &str,
        work_order_id: &str,
    ) -> t99::NewApplicationSession {
        t99::NewApplicationSession {
            quote: quote.to_owned(),
            success_url: Some(success_url.to_owned()),
            cancel_url: Some(cancel_url.to_owned()),
            custom_metadata: work_order_metadata(work_order_id),
        }
    }

    /// An invoice of `gross_pay` for the pay cycle `(start, end)`.
    pub fn invoice(contractor: &str, job: &str, gross_pay: Cents, cycle: (Timestamp, Timestamp)) -> t99::NewInvoice {
        t99::NewInvoice {
            contractor: contractor.to_owned(),
            job: job.to_owned(),
            gross_pay,
            paycycle_startdate: cycle.0.into(),
            paycycle_enddate: cycle.1.into(),
            purchase_order_number: None,
        }
    }
}

impl From<&ContractorDraft> for t99::NewContractor {
    fn from(draft: &ContractorDraft) -> Self {
        Self {
            first_name: draft.first_name.clone(),
            last_name: draft.last_name.clone(),
            email: draft.email.clone(),
            phone: draft.phone.clone(),
            address: (&draft.address).into(),
            middle_name: None,
            company_name: None,
            custom_metadata: Metadata::default().with("workmarket_worker_id", draft.worker_id.clone()),
            withhold_premium: None,
        }
    }
}

impl From<&AddressFacts> for t99::Address {
    fn from(a: &AddressFacts) -> Self {
        Self {
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            locality: a.city.clone(),
            region: a.region.clone(),
            postalcode: a.postal_code.clone(),
            country: a.country.clone(),
        }
    }
}

impl From<&JobDraft> for t99::NewJob {
    fn from(draft: &JobDraft) -> Self {
        Self {
            name: draft.name.clone(),
            description: draft.description.clone(),
            entity: draft.entity.clone(),
            category_code: draft.terms.category_code.clone(),
            wage: crate::money::Cents(draft.terms.wage_cents),
            wage_type: draft.terms.wage_type,
            years_experience: None,
            address: Some(region_only(&draft.terms.region)),
            custom_metadata: work_order_metadata(&draft.work_order_id),
        }
    }
}

/// The update that gives a job these terms.
impl From<&JobTerms> for t99::JobUpdate {
    fn from(terms: &JobTerms) -> Self {
        Self {
            category_code: Some(terms.category_code.clone()),
            wage: Some(crate::money::Cents(terms.wage_cents)),
            wage_type: Some(terms.wage_type),
            address: Some(region_only(&terms.region)),
            ..Default::default()
        }
    }
}

impl Coverage {
    /// The quote for this coverage of `job` for `contractor`.
    pub fn quote(&self, contractor: &str, job: &str, work_order_id: &str) -> t99::NewQuote {
        t99::NewQuote {
            contractor: contractor.to_owned(),
            job: job.to_owned(),
            coverage_type: self.types.clone(),
            effective_date: Some(self.effective.into()),
            end_date: Some(self.end.into()),
            custom_metadata: work_order_metadata(work_order_id),
        }
    }

    /// The assignment of `job` under `contractor`'s existing policy for this coverage.
    pub fn assignment(&self, contractor: &str, job: &str, work_order_id: &str) -> t99::NewAssignment {
        t99::NewAssignment {
            contractor: contractor.to_owned(),
            job: job.to_owned(),
            coverage_type: self.types.clone(),
            effective_date: Some(self.effective.into()),
            end_date: Some(self.end.into()),
            policy: None,
            bind: None,
            custom_metadata: work_order_metadata(work_order_id),
        }
    }
}

/// A job site known only by its state, which is all 1099Policy prices by.
fn region_only(region: &str) -> t99::Address {
    t99::Address { region: Some(region.to_owned()), country: Some("US".into()), ..Default::default() }
}
