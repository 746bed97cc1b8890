//! What the client sends: create and update bodies. Optional fields are left out when unset,
//! so a PUT changes only what it names.

use bytes::Bytes;
use serde::Serialize;

use super::decode::Metadata;
use super::model::Address;
use super::time::EpochSeconds;
use crate::insurance::{CoverageType, WageType};
use crate::money::Cents;

/// `POST /api/v1/contractors`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewContractor {
    /// Given name; required.
    pub first_name: String,
    /// Family name; required.
    pub last_name: String,
    /// E-mail address; unique per account (case-sensitive).
    pub email: String,
    /// Phone number; required.
    pub phone: String,
    /// Home address; required, and its `region` is the home state assignments are matched on.
    pub address: Address,
    /// Middle name; left out when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Business name, when the contractor works as a company; left out when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Reconciliation keys such as `workmarket_worker_id`.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub custom_metadata: Metadata,
    /// Whether the platform withholds the premium from wages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withhold_premium: Option<bool>,
}

/// `PUT /api/v1/contractors/{id}`: only the fields set change. In `custom_metadata`, an empty
/// value removes a key and an empty map removes all.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ContractorUpdate {
    /// New given name; unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// New family name; unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// New e-mail address; refused (`duplicate_email`) when another contractor has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New phone number; unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Home address (replaces the old one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Metadata changes (see above); `None` leaves the metadata alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_metadata: Option<Metadata>,
}

/// `POST /api/v1/jobs`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewJob {
    /// Name (the work order title).
    pub name: String,
    /// Description (the scope).
    pub description: String,
    /// Entity (`en_…`) the work is for.
    pub entity: String,
    /// Approved category code (`jc_…`).
    pub category_code: String,
    /// Pay in integer cents (100 to 100,000,000).
    pub wage: Cents,
    /// How the wage is paid.
    pub wage_type: WageType,
    /// Years of experience required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub years_experience: Option<i64>,
    /// Job site; leave out for remote work (`region` is required when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Reconciliation keys such as `work_order_id`.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub custom_metadata: Metadata,
}

/// `PUT /api/v1/jobs/{id}`: only the fields set change. Refused once the job has an invoice.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct JobUpdate {
    /// New job title; unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description; unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New category code (`jc_…`, must be approved); unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_code: Option<String>,
    /// New pay in cents; unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wage: Option<Cents>,
    /// How the wage is paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wage_type: Option<WageType>,
    /// New job site (`region` required); unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Metadata changes (empty value: remove the key); `None` leaves the metadata alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_metadata: Option<Metadata>,
}

/// `POST /api/v1/quotes`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewQuote {
    /// Contractor (`cn_…`); older API versions called it `contractor_id`.
    pub contractor: String,
    /// Job (`jb_…`); older API versions called it `job_id`.
    pub job: String,
    /// Coverage types wanted (media and cyber need general).
    pub coverage_type: Vec<CoverageType>,
    /// Start of coverage; must be in the future (default: the next day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage; after the start and at most a year later (default: 30 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<EpochSeconds>,
    /// Reconciliation keys such as `work_order_id`.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub custom_metadata: Metadata,
}

/// `PUT /api/v1/quotes/{id}`: only while no policy was issued for the quote.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct QuoteUpdate {
    /// New coverage types (media and cyber need general); unchanged when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_type: Option<Vec<CoverageType>>,
    /// New start of coverage; must be in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date: Option<EpochSeconds>,
    /// New end of coverage; after the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<EpochSeconds>,
}

/// `POST /api/v1/apply/sessions`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewApplicationSession {
    /// Quote (`qt_…`) to apply for.
    pub quote: String,
    /// Where the contractor lands after finishing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Where the contractor lands after giving up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// Reconciliation keys such as `work_order_id` (the guide sends them).
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub custom_metadata: Metadata,
}

/// `POST /api/v1/assignments`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewAssignment {
    /// Contractor (`cn_…`).
    pub contractor: String,
    /// Job (`jb_…`).
    pub job: String,
    /// Coverage types (default: the policy's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage_type: Vec<CoverageType>,
    /// Start of coverage, in epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage, in epoch seconds; at most a year after the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<EpochSeconds>,
    /// Policy to extend (default: the contractor's most recent matching active policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Whether to bind coverage (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<bool>,
    /// Reconciliation keys such as `work_order_id`.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub custom_metadata: Metadata,
}

/// `POST /api/v1/assignments/cancel`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct CancelAssignment<'a> {
    pub job_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

/// `POST /api/v1/assignments/extend`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct ExtendAssignment<'a> {
    pub job_id: &'a str,
    pub end_date: EpochSeconds,
}

/// `POST /api/v1/files/certificates` (multipart): a contractor's own certificate of
/// insurance, for review.
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateUpload {
    /// Contractor (`cn_…`); must exist.
    pub contractor: String,
    /// File name sent with the PDF.
    pub filename: String,
    /// The PDF, sent as the `certificate` field (at most 15 MB; only two pages are read).
    pub pdf: Bytes,
    /// Sent as `custom_metadata[<key>]` fields (e.g. `work_order_id`).
    pub custom_metadata: Metadata,
}

/// `POST /api/v1/invoices`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewInvoice {
    /// Contractor (`cn_…`).
    pub contractor: String,
    /// Job (`jb_…`).
    pub job: String,
    /// Gross pay in cents (100 to 100,000,000).
    pub gross_pay: Cents,
    /// Start of the pay cycle, in epoch seconds.
    pub paycycle_startdate: EpochSeconds,
    /// End of the pay cycle, in epoch seconds.
    pub paycycle_enddate: EpochSeconds,
    /// Purchase order number (default: the job's `custom_metadata.purchase_order_number`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_order_number: Option<String>,
}

/// `POST /api/v1/webhook_endpoints`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NewWebhookEndpoint {
    /// Where to deliver events.
    pub url: String,
    /// Free-text note on the endpoint; left out when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Event types to deliver (empty: all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}
