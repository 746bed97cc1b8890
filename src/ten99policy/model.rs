//! The objects 1099Policy answers with. Decoding is tolerant (unknown fields ignored, nested
//! objects possibly stringified, dates as integers or numeric strings); every type also
//! serializes back to the wire shape, which the tests use (the sandbox has its own types).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decode::{self, Metadata};
use super::time::EpochSeconds;
use crate::insurance::{CertificateStatus, CoverageType, PolicyStatus, WageType};
use crate::money::Cents;
use crate::secret::Secret;

/// A postal address in 1099Policy's terms (`locality` is the city, `region` the two-letter
/// state, `postalcode` one word).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// Street address: number and street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Apartment, suite or unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City; 1099Policy's name for it is `locality`, not `city`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Two-letter state code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code (examples show it as a number too).
    #[serde(default, deserialize_with = "decode::string_or_number", skip_serializing_if = "Option::is_none")]
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
    /// Creation time, in epoch seconds; set by 1099Policy.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Given name; required when the contractor is created.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Middle name; optional, absent when never given.
    #[serde(default)]
    pub middle_name: Option<String>,
    /// Family name; required when the contractor is created.
    #[serde(default)]
    pub last_name: Option<String>,
    /// E-mail address (unique per account, compared case-sensitively).
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number; required when the contractor is created.
    #[serde(default)]
    pub phone: Option<String>,
    /// Business name, when the contractor works as a company; optional.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Home address (required on create); its `region` is the home state assignments must match.
    #[serde(default, deserialize_with = "decode::nested")]
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
    /// Creation time, in epoch seconds; set by 1099Policy.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Display name of the end client; required on create.
    #[serde(default)]
    pub name: Option<String>,
    /// Aggregate and per-occurrence limits the entity requires; required on create.
    #[serde(default, deserialize_with = "decode::nested")]
    pub coverage_limit: Option<CoverageLimit>,
    /// Coverage types the entity requires, as sent (snapshots of the docs disagree on names).
    #[serde(default)]
    pub required_coverage: Vec<String>,
    /// The end client's own address; optional.
    #[serde(default, deserialize_with = "decode::nested")]
    pub address: Option<Address>,
}

/// An entity's coverage limits, in cents.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CoverageLimit {
    /// Most paid for all claims over the term, in cents (at least 1000).
    #[serde(default, deserialize_with = "decode::cents")]
    pub aggregate_limit: Option<Cents>,
    /// Most paid for any one claim, in cents (at least 1000).
    #[serde(default, deserialize_with = "decode::cents")]
    pub occurrence_limit: Option<Cents>,
}

/// A job category code (`jc_…`), managed in the 1099Policy dashboard.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CategoryCode {
    /// `jc_…`.
    pub category_code: String,
    /// Human-readable name, e.g. "Computer Service or Repair".
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
    /// Creation time, in epoch seconds; set by 1099Policy.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Job title; required on create (coverbridge sends the work order title).
    #[serde(default)]
    pub name: Option<String>,
    /// What the work is; required on create (coverbridge sends the work order's scope).
    #[serde(default)]
    pub description: Option<String>,
    /// Entity (`en_…`) the work is for; older API versions called it `entity_id`.
    #[serde(default)]
    pub entity: Option<String>,
    /// Category code (`jc_…`).
    #[serde(default)]
    pub category_code: Option<String>,
    /// Pay per `wage_type` unit (the flat fee, the hourly rate, …), in cents.
    #[serde(default, deserialize_with = "decode::cents")]
    pub wage: Option<Cents>,
    /// How the wage is paid.
    #[serde(default)]
    pub wage_type: Option<WageType>,
    /// Years of experience required.
    #[serde(default)]
    pub years_experience: Option<i64>,
    /// Job site; absent for remote work.
    #[serde(default, deserialize_with = "decode::nested")]
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
    /// Creation time, in epoch seconds; set by 1099Policy.
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
    /// Start of coverage, in epoch seconds (the API may send a numeric string).
    #[serde(default)]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage, in epoch seconds (the API may send a numeric string).
    #[serde(default)]
    pub end_date: Option<EpochSeconds>,
    /// Whether 1099Policy will insure this contractor for this job; `None` when not sent.
    #[serde(default)]
    pub eligible: Option<bool>,
    /// Premium in cents per $100 earned.
    #[serde(default, deserialize_with = "decode::cents")]
    pub net_rate: Option<Cents>,
    /// General-liability part of `net_rate`, in cents per $100 earned.
    #[serde(default, deserialize_with = "decode::cents")]
    pub gl_net_rate: Option<Cents>,
    /// Workers'-compensation part of `net_rate`, in cents per $100 earned.
    #[serde(default, deserialize_with = "decode::cents")]
    pub wc_net_rate: Option<Cents>,
    /// Rate breakdown (`gl`, `wc`, fees) as the API sends it, possibly stringified.
    #[serde(default, deserialize_with = "decode::nested")]
    pub quote_json: Option<Value>,
    /// Free key/value pairs, e.g. the `work_order_id` coverbridge sets.
    #[serde(default)]
    pub custom_metadata: Metadata,
}

/// An insurance application session (`ias_…`): where the contractor applies for a policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ApplicationSession {
    /// `ias_…`.
    pub id: String,
    /// Creation time, in epoch seconds; set by 1099Policy.
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
    /// Whether the session expired; an expired session cannot be completed or expired again.
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
    /// URL of the general-liability certificate PDF; `None` until issued.
    #[serde(default)]
    pub gl_coi_pdf_url: Option<String>,
    /// URL of the workers' compensation certificate PDF; `None` until issued.
    #[serde(default)]
    pub wc_coi_pdf_url: Option<String>,
}

/// A policy (`pl_…`), created when the contractor completes an application.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Policy {
    /// `pl_…`.
    pub id: String,
    /// Creation time, in epoch seconds; set by 1099Policy.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Quote it was issued for (`qt_…`).
    #[serde(default)]
    pub quote: Option<String>,
    /// `active`, `cancelled` or `expired`.
    pub status: PolicyStatus,
    /// The on/off switch (`is_active`, set by PUT); seen in event payloads, not in every answer.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Start of coverage, in epoch seconds (default: the day after creation).
    #[serde(default)]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage, in epoch seconds; `expiration_date` here, `end_date` on quotes.
    #[serde(default)]
    pub expiration_date: Option<EpochSeconds>,
    /// URL of the policy document PDF.
    #[serde(default)]
    pub pdf_url: Option<String>,
    /// Certificate-of-insurance PDF URLs; may arrive as a stringified object.
    #[serde(default, deserialize_with = "decode::nested")]
    pub certificates: Option<CoiCertificates>,
}

/// Whether an assignment may be bound, and why not.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Eligibility {
    /// `true` when the assignment may be bound.
    pub result: bool,
    /// 1099Policy's explanation, e.g. "Contractor's policy matches".
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
    /// Creation time, in epoch seconds; set by 1099Policy.
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
    /// Coverage types covered (on create, default: the policy's).
    #[serde(default)]
    pub coverage_type: Vec<CoverageType>,
    /// Start of coverage, in epoch seconds.
    #[serde(default)]
    pub effective_date: Option<EpochSeconds>,
    /// End of coverage, in epoch seconds; once bound, only `…/assignments/extend` moves it.
    #[serde(default)]
    pub end_date: Option<EpochSeconds>,
    /// Premium in cents per $100 earned.
    #[serde(default, deserialize_with = "decode::cents")]
    pub net_rate: Option<Cents>,
    /// Certificate-of-insurance PDF URLs for this job's coverage.
    #[serde(default, deserialize_with = "decode::nested")]
    pub certificates: Option<CoiCertificates>,
    /// Verdict on binding; may arrive as a stringified object.
    #[serde(default, deserialize_with = "decode::nested")]
    pub eligible: Option<Eligibility>,
    /// Whether it was cancelled (irreversible, and only possible before it starts).
    #[serde(default)]
    pub cancelled: bool,
    /// When it was cancelled, in epoch seconds.
    #[serde(default)]
    pub cancellation_date: Option<EpochSeconds>,
    /// Why it was cancelled, e.g. `client_request` or `contractor_request`.
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
    /// Review state: `pending`, `processing`, then `approved`, `flagged`, `denied` or `error`.
    pub status: CertificateStatus,
    /// When it was uploaded, in epoch seconds.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// When its review last changed, in epoch seconds.
    #[serde(default)]
    pub updated: Option<EpochSeconds>,
    /// Uploaded file name.
    #[serde(default)]
    pub filename: Option<String>,
    /// The processed document, once available.
    #[serde(default)]
    pub pdf_url: Option<String>,
    /// Review results; `None` unless asked for with `expand[]=review_results`.
    #[serde(default, deserialize_with = "decode::nested")]
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
    /// Creation time, in epoch seconds; set by 1099Policy.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Contractor (`cn_…`).
    #[serde(default)]
    pub contractor: Option<String>,
    /// Job (`jb_…`).
    #[serde(default)]
    pub job: Option<String>,
    /// Gross pay for the pay cycle, in cents.
    #[serde(default, deserialize_with = "decode::cents")]
    pub gross_pay: Option<Cents>,
    /// Premium due on the gross pay, in cents; computed by 1099Policy.
    #[serde(default, deserialize_with = "decode::cents")]
    pub premium_due: Option<Cents>,
    /// Start of the pay cycle, in epoch seconds.
    #[serde(default)]
    pub paycycle_startdate: Option<EpochSeconds>,
    /// End of the pay cycle, in epoch seconds.
    #[serde(default)]
    pub paycycle_enddate: Option<EpochSeconds>,
    /// Purchase order number; when not sent, the job's `custom_metadata.purchase_order_number`.
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
    /// Free-text note on the endpoint, as registered.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was registered, in epoch seconds.
    #[serde(default)]
    pub created: Option<EpochSeconds>,
    /// Event types delivered (empty or `*`: all).
    #[serde(default)]
    pub events: Vec<String>,
    /// Signing secret (`whsec_…`); the docs' examples show `false` here, read as absent.
    #[serde(default, deserialize_with = "secret_string", serialize_with = "expose_secret")]
    pub secret: Option<Secret>,
}

fn secret_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(secret) if !secret.is_empty() => Some(Secret::new(secret)),
        _ => None,
    })
}

// The wire shape carries the secret; only tests serialize it.
fn expose_secret<S: serde::Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    secret.as_ref().map(Secret::expose).serialize(s)
}

/// Whatever has an id to page with (`starting_after`).
pub(crate) trait Listed {
    fn list_id(&self) -> &str;
}

macro_rules! listed_by_id {
    ($($t:ty),*) => {$(
        impl Listed for $t {
            fn list_id(&self) -> &str {
                &self.id
            }
        }
    )*};
}

listed_by_id!(
    Contractor,
    Entity,
    Job,
    Quote,
    ApplicationSession,
    Policy,
    Assignment,
    Certificate,
    Invoice,
    WebhookEndpoint
);

impl Listed for CategoryCode {
    fn list_id(&self) -> &str {
        &self.category_code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_examples_decode_with_their_quirks() {
        let quote: Quote = serde_json::from_str(
            r#"{"id": "qt_5DciVga8Kt", "created": 1696015731, "contractor": "cn_Ehb3bYa",
                "job": "jb_jsb9KEcTpc", "coverage_type": ["general", "workers-comp"],
                "effective_date": "1761997200", "end_date": "1762083600", "eligible": true,
                "net_rate": 65, "gl_net_rate": 20, "wc_net_rate": 45,
                "quote_json": "{'gl': {'net_rate': 20, 'stamping_fee': None}, 'wc': {'net_rate': 45}}",
                "brand_new_field": {"ignored": true}}"#,
        )
        .unwrap();
        assert_eq!(quote.effective_date, Some(EpochSeconds(1_761_997_200)));
        assert_eq!(quote.coverage_type, [CoverageType::General, CoverageType::WorkersComp]);
        assert_eq!(quote.net_rate, Some(Cents(65)));
        assert_eq!(quote.quote_json.unwrap()["gl"]["net_rate"], 20);

        let assignment: Assignment = serde_json::from_str(
            r#"{"id": "an_TzLQszJmoP", "contractor": "cn_Ehb3bYa", "job": "jb_x", "policy": "pl_WzFRszJhoY",
                "coverage_type": ["general"], "effective_date": 1761997200, "end_date": 1762083600,
                "eligible": "{'result': True, 'message': \"Contractor's policy matches\"}",
                "certificates": "{\"gl_coi_pdf_url\": \"https://x/gl.pdf\", \"wc_coi_pdf_url\": null}",
                "cancelled": true, "cancellation_date": 1761900000, "cancellation_reason": "client_request"}"#,
        )
        .unwrap();
        let eligible = assignment.eligible.unwrap();
        assert!(eligible.result);
        assert_eq!(eligible.message.as_deref(), Some("Contractor's policy matches"));
        assert_eq!(assignment.certificates.unwrap().gl_coi_pdf_url.as_deref(), Some("https://x/gl.pdf"));
        assert!(assignment.cancelled);

        let contractor: Contractor = serde_json::from_str(
            r#"{"id": "cn_Ehb3bYa", "email": "a@b.c",
                "address": "{'line1': '1 Main', 'locality': 'Austin', 'region': 'TX', 'postalcode': 78701, 'country': 'US'}",
                "custom_metadata": "{'workmarket_worker_id': 8823580}"}"#,
        )
        .unwrap();
        assert_eq!(contractor.address.unwrap().postalcode.as_deref(), Some("78701"));
        assert_eq!(contractor.custom_metadata.get("workmarket_worker_id"), Some("8823580"));
    }

    #[test]
    fn money_never_decodes_from_a_float() {
        let error = serde_json::from_str::<Invoice>(r#"{"id": "in_1", "gross_pay": 1200.5}"#).unwrap_err();
        assert!(error.to_string().contains("whole number of cents"), "{error}");
    }

    #[test]
    fn webhook_endpoint_secrets_stay_out_of_debug() {
        let endpoint: WebhookEndpoint =
            serde_json::from_str(r#"{"id": "whe_1", "url": "https://x", "secret": "whsec_topsecret"}"#).unwrap();
        assert_eq!(endpoint.secret.as_ref().map(Secret::expose), Some("whsec_topsecret"));
        assert!(!format!("{endpoint:?}").contains("topsecret"));
        let doc_bug: WebhookEndpoint = serde_json::from_str(r#"{"id": "whe_1", "secret": false}"#).unwrap();
        assert_eq!(doc_bug.secret, None);
    }
}
