//! Act: make the one external write a step asks for, under its idempotency key, and say what
//! came of it. Answers that are part of the flow (duplicate e-mail, matching policy, a job in
//! use) are outcomes, not errors.

use super::adopt::{adopt, find_existing};
use super::error::{ReconcileError, Ten99Read};
use super::facts::{AssignmentFacts, PolicyFacts};
use super::keys::key;
use super::observe::{assignment_facts, policy_facts};
use super::steps::{CANCEL_REASON, ContractorDraft, Step, Undo, requests};
use crate::resources::{CertificateStatus, JobTerms, StepKind};
use crate::ten99policy::{self as t99, ErrorCode, IdempotencyKey, Ten99PolicyClient, Ten99PolicyError};

/// What a step achieved.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The worker's contractor: created, or an existing one for the same worker adopted.
    Contractor {
        /// The contractor's `cn_…` id, recorded as `status.contractorId`.
        id: String,
        /// Found rather than created.
        adopted: bool,
    },
    /// The worker's e-mail belongs to a contractor for someone else.
    ContractorConflict(String),
    /// The certificate was uploaded.
    Certificate {
        /// The certificate's `ci_…` id.
        id: String,
        /// Review state at upload, usually `pending`.
        status: CertificateStatus,
        /// SHA-256 of the uploaded PDF.
        digest: String,
    },
    /// The job was created.
    Job {
        /// The job's `jb_…` id.
        id: String,
        /// The terms it was created with, recorded as `status.jobTerms`.
        terms: JobTerms,
    },
    /// The job now carries these terms.
    JobUpdated(JobTerms),
    /// 1099Policy refused to change the job.
    JobRefused {
        /// The refused terms.
        terms: JobTerms,
        /// What 1099Policy said.
        message: String,
    },
    /// The quote was created.
    Quote {
        /// The quote's `qt_…` id.
        id: String,
        /// Whether 1099Policy will insure.
        eligible: bool,
    },
    /// The contractor already holds a matching policy: cover by assignment.
    MatchingPolicy,
    /// The application session was created.
    Session {
        /// The session's `ias_…` id.
        id: String,
        /// Where the worker applies.
        url: String,
    },
    /// The assignment was created.
    Assignment {
        /// The assignment's `an_…` id.
        id: String,
        /// What it says.
        facts: AssignmentFacts,
        /// The policy it falls under, read at once so status shows its state.
        policy: Option<PolicyFacts>,
    },
    /// The assignment now ends later.
    AssignmentExtended(AssignmentFacts),
    /// The assignment was cancelled.
    AssignmentCancelled {
        /// What it says now.
        facts: AssignmentFacts,
        /// Why it was cancelled.
        because: Undo,
    },
    /// The application session was expired (or had already ended).
    SessionExpired {
        /// Why it was expired.
        because: Undo,
    },
    /// The invoice was recorded.
    Invoice {
        /// The invoice's `in_…` id.
        id: String,
    },
}

/// Makes a step's external write for the binding with `uid`, at attempt `attempt`. A later
/// attempt (the earlier one's answer was a failure 1099Policy may have stored, or never came)
/// first looks for what the earlier one may have created, and adopts it (DESIGN §2).
pub async fn act(client: &Ten99PolicyClient, uid: &str, step: &Step, attempt: u32) -> Result<Outcome, ReconcileError> {
    if attempt > 0
        && step.creates()
        && let Some(outcome) = find_existing(client, step).await?
    {
        return Ok(outcome);
    }
    let key = &key(uid, step, attempt);
    let failed = ReconcileError::writing(step.kind());
    match step {
        Step::CreateContractor(draft) => contractor(client, draft, key).await,
        Step::UploadCertificate { contractor_id, pdf, digest, work_order_id } => {
            let upload = requests::certificate(contractor_id, pdf, digest, work_order_id);
            let certificate = client.upload_certificate(&upload, key).await.map_err(failed)?;
            Ok(Outcome::Certificate { id: certificate.id, status: certificate.status, digest: digest.clone() })
        }
        Step::CreateJob(draft) => {
            let job = client.create_job(&draft.into(), key).await.map_err(failed)?;
            Ok(Outcome::Job { id: job.id, terms: draft.terms.clone() })
        }
        Step::UpdateJob { job_id, terms } => update_job(client, job_id, terms).await,
        Step::CreateQuote { contractor_id, job_id, coverage, work_order_id } => {
            match client.create_quote(&coverage.quote(contractor_id, job_id, work_order_id), key).await {
                Ok(quote) => Ok(Outcome::Quote { id: quote.id, eligible: quote.eligible.unwrap_or(true) }),
                Err(e) if e.is(&ErrorCode::ContractorHasMatchingPolicy) => Ok(Outcome::MatchingPolicy),
                Err(e) => Err(failed(e)),
            }
        }
        Step::CreateSession { quote_id, success_url, cancel_url, work_order_id, .. } => {
            let session = requests::session(quote_id, success_url, cancel_url, work_order_id);
            let session = client.create_application_session(&session, key).await.map_err(failed)?;
            Ok(Outcome::Session { id: session.id, url: session.url.unwrap_or_default() })
        }
        Step::CreateAssignment { contractor_id, job_id, coverage, work_order_id } => {
            let assignment = coverage.assignment(contractor_id, job_id, work_order_id);
            assigned(client, client.create_assignment(&assignment, key).await.map_err(failed)?).await
        }
        Step::ExtendAssignment { job_id, end } => {
            let extended = client.extend_assignment(job_id, (*end).into(), key).await.map_err(failed)?;
            Ok(Outcome::AssignmentExtended(assignment_facts(&extended)))
        }
        Step::CancelAssignment { job_id, because } => {
            let cancelled = client.cancel_assignment(job_id, Some(CANCEL_REASON), key).await.map_err(failed)?;
            Ok(Outcome::AssignmentCancelled { facts: assignment_facts(&cancelled), because: *because })
        }
        Step::ExpireSession { session_id, because } => expire(client, session_id, *because, key).await,
        Step::CreateInvoice { contractor_id, job_id, gross_pay, start, end } => {
            let invoice = requests::invoice(contractor_id, job_id, *gross_pay, (*start, *end));
            Ok(Outcome::Invoice { id: client.create_invoice(&invoice, key).await.map_err(failed)?.id })
        }
    }
}

/// Expires an application; one that already ended has nothing left to expire.
async fn expire(
    client: &Ten99PolicyClient,
    session_id: &str,
    because: Undo,
    key: &IdempotencyKey,
) -> Result<Outcome, ReconcileError> {
    match client.expire_application_session(session_id, key).await {
        Ok(_) => Ok(Outcome::SessionExpired { because }),
        Err(e) if matches!(e.code(), Some(ErrorCode::SessionExpired | ErrorCode::ApplicationAlreadyComplete)) => {
            Ok(Outcome::SessionExpired { because })
        }
        Err(e) => Err(ReconcileError::writing(StepKind::SessionExpire)(e)),
    }
}

/// Creates the worker's contractor; an e-mail 1099Policy already knows means adoption or a
/// conflict, never a second contractor.
async fn contractor(
    client: &Ten99PolicyClient,
    draft: &ContractorDraft,
    key: &IdempotencyKey,
) -> Result<Outcome, ReconcileError> {
    let failed = ReconcileError::writing(StepKind::Contractor);
    match client.create_contractor(&draft.into(), key).await {
        Ok(contractor) => Ok(Outcome::Contractor { id: contractor.id, adopted: false }),
        Err(e) if e.is(&ErrorCode::DuplicateEmail) => adopt(client, draft).await?.ok_or_else(|| failed(e)),
        Err(e) => Err(failed(e)),
    }
}

/// Brings the job's terms in line; a job 1099Policy will not change any more is an outcome.
async fn update_job(client: &Ten99PolicyClient, job_id: &str, terms: &JobTerms) -> Result<Outcome, ReconcileError> {
    match client.update_job(job_id, &terms.into()).await {
        Ok(_) => Ok(Outcome::JobUpdated(terms.clone())),
        Err(e) if e.is(&ErrorCode::JobIsUsed) || e.is(&ErrorCode::InvoiceExists) => {
            Ok(Outcome::JobRefused { terms: terms.clone(), message: message(&e) })
        }
        Err(e) => Err(ReconcileError::writing(StepKind::JobUpdate)(e)),
    }
}

/// A new assignment, with the policy it falls under read at once so status shows its state.
async fn assigned(client: &Ten99PolicyClient, created: t99::Assignment) -> Result<Outcome, ReconcileError> {
    let policy = match &created.policy {
        Some(id) => {
            Some(policy_facts(&client.get_policy(id).await.map_err(ReconcileError::reading(Ten99Read::Policy))?))
        }
        None => None,
    };
    Ok(Outcome::Assignment { facts: assignment_facts(&created), id: created.id, policy })
}

fn message(error: &Ten99PolicyError) -> String {
    match error {
        Ten99PolicyError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
