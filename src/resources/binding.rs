//! `CoverageBinding`: "this WorkMarket work order must be covered by 1099Policy".

// Each `printcolumn(...)` repeats `type_ = "string"`; clippy mistakes them for one attribute.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::StepKind;
use crate::insurance::{CertificateStatus, CoverageType, PolicyStatus, WageType};

/// Desired coverage for one WorkMarket work order. coverbridge creates the 1099Policy contractor,
/// job, quote and application (or assignment, or certificate review) this needs, and reports what
/// is in force in `status`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "coverbridge.io",
    version = "v1alpha1",
    kind = "CoverageBinding",
    namespaced,
    status = "CoverageBindingStatus",
    shortname = "covb",
    category = "coverbridge",
    derive = "PartialEq",
    doc = "CoverageBinding declares that a WorkMarket work order must carry insurance from 1099Policy before work starts. coverbridge reconciles both platforms until that coverage exists and records every external id and state in status.",
    printcolumn(
        name = "WorkOrder",
        type_ = "string",
        json_path = ".spec.workOrderId",
        description = "WorkMarket assignment number"
    ),
    printcolumn(
        name = "Worker",
        type_ = "string",
        json_path = ".status.workOrder.workerId",
        description = "WorkMarket worker assigned to the work order"
    ),
    printcolumn(
        name = "Phase",
        type_ = "string",
        json_path = ".status.phase",
        description = "Where the coverage flow stands"
    ),
    printcolumn(
        name = "Policy",
        type_ = "string",
        json_path = ".status.policyStatus",
        description = "1099Policy policy state"
    ),
    printcolumn(
        name = "COI",
        type_ = "string",
        json_path = ".status.certificateStatus",
        description = "Review state of a bring-your-own certificate"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("!(has(self.categoryCode) && has(self.categoryMappingRef))")
    .message("set either categoryCode or categoryMappingRef, not both")
    .reason(Reason::FieldValueForbidden))]
#[serde(rename_all = "camelCase")]
pub struct CoverageBindingSpec {
    /// WorkMarket assignment (work order) number, e.g. "6029116324". Required and immutable: a
    /// binding covers one work order for its whole life.
    #[schemars(length(min = 1))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("workOrderId is immutable; create a new CoverageBinding for another work order"))]
    pub work_order_id: String,

    /// WorkMarket user number of the worker expected on the work order. When WorkMarket shows a
    /// different worker, the binding raises a WorkerMismatch condition instead of insuring them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub worker_id: Option<String>,

    /// Work-order state that starts the coverage flow: Assigned (a worker accepted or was
    /// assigned; the default) or InProgress (the worker checked in). Nothing is created in
    /// 1099Policy before it.
    #[serde(default)]
    pub trigger: Trigger,

    /// Coverage the work order needs, one or more of general, professional, workers-comp, media,
    /// cyber (media and cyber also need general).
    #[schemars(length(min = 1, max = 5))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub coverage_types: Vec<CoverageType>,

    /// 1099Policy entity (the end client the work is for), an id starting with "en_". Defaults
    /// to the operator's configured default entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^en_[A-Za-z0-9]+$"))]
    pub entity: Option<String>,

    /// CategoryMapping that turns the work order's WorkMarket category into a 1099Policy job
    /// category code. When neither this nor categoryCode is set, the mapping named "default" in
    /// the binding's namespace is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_mapping_ref: Option<CategoryMappingRef>,

    /// 1099Policy job category code (starting with "jc_") to use directly, bypassing any
    /// CategoryMapping. Mutually exclusive with categoryMappingRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^jc_[A-Za-z0-9]+$"))]
    pub category_code: Option<String>,

    /// Two-letter US state where the work happens, e.g. "CA". Overrides the work location's
    /// state (and, for remote work, the worker's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub region: Option<String>,

    /// Where 1099Policy sends the worker after the insurance application. Defaults to the work
    /// order's WorkMarket page with ?coverage=active or ?coverage=canceled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationUrls>,

    /// Corrections to what WorkMarket says about the worker. 1099Policy needs an e-mail, phone
    /// and address for every contractor; a value missing from both WorkMarket and here is
    /// reported in a ContractorIncomplete condition, never invented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor: Option<ContractorOverrides>,

    /// Bring-your-own certificate of insurance. When set, the binding is satisfied by an approved
    /// certificate instead of a 1099Policy policy: only the contractor and the certificate are
    /// created, no job, quote or application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateSource>,

    /// Actual remuneration to record with 1099Policy when final pay differs from the estimate.
    /// Recorded once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceSpec>,

    /// Pause reconciling: no calls to WorkMarket or 1099Policy until set back to false.
    #[serde(default)]
    pub suspend: bool,

    /// What happens to coverage when this binding is deleted: Orphan (the default) leaves it in
    /// place; Cancel cancels the 1099Policy assignment if it has not started and expires an open
    /// application.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

impl CoverageBindingSpec {
    /// A spec for `work_order_id` needing `coverage_types`, everything else as a manifest that
    /// leaves it out gets.
    pub fn new(work_order_id: impl Into<String>, coverage_types: Vec<CoverageType>) -> Self {
        Self {
            work_order_id: work_order_id.into(),
            worker_id: None,
            trigger: Trigger::default(),
            coverage_types,
            entity: None,
            category_mapping_ref: None,
            category_code: None,
            region: None,
            application: None,
            contractor: None,
            certificate: None,
            invoice: None,
            suspend: false,
            deletion_policy: DeletionPolicy::default(),
        }
    }

    /// The CategoryMapping this binding uses: `None` with a direct category code or a
    /// bring-your-own certificate, else `categoryMappingRef.name` (default `default`).
    pub fn mapping_name(&self) -> Option<&str> {
        if self.certificate.is_some() || self.category_code.is_some() {
            return None;
        }
        Some(self.category_mapping_ref.as_ref().map_or("default", |r| r.name.as_str()))
    }

    /// The 1099Policy entity a job for this binding names: `spec.entity`, else the operator's
    /// default.
    pub fn entity_or<'a>(&'a self, default: Option<&'a str>) -> Option<&'a str> {
        self.entity.as_deref().or(default)
    }
}

/// The work-order state that starts the coverage flow.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trigger {
    /// A worker accepted or was assigned (WorkMarket status active or in_progress).
    #[default]
    Assigned,
    /// The worker checked in (WorkMarket status in_progress).
    InProgress,
}

/// What deleting a binding does to its coverage.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Leave coverage in place.
    #[default]
    Orphan,
    /// Cancel what can still be cancelled.
    Cancel,
}

/// Reference to a CategoryMapping in the binding's namespace.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct CategoryMappingRef {
    /// Name of the CategoryMapping.
    #[serde(default = "default_mapping_name")]
    #[schemars(length(min = 1))]
    pub name: String,
}

fn default_mapping_name() -> String {
    "default".to_owned()
}

/// Redirect targets of the 1099Policy insurance application.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationUrls {
    /// Page the worker lands on after finishing the application (http or https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub success_url: Option<String>,
    /// Page the worker lands on after abandoning the application (http or https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://\S+$"))]
    pub cancel_url: Option<String>,
}

/// Values that take precedence over WorkMarket's record of the worker.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct ContractorOverrides {
    /// E-mail address for the 1099Policy contractor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"))]
    pub email: Option<String>,
    /// Phone number for the 1099Policy contractor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub phone: Option<String>,
    /// Home address for the 1099Policy contractor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A postal address. Region and country are two-letter codes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street address: number and street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Apartment, suite or unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City, e.g. "San Jose".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Two-letter state or region code, e.g. "CA".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub region: Option<String>,
    /// Postal or ZIP code, e.g. "95113".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Two-letter country code, e.g. "US".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
}

/// Where the worker's own certificate of insurance comes from.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSource {
    /// Secret in the binding's namespace holding the certificate as a PDF (at most 15 MB).
    pub secret_ref: SecretKeyRef,
}

/// One key of a Secret in the binding's namespace.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Key within the Secret whose value is the PDF.
    #[schemars(length(min = 1))]
    pub key: String,
}

/// Actual pay for one pay cycle, recorded as a 1099Policy invoice.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("self.paycycleEnd >= self.paycycleStart")
    .message("paycycleEnd must not be before paycycleStart")
    .field_path(".paycycleEnd"))]
#[serde(rename_all = "camelCase")]
pub struct InvoiceSpec {
    /// Gross pay in integer cents (12500 is $125.00), from 100 to 100000000.
    #[schemars(range(min = 100, max = 100_000_000))]
    pub gross_pay: i64,
    /// Start of the pay cycle (RFC 3339, e.g. 2026-11-02T00:00:00Z).
    pub paycycle_start: Time,
    /// End of the pay cycle (RFC 3339); not before paycycleStart.
    pub paycycle_end: Time,
}

/// Observed state of a CoverageBinding. Every external id appears here as soon as it exists.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CoverageBindingStatus {
    /// Where the coverage flow stands: Pending, WaitingForTrigger, Provisioning,
    /// AwaitingApplication, AwaitingCertificateReview, Bound, NeedsReview, Unprotected, Cancelled,
    /// Completed or Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,

    /// The metadata.generation this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Current conditions: Ready and Synced always; Insured and CertificateValid when they
    /// apply; WorkStartedUninsured, CategoryUnmapped, ContractorConflict, ContractorIncomplete,
    /// WorkerMismatch and EffectiveDateClamped only while the problem exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,

    /// The work order as last read from WorkMarket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_order: Option<ObservedWorkOrder>,

    /// 1099Policy contractor id (cn_…) of the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_id: Option<String>,
    /// 1099Policy job id (jb_…) for this work order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// 1099Policy quote id (qt_…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_id: Option<String>,
    /// 1099Policy insurance application session id (ias_…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_session_id: Option<String>,
    /// Where the worker completes the 1099Policy insurance application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_url: Option<String>,
    /// 1099Policy policy id (pl_…) that covers this work order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// State of that policy: active, cancelled or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_status: Option<PolicyStatus>,
    /// 1099Policy assignment id (an_…) when an existing policy covers this work order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    /// 1099Policy certificate id (ci_…) of an uploaded bring-your-own certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    /// Review state of that certificate: pending, processing, approved, flagged, denied or error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_status: Option<CertificateStatus>,
    /// 1099Policy invoice id (in_…) of recorded remuneration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,

    /// Certificate-of-insurance documents, when 1099Policy provides them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coi_links: Option<CoiLinks>,

    /// Terms the 1099Policy job carries, as coverbridge last created or updated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_terms: Option<JobTerms>,
    /// Terms 1099Policy refused to apply to the job (it answered job_is_used or invoice_exists);
    /// not sent again until WorkMarket's terms change once more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_job_terms: Option<JobTerms>,
    /// SHA-256 (hex) of the certificate PDF uploaded as certificateId; a different PDF in the
    /// Secret is uploaded anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_digest: Option<String>,
    /// Create steps (contractor, job, quote, session, assignment, certificate, invoice) whose last
    /// attempt ended without a usable answer, with how many did. The next attempt first looks for
    /// the object and then uses a fresh idempotency key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub create_attempts: BTreeMap<StepKind, i32>,

    /// When coverbridge last compared this binding with WorkMarket and 1099Policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_at: Option<Time>,
}

/// Where the coverage flow stands: Pending (not yet observed), WaitingForTrigger,
/// Provisioning, AwaitingApplication, AwaitingCertificateReview, Bound (coverage in force),
/// NeedsReview, Unprotected (coverage lapsed), Cancelled, Completed or Failed (a person must act;
/// the conditions say why).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Not yet observed.
    Pending,
    /// The work order has not reached the trigger state yet.
    WaitingForTrigger,
    /// Creating the contractor, job and quote.
    Provisioning,
    /// The worker must finish the 1099Policy application at status.applicationUrl.
    AwaitingApplication,
    /// 1099Policy is reviewing the worker's own certificate.
    AwaitingCertificateReview,
    /// Coverage is in force for this work order.
    Bound,
    /// The worker's certificate was flagged and needs a person to look at it.
    NeedsReview,
    /// Coverage was in force and is not any more.
    Unprotected,
    /// The work order was voided or cancelled.
    Cancelled,
    /// The work order finished while covered.
    Completed,
    /// A terminal error only a person can fix; the conditions say which.
    Failed,
}

impl CoverageBindingStatus {
    /// Every 1099Policy id this status holds: what a 1099Policy webhook names the binding by.
    pub fn external_ids(&self) -> impl Iterator<Item = &str> {
        [
            &self.contractor_id,
            &self.job_id,
            &self.quote_id,
            &self.application_session_id,
            &self.policy_id,
            &self.assignment_id,
            &self.certificate_id,
            &self.invoice_id,
        ]
        .into_iter()
        .filter_map(|id| id.as_deref())
    }
}

/// What coverbridge last read about the work order from WorkMarket.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservedWorkOrder {
    /// WorkMarket status code, e.g. active, in_progress, complete, paid, cancelled, void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Work order title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Wage sent to 1099Policy, in integer cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wage_cents: Option<i64>,
    /// Wage type sent to 1099Policy: flatfee, hourly, unit or blended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wage_type: Option<WageType>,
    /// Start of the work order's schedule window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start: Option<Time>,
    /// End of the work order's schedule window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end: Option<Time>,
    /// Two-letter state where the work happens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// WorkMarket user number of the assigned worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// Name of the assigned worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_name: Option<String>,
    /// When WorkMarket last changed the work order, as of this read. The change-feed sweep
    /// skips a work order whose change the binding has already seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<Time>,
}

/// What a 1099Policy job says about the work: category, pay and place.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct JobTerms {
    /// 1099Policy job category code.
    pub category_code: String,
    /// Wage in integer cents.
    pub wage_cents: i64,
    /// flatfee, hourly, unit or blended.
    pub wage_type: WageType,
    /// Two-letter state where the work happens.
    pub region: String,
}

/// Links to certificate-of-insurance PDFs.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CoiLinks {
    /// The policy document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_pdf_url: Option<String>,
    /// Certificate of general liability insurance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general_liability_url: Option<String>,
    /// Certificate of workers' compensation insurance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers_comp_url: Option<String>,
    /// The processed bring-your-own certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pdf_url: Option<String>,
}
