//! Act: make the one external write a step asks for, under its idempotency key, and say what
//! came of it. Answers that are part of the flow (duplicate e-mail, matching policy, a job in
//! use) are outcomes, not errors.

use bytes::Bytes;
use jiff::Timestamp;

use super::error::{ReconcileError, Ten99Read};
use super::facts::{AddressFacts, AssignmentFacts, PolicyFacts};
use super::keys::key;
use super::observe::{assignment_facts, policy_facts};
use super::steps::{ContractorDraft, Coverage, Step, Undo};
use crate::resources::{CertificateStatus, JobTerms};
use crate::ten99policy::{self as t99, ErrorCode, Metadata, Ten99PolicyClient, Ten99PolicyError};

/// What a step achieved.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The worker's contractor: created, or an existing one for the same worker adopted.
    Contractor {
        /// Contractor id.
        id: String,
        /// Found rather than created.
        adopted: bool,
    },
    /// The worker's e-mail belongs to a contractor for someone else.
    ContractorConflict(String),
    /// The certificate was uploaded.
    Certificate {
        /// Certificate id.
        id: String,
        /// Review state.
        status: CertificateStatus,
        /// SHA-256 of the uploaded PDF.
        digest: String,
    },
    /// The job was created.
    Job {
        /// Job id.
        id: String,
        /// Its terms.
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
        /// Quote id.
        id: String,
        /// Whether 1099Policy will insure.
        eligible: bool,
    },
    /// The contractor already holds a matching policy: cover by assignment.
    MatchingPolicy,
    /// The application session was created.
    Session {
        /// Session id.
        id: String,
        /// Where the worker applies.
        url: String,
    },
    /// The assignment was created.
    Assignment {
        /// Assignment id.
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
        /// Invoice id.
        id: String,
    },
}

/// How many of the newest objects of a kind a lookup scans for an earlier create.
const LOOKUP_WINDOW: usize = 500;

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
    let key = key(uid, step, attempt);
    let failed = ReconcileError::writing(step.kind());
    let metadata = |work_order_id: &str| Metadata::default().with("work_order_id", work_order_id);
    match step {
        Step::CreateContractor(draft) => match client.create_contractor(&new_contractor(draft), &key).await {
            Ok(contractor) => Ok(Outcome::Contractor { id: contractor.id, adopted: false }),
            Err(e) if e.is(&ErrorCode::DuplicateEmail) => match adopt(client, draft).await? {
                Some(outcome) => Ok(outcome),
                None => Err(failed(e)),
            },
            Err(e) => Err(failed(e)),
        },
        Step::UploadCertificate { contractor_id, pdf, digest, work_order_id } => {
            let upload = t99::CertificateUpload {
                contractor: contractor_id.clone(),
                filename: "certificate.pdf".into(),
                pdf: Bytes::from(pdf.clone()),
                custom_metadata: metadata(work_order_id).with("sha256", digest.clone()),
            };
            let certificate = client.upload_certificate(&upload, &key).await.map_err(failed)?;
            Ok(Outcome::Certificate { id: certificate.id, status: certificate.status, digest: digest.clone() })
        }
        Step::CreateJob(draft) => {
            let job = t99::NewJob {
                name: draft.name.clone(),
                description: draft.description.clone(),
                entity: draft.entity.clone(),
                category_code: draft.terms.category_code.clone(),
                wage: crate::money::Cents(draft.terms.wage_cents),
                wage_type: draft.terms.wage_type,
                years_experience: None,
                address: Some(region_only(&draft.terms.region)),
                custom_metadata: metadata(&draft.work_order_id),
            };
            let job = client.create_job(&job, &key).await.map_err(failed)?;
            Ok(Outcome::Job { id: job.id, terms: draft.terms.clone() })
        }
        Step::UpdateJob { job_id, terms } => {
            let update = t99::JobUpdate {
                category_code: Some(terms.category_code.clone()),
                wage: Some(crate::money::Cents(terms.wage_cents)),
                wage_type: Some(terms.wage_type),
                address: Some(region_only(&terms.region)),
                ..Default::default()
            };
            match client.update_job(job_id, &update).await {
                Ok(_) => Ok(Outcome::JobUpdated(terms.clone())),
                Err(e) if e.is(&ErrorCode::JobIsUsed) || e.is(&ErrorCode::InvoiceExists) => {
                    Ok(Outcome::JobRefused { terms: terms.clone(), message: message(&e) })
                }
                Err(e) => Err(failed(e)),
            }
        }
        Step::CreateQuote { contractor_id, job_id, coverage, work_order_id } => {
            let quote = t99::NewQuote {
                contractor: contractor_id.clone(),
                job: job_id.clone(),
                coverage_type: coverage.types.clone(),
                effective_date: Some(coverage.effective.into()),
                end_date: Some(coverage.end.into()),
                custom_metadata: metadata(work_order_id),
            };
            match client.create_quote(&quote, &key).await {
                Ok(quote) => Ok(Outcome::Quote { id: quote.id, eligible: quote.eligible.unwrap_or(true) }),
                Err(e) if e.is(&ErrorCode::ContractorHasMatchingPolicy) => Ok(Outcome::MatchingPolicy),
                Err(e) => Err(failed(e)),
            }
        }
        Step::CreateSession { quote_id, success_url, cancel_url, work_order_id, .. } => {
            let session = t99::NewApplicationSession {
                quote: quote_id.clone(),
                success_url: Some(success_url.clone()),
                cancel_url: Some(cancel_url.clone()),
                custom_metadata: metadata(work_order_id),
            };
            let session = client.create_application_session(&session, &key).await.map_err(failed)?;
            Ok(Outcome::Session { id: session.id, url: session.url.unwrap_or_default() })
        }
        Step::CreateAssignment { contractor_id, job_id, coverage, work_order_id } => {
            let assignment = new_assignment(contractor_id, job_id, coverage, metadata(work_order_id));
            let created = client.create_assignment(&assignment, &key).await.map_err(failed)?;
            let policy = match &created.policy {
                Some(id) => Some(policy_facts(
                    &client.get_policy(id).await.map_err(ReconcileError::reading(Ten99Read::Policy))?,
                )),
                None => None,
            };
            Ok(Outcome::Assignment { facts: assignment_facts(&created), id: created.id, policy })
        }
        Step::ExtendAssignment { job_id, end } => {
            let extended = client.extend_assignment(job_id, (*end).into(), &key).await.map_err(failed)?;
            Ok(Outcome::AssignmentExtended(assignment_facts(&extended)))
        }
        Step::CancelAssignment { job_id, because } => {
            let cancelled = client.cancel_assignment(job_id, Some("client_request"), &key).await.map_err(failed)?;
            Ok(Outcome::AssignmentCancelled { facts: assignment_facts(&cancelled), because: *because })
        }
        Step::ExpireSession { session_id, because } => {
            match client.expire_application_session(session_id, &key).await {
                Ok(_) => Ok(Outcome::SessionExpired { because: *because }),
                // Already expired or completed: nothing left to expire.
                Err(e)
                    if matches!(e.code(), Some(ErrorCode::SessionExpired | ErrorCode::ApplicationAlreadyComplete)) =>
                {
                    Ok(Outcome::SessionExpired { because: *because })
                }
                Err(e) => Err(failed(e)),
            }
        }
        Step::CreateInvoice { contractor_id, job_id, gross_pay, start, end } => {
            let invoice = t99::NewInvoice {
                contractor: contractor_id.clone(),
                job: job_id.clone(),
                gross_pay: *gross_pay,
                paycycle_startdate: (*start).into(),
                paycycle_enddate: (*end).into(),
                purchase_order_number: None,
            };
            let invoice = client.create_invoice(&invoice, &key).await.map_err(failed)?;
            Ok(Outcome::Invoice { id: invoice.id })
        }
    }
}

/// What an earlier attempt of `step` created, if anything: found among the newest objects of
/// its kind by what the request carried (work order metadata, job, quote, contractor, digest).
async fn find_existing(client: &Ten99PolicyClient, step: &Step) -> Result<Option<Outcome>, ReconcileError> {
    let lookup = || ReconcileError::reading(Ten99Read::Recent(step.kind()));
    let outcome = match step {
        Step::CreateContractor(draft) => return adopt(client, draft).await,
        Step::CreateJob(draft) => client
            .recent_jobs(LOOKUP_WINDOW)
            .await
            .map_err(lookup())?
            .into_iter()
            .find(|job| {
                job.custom_metadata.get("work_order_id") == Some(draft.work_order_id.as_str())
                    && job.entity.as_deref() == Some(draft.entity.as_str())
            })
            .map(|job| Outcome::Job { id: job.id, terms: draft.terms.clone() }),
        Step::CreateQuote { contractor_id, job_id, .. } => client
            .recent_quotes(LOOKUP_WINDOW)
            .await
            .map_err(lookup())?
            .into_iter()
            .find(|q| {
                q.job.as_deref() == Some(job_id.as_str()) && q.contractor.as_deref() == Some(contractor_id.as_str())
            })
            .map(|q| Outcome::Quote { id: q.id, eligible: q.eligible.unwrap_or(true) }),
        Step::CreateSession { quote_id, replaces, .. } => client
            .recent_application_sessions(LOOKUP_WINDOW)
            .await
            .map_err(lookup())?
            .into_iter()
            .find(|s| s.quote.as_deref() == Some(quote_id.as_str()) && !s.expired && Some(&s.id) != replaces.as_ref())
            .map(|s| Outcome::Session { url: s.url.unwrap_or_default(), id: s.id }),
        Step::CreateAssignment { job_id, .. } => {
            let found = client
                .recent_assignments(LOOKUP_WINDOW)
                .await
                .map_err(lookup())?
                .into_iter()
                .find(|a| a.job.as_deref() == Some(job_id.as_str()) && !a.cancelled);
            match found {
                Some(a) => {
                    let policy = match &a.policy {
                        Some(id) => Some(policy_facts(&client.get_policy(id).await.map_err(lookup())?)),
                        None => None,
                    };
                    Some(Outcome::Assignment { facts: assignment_facts(&a), id: a.id, policy })
                }
                None => None,
            }
        }
        Step::UploadCertificate { contractor_id, digest, .. } => client
            .recent_certificates(LOOKUP_WINDOW)
            .await
            .map_err(lookup())?
            .into_iter()
            .find(|c| {
                c.contractor.as_deref() == Some(contractor_id.as_str())
                    && c.custom_metadata.get("sha256") == Some(digest.as_str())
            })
            .map(|c| Outcome::Certificate { id: c.id, status: c.status, digest: digest.clone() }),
        Step::CreateInvoice { job_id, gross_pay, start, end, .. } => client
            .recent_invoices(LOOKUP_WINDOW)
            .await
            .map_err(lookup())?
            .into_iter()
            .find(|i| {
                i.job.as_deref() == Some(job_id.as_str())
                    && i.gross_pay == Some(*gross_pay)
                    && i.paycycle_startdate.and_then(|d| d.to_timestamp()) == Some(*start)
                    && i.paycycle_enddate.and_then(|d| d.to_timestamp()) == Some(*end)
            })
            .map(|i| Outcome::Invoice { id: i.id }),
        _ => None,
    };
    if let Some(outcome) = &outcome {
        tracing::info!(step = step.kind().as_str(), ?outcome, "adopting what an earlier attempt created");
    }
    Ok(outcome)
}

/// Finds the worker's existing contractor by e-mail: ours if its metadata names the same worker,
/// a conflict if it names someone else (or no one).
async fn adopt(client: &Ten99PolicyClient, draft: &ContractorDraft) -> Result<Option<Outcome>, ReconcileError> {
    let found = client
        .list_contractors_by_email(&draft.email)
        .await
        .map_err(ReconcileError::reading(Ten99Read::ContractorsByEmail))?;
    let Some(existing) = found.into_iter().next() else { return Ok(None) };
    Ok(Some(match existing.custom_metadata.get("workmarket_worker_id") {
        Some(worker) if worker == draft.worker_id => Outcome::Contractor { id: existing.id, adopted: true },
        other => Outcome::ContractorConflict(format!(
            "{} already belongs to 1099Policy contractor {} ({}); coverbridge will not insure worker {} under someone else's record",
            draft.email,
            existing.id,
            match other {
                Some(worker) => format!("WorkMarket worker {worker}"),
                None => "created outside coverbridge".to_owned(),
            },
            draft.worker_id
        )),
    }))
}

fn new_contractor(draft: &ContractorDraft) -> t99::NewContractor {
    t99::NewContractor {
        first_name: draft.first_name.clone(),
        last_name: draft.last_name.clone(),
        email: draft.email.clone(),
        phone: draft.phone.clone(),
        address: address(&draft.address),
        middle_name: None,
        company_name: None,
        custom_metadata: Metadata::default().with("workmarket_worker_id", draft.worker_id.clone()),
        withhold_premium: None,
    }
}

fn address(a: &AddressFacts) -> t99::Address {
    t99::Address {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        locality: a.city.clone(),
        region: a.region.clone(),
        postalcode: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

/// A job site known only by its state, which is all 1099Policy prices by.
fn region_only(region: &str) -> t99::Address {
    t99::Address { region: Some(region.to_owned()), country: Some("US".into()), ..Default::default() }
}

fn new_assignment(contractor: &str, job: &str, coverage: &Coverage, custom_metadata: Metadata) -> t99::NewAssignment {
    let epoch = |t: Timestamp| Some(t.into());
    t99::NewAssignment {
        contractor: contractor.to_owned(),
        job: job.to_owned(),
        coverage_type: coverage.types.clone(),
        effective_date: epoch(coverage.effective),
        end_date: epoch(coverage.end),
        policy: None,
        bind: None,
        custom_metadata,
    }
}

fn message(error: &Ten99PolicyError) -> String {
    match error {
        Ten99PolicyError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
