//! The external writes the core can ask for, one per step, described in the core's own terms.
//! What each one sends is built from its draft in `drafts`.

mod drafts;
mod request;

use jiff::Timestamp;
use serde_json::{Value, json};

pub use drafts::{ContractorDraft, Coverage, JobDraft, requests, work_order_metadata};
pub use request::Request;

use crate::money::Cents;
use crate::resources::{JobTerms, StepKind};

/// Why coverage is being undone: the two ways a binding's work can end before it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undo {
    /// WorkMarket voided or cancelled the work order.
    WorkOrderCancelled,
    /// The binding was deleted with `deletionPolicy: Cancel`.
    BindingDeleted,
}

/// The reason 1099Policy is given when coverbridge cancels an assignment.
pub const CANCEL_REASON: &str = "client_request";

impl Undo {
    /// The cause as people read it, after a colon.
    pub fn cause(self) -> &'static str {
        match self {
            Self::WorkOrderCancelled => "the work order was cancelled",
            Self::BindingDeleted => "the binding was deleted",
        }
    }
}

/// One external write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create the contractor.
    CreateContractor(ContractorDraft),
    /// Upload the worker's own certificate PDF.
    UploadCertificate {
        /// Contractor it belongs to.
        contractor_id: String,
        /// The PDF's bytes, sent as the multipart `certificate` field.
        pdf: Vec<u8>,
        /// Its SHA-256, lowercase hex.
        digest: String,
        /// `custom_metadata[work_order_id]`.
        work_order_id: String,
    },
    /// Create the job.
    CreateJob(JobDraft),
    /// Bring the job's terms in line with WorkMarket.
    UpdateJob {
        /// The job's `jb_…` id.
        job_id: String,
        /// The terms WorkMarket implies now.
        terms: JobTerms,
    },
    /// Quote the coverage.
    CreateQuote {
        /// The contractor's `cn_…` id.
        contractor_id: String,
        /// The job's `jb_…` id.
        job_id: String,
        /// What and when.
        coverage: Coverage,
        /// `custom_metadata.work_order_id`.
        work_order_id: String,
    },
    /// Start the worker's insurance application.
    CreateSession {
        /// Quote to apply for.
        quote_id: String,
        /// The expired session this one replaces, if any.
        replaces: Option<String>,
        /// Where the worker lands after finishing.
        success_url: String,
        /// Where the worker lands after abandoning.
        cancel_url: String,
        /// `custom_metadata.work_order_id`.
        work_order_id: String,
    },
    /// Cover the job under the contractor's existing policy.
    CreateAssignment {
        /// The contractor's `cn_…` id.
        contractor_id: String,
        /// The job's `jb_…` id.
        job_id: String,
        /// What and when.
        coverage: Coverage,
        /// `custom_metadata.work_order_id`.
        work_order_id: String,
    },
    /// Move the assignment's end later (a rescheduled work order).
    ExtendAssignment {
        /// Assignments are addressed by job.
        job_id: String,
        /// The new end of coverage; 1099Policy refuses one earlier than the current end.
        end: Timestamp,
    },
    /// Cancel the assignment before it starts.
    CancelAssignment {
        /// Assignments are addressed by job.
        job_id: String,
        /// Why; it changes only what people are told.
        because: Undo,
    },
    /// Expire an unfinished application.
    ExpireSession {
        /// The session's `ias_…` id.
        session_id: String,
        /// Why; it changes only what people are told.
        because: Undo,
    },
    /// Record actual remuneration.
    CreateInvoice {
        /// The contractor's `cn_…` id.
        contractor_id: String,
        /// The job's `jb_…` id.
        job_id: String,
        /// Gross pay in cents: the binding's `spec.invoice`, else WorkMarket's final total cost.
        gross_pay: Cents,
        /// Pay cycle start.
        start: Timestamp,
        /// Pay cycle end.
        end: Timestamp,
    },
}

impl Step {
    /// What kind of write this is.
    pub fn kind(&self) -> StepKind {
        match self {
            Self::CreateContractor(_) => StepKind::Contractor,
            Self::UploadCertificate { .. } => StepKind::Certificate,
            Self::CreateJob(_) => StepKind::Job,
            Self::UpdateJob { .. } => StepKind::JobUpdate,
            Self::CreateQuote { .. } => StepKind::Quote,
            Self::CreateSession { .. } => StepKind::Session,
            Self::CreateAssignment { .. } => StepKind::Assignment,
            Self::ExtendAssignment { .. } => StepKind::AssignmentExtend,
            Self::CancelAssignment { .. } => StepKind::AssignmentCancel,
            Self::ExpireSession { .. } => StepKind::SessionExpire,
            Self::CreateInvoice { .. } => StepKind::Invoice,
        }
    }

    /// Whether the step creates an object (and so must happen exactly once).
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Self::CreateContractor(_)
                | Self::UploadCertificate { .. }
                | Self::CreateJob(_)
                | Self::CreateQuote { .. }
                | Self::CreateSession { .. }
                | Self::CreateAssignment { .. }
                | Self::CreateInvoice { .. }
        )
    }

    /// Whether the step builds the coverage itself. Others (an invoice, a job or assignment
    /// update, cleanup) can fail without the binding failing: coverage stands either way.
    pub fn builds_coverage(&self) -> bool {
        self.creates() && !matches!(self, Self::CreateInvoice { .. })
    }

    /// The terms an idempotency key is derived from: everything the request depends on except
    /// the clock, so that a retry after a crash derives the same key.
    pub fn key_terms(&self) -> Value {
        let secs = |t: &Timestamp| t.as_second();
        match self {
            Self::CreateContractor(d) => json!({"worker": d.worker_id}),
            Self::UploadCertificate { contractor_id, digest, work_order_id, .. } => {
                json!({"contractor": contractor_id, "digest": digest, "work_order": work_order_id})
            }
            Self::CreateJob(d) => {
                json!({"entity": d.entity, "terms": d.terms, "work_order": d.work_order_id})
            }
            Self::UpdateJob { job_id, terms } => json!({"job": job_id, "terms": terms}),
            Self::CreateQuote { contractor_id, job_id, coverage, .. }
            | Self::CreateAssignment { contractor_id, job_id, coverage, .. } => json!({
                "contractor": contractor_id,
                "job": job_id,
                "types": coverage.types,
                "window": [secs(&coverage.window.0), secs(&coverage.window.1)],
            }),
            // A replacement for an expired session must not replay the expired one.
            Self::CreateSession { quote_id, replaces, success_url, cancel_url, .. } => {
                json!({"quote": quote_id, "replaces": replaces, "success": success_url, "cancel": cancel_url})
            }
            Self::ExtendAssignment { job_id, end } => json!({"job": job_id, "end": secs(end)}),
            Self::CancelAssignment { job_id, .. } => json!({"job": job_id}),
            Self::ExpireSession { session_id, .. } => json!({"session": session_id}),
            Self::CreateInvoice { contractor_id, job_id, gross_pay, start, end } => json!({
                "contractor": contractor_id,
                "job": job_id,
                "gross_pay": gross_pay,
                "start": secs(start),
                "end": secs(end),
            }),
        }
    }
}
