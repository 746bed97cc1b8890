//! Adoption: finding what an earlier attempt of a create may already have made — its answer
//! lost, or a failure 1099Policy may have stored — so a retry takes it over instead of making a
//! second one (DESIGN §2). Found by what the request carried: work order metadata, job, quote,
//! contractor, digest.

use super::act::Outcome;
use super::error::{ReconcileError, Ten99Read};
use super::observe::{assignment_facts, policy_facts};
use super::steps::{ContractorDraft, JobDraft, Step};
use crate::money::Cents;
use crate::ten99policy::Ten99PolicyClient;
use jiff::Timestamp;

/// How many of the newest objects of a kind a lookup scans for an earlier create.
const LOOKUP_WINDOW: usize = 500;

/// What an earlier attempt of `step` created, if anything.
pub async fn find_existing(client: &Ten99PolicyClient, step: &Step) -> Result<Option<Outcome>, ReconcileError> {
    let lookup = ReconcileError::reading(Ten99Read::Recent(step.kind()));
    let outcome = match step {
        Step::CreateContractor(draft) => return adopt(client, draft).await,
        Step::CreateJob(draft) => job(client, draft).await.map_err(lookup)?,
        Step::CreateQuote { contractor_id, job_id, .. } => {
            quote(client, contractor_id, job_id).await.map_err(lookup)?
        }
        Step::CreateSession { quote_id, replaces, .. } => {
            session(client, quote_id, replaces.as_deref()).await.map_err(lookup)?
        }
        Step::CreateAssignment { job_id, .. } => assignment(client, job_id).await.map_err(lookup)?,
        Step::UploadCertificate { contractor_id, digest, .. } => {
            certificate(client, contractor_id, digest).await.map_err(lookup)?
        }
        Step::CreateInvoice { job_id, gross_pay, start, end, .. } => {
            invoice(client, job_id, *gross_pay, (*start, *end)).await.map_err(lookup)?
        }
        _ => None,
    };
    if let Some(outcome) = &outcome {
        tracing::info!(step = step.kind().as_str(), ?outcome, "adopting what an earlier attempt created");
    }
    Ok(outcome)
}

/// Finds the worker's existing contractor by e-mail: ours if its metadata names the same worker,
/// a conflict if it names someone else (or no one).
pub async fn adopt(client: &Ten99PolicyClient, draft: &ContractorDraft) -> Result<Option<Outcome>, ReconcileError> {
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

type Found = Result<Option<Outcome>, crate::ten99policy::Ten99PolicyError>;

async fn job(client: &Ten99PolicyClient, draft: &JobDraft) -> Found {
    let jobs = client.recent_jobs(LOOKUP_WINDOW).await?;
    Ok(jobs
        .into_iter()
        .find(|job| {
            job.custom_metadata.get("work_order_id") == Some(draft.work_order_id.as_str())
                && job.entity.as_deref() == Some(draft.entity.as_str())
        })
        .map(|job| Outcome::Job { id: job.id, terms: draft.terms.clone() }))
}

async fn quote(client: &Ten99PolicyClient, contractor: &str, job: &str) -> Found {
    let quotes = client.recent_quotes(LOOKUP_WINDOW).await?;
    Ok(quotes
        .into_iter()
        .find(|q| q.job.as_deref() == Some(job) && q.contractor.as_deref() == Some(contractor))
        .map(|q| Outcome::Quote { id: q.id, eligible: q.eligible.unwrap_or(true) }))
}

/// A live session for the quote — never the expired one it replaces.
async fn session(client: &Ten99PolicyClient, quote: &str, replaces: Option<&str>) -> Found {
    let sessions = client.recent_application_sessions(LOOKUP_WINDOW).await?;
    Ok(sessions
        .into_iter()
        .find(|s| s.quote.as_deref() == Some(quote) && !s.expired && Some(s.id.as_str()) != replaces)
        .map(|s| Outcome::Session { url: s.url.unwrap_or_default(), id: s.id }))
}

async fn assignment(client: &Ten99PolicyClient, job: &str) -> Found {
    let assignments = client.recent_assignments(LOOKUP_WINDOW).await?;
    let Some(found) = assignments.into_iter().find(|a| a.job.as_deref() == Some(job) && !a.cancelled) else {
        return Ok(None);
    };
    let policy = match &found.policy {
        Some(id) => Some(policy_facts(&client.get_policy(id).await?)),
        None => None,
    };
    Ok(Some(Outcome::Assignment { facts: assignment_facts(&found), id: found.id, policy }))
}

async fn certificate(client: &Ten99PolicyClient, contractor: &str, digest: &str) -> Found {
    let certificates = client.recent_certificates(LOOKUP_WINDOW).await?;
    Ok(certificates
        .into_iter()
        .find(|c| c.contractor.as_deref() == Some(contractor) && c.custom_metadata.get("sha256") == Some(digest))
        .map(|c| Outcome::Certificate { id: c.id, status: c.status, digest: digest.to_owned() }))
}

async fn invoice(client: &Ten99PolicyClient, job: &str, gross_pay: Cents, cycle: (Timestamp, Timestamp)) -> Found {
    let invoices = client.recent_invoices(LOOKUP_WINDOW).await?;
    Ok(invoices
        .into_iter()
        .find(|i| {
            i.job.as_deref() == Some(job)
                && i.gross_pay == Some(gross_pay)
                && i.paycycle_startdate.and_then(|d| d.to_timestamp()) == Some(cycle.0)
                && i.paycycle_enddate.and_then(|d| d.to_timestamp()) == Some(cycle.1)
        })
        .map(|i| Outcome::Invoice { id: i.id }))
}
