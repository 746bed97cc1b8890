//! The sandbox's own wire shapes of 1099Policy's objects, written from reference
//! `1099policy-api.md` (§3 objects, §5 events, §6 enumerations). They are what the simulator
//! stores and serializes; coverbridge's client decodes them with its own, separate types, so a
//! drift between the two shows up as a failing wire test (`tests/sandbox_wire.rs`) rather than
//! passing silently because both sides share one definition.
//!
//! Decoding here is plain serde: the sandbox only reads back what it wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::money::Cents;
use crate::secret::Secret;

/// The message 1099Policy answers an assignment with when no policy of the contractor's covers
/// the job (reference §4, assignments).
pub const NO_MATCHING_POLICY_MESSAGE: &str = "No matching policy found for assignment.";

/// Seconds since the Unix epoch, as 1099Policy sends every date (a bare integer).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(transparent)]
pub struct EpochSeconds(pub i64);

impl EpochSeconds {
    /// The seconds.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Now, by the wall clock.
    pub fn now() -> Self {
        Self(jiff::Timestamp::now().as_second())
    }

    /// `seconds` later (earlier when negative), saturating.
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }
}

/// `custom_metadata`: free string key/value pairs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct Metadata(pub BTreeMap<String, String>);

impl Metadata {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// With `key` set to `value`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A coverage type (reference §6: `general`, `professional`, `workers-comp`, `media`, `cyber`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CoverageType {
    /// General liability.
    #[serde(rename = "general")]
    General,
    /// Professional liability.
    #[serde(rename = "professional")]
    Professional,
    /// Workers' compensation.
    #[serde(rename = "workers-comp")]
    WorkersComp,
    /// Media liability (needs general).
    #[serde(rename = "media")]
    Media,
    /// Cyber liability (needs general).
    #[serde(rename = "cyber")]
    Cyber,
}

impl CoverageType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::General => "general",
            Self::Professional => "professional",
            Self::WorkersComp => "workers-comp",
            Self::Media => "media",
            Self::Cyber => "cyber",
        }
    }
}

/// A policy's `status` (reference §6).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStatus {
    /// In force.
    Active,
    /// Cancelled before its end.
    Cancelled,
    /// Ran past its expiration date.
    Expired,
}

/// An uploaded certificate's review `status` (reference §6).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    /// Uploaded, not yet reviewed.
    Pending,
    /// Being reviewed.
    Processing,
    /// Meets the requirement.
    Approved,
    /// Needs manual review.
    Flagged,
    /// Does not meet the requirement.
    Denied,
    /// Could not be processed.
    Error,
}

/// A job's `wage_type` (reference §6).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WageType {
    /// A fixed price.
    Flatfee,
    /// Per hour.
    Hourly,
    /// Per unit.
    Unit,
    /// An hourly rate that changes after a number of hours.
    Blended,
}

/// A postal address in 1099Policy's terms (`locality` is the city, `region` the two-letter
/// state, `postalcode` one word).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Apartment, suite or unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Two-letter state code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code (examples show it as a number too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postalcode: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A contractor (`cn_…`): the insured person.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Contractor {
    /// `cn_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Middle name.
    #[serde(default)]
    pub middle_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// E-mail address (unique per account, compared case-sensitively).
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Home address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Free key/value pairs, for reconciliation (e.g. `workmarket_worker_id`).
    #[serde(default)]
    pub custom_metadata: Metadata,
    /// Whether the platform withholds the premium from wages.
    #[serde(default)]
    pub withhold_premium: Option<bool>,
}

/// An entity (`en_…`): the end client the work is for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Entity {
    /// `en_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Coverage limits.
    #[serde(default)]
    pub coverage_limit: Option<CoverageLimit>,
    /// Coverage types the entity requires, as sent (snapshots of the docs disagree on names).
    #[serde(default)]
    pub required_coverage: Vec<String>,
    /// Address.
    #[serde(default)]
    pub address: Option<Address>,
}

/// An entity's coverage limits, in cents.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CoverageLimit {
    /// Aggregate limit.
    #[serde(default)]
    pub aggregate_limit: Option<Cents>,
    /// Per-occurrence limit.
    #[serde(default)]
    pub occurrence_limit: Option<Cents>,
}

/// A job category code (`jc_…`), managed in the 1099Policy dashboard.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CategoryCode {
    /// `jc_…`.
    pub category_code: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the code is approved for this account. The documented list shows only code and
    /// name; `None` means the API did not say, and a listed code is then taken as approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
}

impl CategoryCode {
    /// Whether jobs may use this code.
    pub fn is_approved(&self) -> bool {
        self.approved.unwrap_or(true)
    }
}

/// A job (`jb_…`): the work, its pay and its category.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Job {
    /// `jb_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Entity (`en_…`).
    #[serde(default)]
    pub entity: Option<String>,
    /// Category code (`jc_…`).
    #[serde(default)]
    pub category_code: Option<String>,
    /// Pay in cents.
    #[serde(default)]
    pub wage: Option<Cents>,
    /// How the wage is paid.
    #[serde(default)]
    pub wage_type: Option<WageType>,
    /// Years of experience required.
    #[serde(default)]
    pub years_experience: Option<i64>,
    /// Job site; absent for remote work.
    #[serde(default)]
    pub address: Option<Address>,
    /// Free key/value pairs (e.g. `work_order_id`).
    #[serde(default)]
    pub custom_metadata: Metadata,
}

/// A quote (`qt_…`): price and eligibility of coverage for one contractor and job.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Quote {
    /// `qt_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Contractor (`cn_…`).
    #[serde(default)]
    pub contractor: Option<String>,
    /// Job (`jb_…`).
    #[serde(default)]
    pub job: Option<String>,
    /// Coverage types quoted.
    #[serde(default)]
    pub coverage_type: Vec<CoverageType>,
    /// Start of coverage.
    #[serde(default)]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage.
    #[serde(default)]
    pub end_date: Option<EpochSeconds>,
    /// Whether the contractor is eligible.
    #[serde(default)]
    pub eligible: Option<bool>,
    /// Premium in cents per $100 earned.
    #[serde(default)]
    pub net_rate: Option<Cents>,
    /// General-liability part of the rate.
    #[serde(default)]
    pub gl_net_rate: Option<Cents>,
    /// Workers'-compensation part of the rate.
    #[serde(default)]
    pub wc_net_rate: Option<Cents>,
    /// Rate breakdown as the API sends it.
    #[serde(default)]
    pub quote_json: Option<Value>,
    /// Free key/value pairs.
    #[serde(default)]
    pub custom_metadata: Metadata,
}

/// An insurance application session (`ias_…`): where the contractor applies for a policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ApplicationSession {
    /// `ias_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Quote applied for (`qt_…`).
    #[serde(default)]
    pub quote: Option<String>,
    /// Contractor, for general opt-in sessions.
    #[serde(default)]
    pub contractor: Option<String>,
    /// Where the contractor goes after finishing.
    #[serde(default)]
    pub success_url: Option<String>,
    /// Where the contractor goes after giving up.
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Whether the session expired.
    #[serde(default)]
    pub expired: bool,
    /// Application step reached, e.g. `verify_info` or `application_complete`.
    #[serde(default)]
    pub step: Option<String>,
    /// The hosted application to send the contractor to.
    #[serde(default)]
    pub url: Option<String>,
}

impl ApplicationSession {
    /// Whether the contractor finished the application.
    pub fn is_complete(&self) -> bool {
        self.step.as_deref() == Some("application_complete")
    }
}

/// Certificate-of-insurance PDFs of a policy or assignment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CoiCertificates {
    /// General liability certificate.
    #[serde(default)]
    pub gl_coi_pdf_url: Option<String>,
    /// Workers' compensation certificate.
    #[serde(default)]
    pub wc_coi_pdf_url: Option<String>,
}

/// A policy (`pl_…`), created when the contractor completes an application.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Policy {
    /// `pl_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Quote it was issued for (`qt_…`).
    #[serde(default)]
    pub quote: Option<String>,
    /// active, cancelled or expired.
    pub status: PolicyStatus,
    /// The on/off switch.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Start of coverage.
    #[serde(default)]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage.
    #[serde(default)]
    pub expiration_date: Option<EpochSeconds>,
    /// The policy document.
    #[serde(default)]
    pub pdf_url: Option<String>,
    /// Certificates of insurance.
    #[serde(default)]
    pub certificates: Option<CoiCertificates>,
}

/// Whether an assignment may be bound, and why not.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Eligibility {
    /// Eligible or not.
    pub result: bool,
    /// Explanation.
    #[serde(default)]
    pub message: Option<String>,
    /// Why it was approved, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_reason: Option<String>,
}

/// An assignment (`an_…`): an existing policy extended to cover another job's term.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Assignment {
    /// `an_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Contractor (`cn_…`).
    #[serde(default)]
    pub contractor: Option<String>,
    /// Job (`jb_…`).
    #[serde(default)]
    pub job: Option<String>,
    /// Policy it extends (`pl_…`).
    #[serde(default)]
    pub policy: Option<String>,
    /// Whether it binds coverage (false: no notice, no charge, no coverage).
    #[serde(default)]
    pub bind: Option<bool>,
    /// Coverage types.
    #[serde(default)]
    pub coverage_type: Vec<CoverageType>,
    /// Start of coverage.
    #[serde(default)]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage.
    #[serde(default)]
    pub end_date: Option<EpochSeconds>,
    /// Premium in cents per $100 earned.
    #[serde(default)]
    pub net_rate: Option<Cents>,
    /// Certificates of insurance.
    #[serde(default)]
    pub certificates: Option<CoiCertificates>,
    /// Eligibility verdict.
    #[serde(default)]
    pub eligible: Option<Eligibility>,
    /// Whether it was cancelled.
    #[serde(default)]
    pub cancelled: bool,
    /// When it was cancelled.
    #[serde(default)]
    pub cancellation_date: Option<EpochSeconds>,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancellation_reason: Option<String>,
}

/// An uploaded certificate of insurance (`ci_…`), reviewed by 1099Policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Certificate {
    /// `ci_…`.
    pub id: String,
    /// Contractor (`cn_…`).
    #[serde(default)]
    pub contractor: Option<String>,
    /// Review state.
    pub status: CertificateStatus,
    /// When it was uploaded.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// When its review last changed.
    #[serde(default)]
    pub updated: Option<EpochSeconds>,
    /// Uploaded file name.
    #[serde(default)]
    pub filename: Option<String>,
    /// The processed document, once available.
    #[serde(default)]
    pub pdf_url: Option<String>,
    /// Review results, when expanded.
    #[serde(default)]
    pub review_results: Option<Value>,
    /// Free key/value pairs sent with the upload.
    #[serde(default)]
    pub custom_metadata: Metadata,
}

/// An invoice (`in_…`): actual pay for a pay cycle, and the premium due on it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Invoice {
    /// `in_…`.
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Contractor (`cn_…`).
    #[serde(default)]
    pub contractor: Option<String>,
    /// Job (`jb_…`).
    #[serde(default)]
    pub job: Option<String>,
    /// Gross pay in cents.
    #[serde(default)]
    pub gross_pay: Option<Cents>,
    /// Premium due in cents.
    #[serde(default)]
    pub premium_due: Option<Cents>,
    /// Start of the pay cycle.
    #[serde(default)]
    pub paycycle_startdate: Option<EpochSeconds>,
    /// End of the pay cycle.
    #[serde(default)]
    pub paycycle_enddate: Option<EpochSeconds>,
    /// Purchase order number.
    #[serde(default)]
    pub purchase_order_number: Option<String>,
}

/// A registered webhook endpoint (`whe_…`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WebhookEndpoint {
    /// `whe_…`.
    pub id: String,
    /// Where events are delivered.
    #[serde(default)]
    pub url: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was registered.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Event types delivered (empty or `*`: all).
    #[serde(default)]
    pub events: Vec<String>,
    /// Signing secret (`whsec_…`), shown only in the answer to its creation.
    #[serde(default)]
    pub secret: Option<Secret>,
}
