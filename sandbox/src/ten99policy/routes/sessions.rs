//! Insurance application sessions (`ias_`), and what completing one creates: a policy.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, created, ok};
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::Fields;
use crate::ten99policy::state::{PolicyRecord, Store, new_id, new_ulid, policy_object};
use crate::ten99policy::wire::{CoverageType, PolicyStatus};
use crate::ten99policy::{ApplicationSession, CoiCertificates, EpochSeconds, EventType, Policy, Quote};

/// The step of a finished application.
const COMPLETE: &str = "application_complete";

pub(crate) async fn create(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let general_opt_in = f.bool("is_general_opt_in")?.unwrap_or(false);
    let quote = if general_opt_in { f.str("quote")? } else { Some(f.req_str("quote")?) };
    let contractor = f.str("contractor")?;
    if general_opt_in && contractor.is_none() {
        return Err(ApiError::invalid("contractor is required for general opt-in sessions"));
    }
    let (success_url, cancel_url) = (f.str("success_url")?, f.str("cancel_url")?);
    let now = sandbox.now();
    let id = new_ulid("ias_", jiff::Timestamp::now().as_millisecond().max(0) as u64);
    let session = ApplicationSession {
        url: Some(format!("{}/apply/{id}", sandbox.public_url())),
        id,
        created: Some(now),
        quote,
        contractor,
        success_url,
        cancel_url,
        expired: false,
        step: Some("verify_info".into()),
    };
    let mut store = sandbox.store();
    if let Some(quote) = &session.quote
        && store.quote(quote).is_err()
    {
        return Err(ApiError::bad("invalid_quote_id", format!("Quote {quote} does not exist")));
    }
    store.sessions.push(session.clone());
    store.emit(EventType::ApplicationCreated, &session, now);
    created(session)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.sessions.iter().collect(), |s: &ApplicationSession| &s.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().session(&id)?)
}

pub(crate) async fn update(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let (success_url, cancel_url) = (f.str("success_url")?, f.str("cancel_url")?);
    let mut store = sandbox.store();
    let session = store.session_mut(&id)?;
    session.success_url = success_url.or(session.success_url.take());
    session.cancel_url = cancel_url.or(session.cancel_url.take());
    ok(session.clone())
}

pub(crate) async fn expire(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    let now = sandbox.now();
    ok(expire_session(&mut sandbox.store(), &id, now)?)
}

fn check_open(session: &ApplicationSession) -> Result<(), ApiError> {
    if session.expired {
        return Err(ApiError::bad("session_expired", "The application session has expired"));
    }
    if session.step.as_deref() == Some(COMPLETE) {
        return Err(ApiError::bad("application_already_complete", "The application is already complete"));
    }
    Ok(())
}

/// Expires an open session (emits `application.expired`).
pub(crate) fn expire_session(store: &mut Store, id: &str, now: EpochSeconds) -> Result<ApplicationSession, ApiError> {
    let session = store.session_mut(id)?;
    check_open(session)?;
    session.expired = true;
    let session = session.clone();
    store.emit(EventType::ApplicationExpired, &session, now);
    Ok(session)
}

/// The contractor finishes the application: the session completes and an active policy is
/// issued for its quote, with its documents (emits `application.complete`, `policy.active`).
pub(crate) fn complete_session(
    store: &mut Store,
    id: &str,
    now: EpochSeconds,
    public_url: &str,
) -> Result<Policy, ApiError> {
    check_open(store.session(id)?)?;
    let quote_id = store
        .session(id)?
        .quote
        .clone()
        .ok_or_else(|| ApiError::bad("invalid_quote_id", "General opt-in sessions have no quote to bind"))?;
    let quote = store.quote(&quote_id)?.clone();
    let policy = issue_policy(&quote, now, public_url);
    let session = store.session_mut(id)?;
    session.step = Some(COMPLETE.into());
    let session = session.clone();
    store
        .policies
        .push(PolicyRecord { policy: policy.clone(), contractor: quote.contractor.clone().unwrap_or_default() });
    store.emit(EventType::ApplicationComplete, &session, now);
    store.emit(EventType::PolicyActive, &policy_object(&policy), now);
    Ok(policy)
}

/// An active policy for `quote`'s term, with links to its documents.
pub(crate) fn issue_policy(quote: &Quote, now: EpochSeconds, public_url: &str) -> Policy {
    let id = new_id("pl_", 10);
    let doc = |kind: &str| format!("{public_url}/_sandbox/documents/{id}/{kind}.pdf");
    let covers = |c: CoverageType| quote.coverage_type.contains(&c);
    Policy {
        created: Some(now),
        quote: Some(quote.id.clone()),
        status: PolicyStatus::Active,
        is_active: Some(true),
        effective_date: quote.effective_date,
        expiration_date: quote.end_date,
        pdf_url: Some(doc("policy")),
        certificates: Some(CoiCertificates {
            gl_coi_pdf_url: covers(CoverageType::General).then(|| doc("gl_coi")),
            wc_coi_pdf_url: covers(CoverageType::WorkersComp).then(|| doc("wc_coi")),
        }),
        id,
    }
}
