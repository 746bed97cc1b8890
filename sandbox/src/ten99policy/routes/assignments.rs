//! Assignments (`an_`): an existing policy extended to another job's term. Cancel and extend
//! go by job id, as in the real API.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, coverage_window, created, ok};
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::Fields;
use crate::ten99policy::routes::quotes::rates;
use crate::ten99policy::state::{YEAR, new_id};
use crate::ten99policy::{Assignment, Eligibility, EventType, NO_MATCHING_POLICY_MESSAGE};

pub(crate) async fn create(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let contractor = f.req_str("contractor")?;
    let job = f.req_str("job")?;
    let coverage = f.coverage("coverage_type")?.unwrap_or_default();
    let (effective, end) = (f.epoch("effective_date")?, f.epoch("end_date")?);
    let (policy, bind) = (f.str("policy")?, f.bool("bind")?.unwrap_or(true));
    f.metadata("custom_metadata")?;
    let now = sandbox.now();
    let mut store = sandbox.store();
    if store.contractor(&contractor).is_err() {
        return Err(ApiError::bad("invalid_contractor_id", format!("Contractor {contractor} does not exist")));
    }
    let Ok(job_object) = store.job(&job) else {
        return Err(ApiError::bad("invalid_job_id", format!("Job {job} does not exist")));
    };
    let (effective, end) = coverage_window(effective, end, now)?;
    if store.live_assignment_for_job(&job).is_some() {
        return Err(ApiError::bad("job_is_used", format!("Job {job} already has an assignment")));
    }
    let no_match = || ApiError::bad("bad_request", NO_MATCHING_POLICY_MESSAGE);
    let record = match &policy {
        Some(id) => {
            let record = store.policy(id).map_err(|_| no_match())?;
            let usable = record.contractor == contractor
                && record.policy.status == crate::ten99policy::wire::PolicyStatus::Active
                && store.policy_matches(&record.policy, job_object, &coverage);
            usable.then_some(record).ok_or_else(no_match)?
        }
        None => store.matching_policy(&contractor, job_object, &coverage).ok_or_else(no_match)?,
    };
    let coverage = if coverage.is_empty() {
        let quote = record.policy.quote.as_deref().unwrap_or_default();
        store.quote(quote)?.coverage_type.clone()
    } else {
        coverage
    };
    let assignment = Assignment {
        id: new_id("an_", 10),
        created: Some(now),
        contractor: Some(contractor),
        job: Some(job),
        policy: Some(record.policy.id.clone()),
        bind: Some(bind),
        net_rate: Some(rates(&coverage).2),
        coverage_type: coverage,
        effective_date: Some(effective),
        end_date: Some(end),
        certificates: record.policy.certificates.clone(),
        eligible: Some(Eligibility {
            result: true,
            message: Some("The contractor's policy covers this assignment.".into()),
            approval_reason: None,
        }),
        cancelled: false,
        cancellation_date: None,
        cancellation_reason: None,
    };
    store.assignments.push(assignment.clone());
    created(assignment)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.assignments.iter().collect(), |a: &Assignment| &a.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().assignment(&id)?)
}

/// Finds the job's live assignment (404 when the job or its assignment does not exist).
fn assignment_of_job(store: &mut crate::ten99policy::state::Store, job: &str) -> Result<String, ApiError> {
    store.job(job)?;
    store
        .live_assignment_for_job(job)
        .map(|a| a.id.clone())
        .ok_or_else(|| ApiError::not_found("assignment for job", job))
}

pub(crate) async fn cancel(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let job = f.req_str("job_id")?;
    let reason = f.str("reason")?.unwrap_or_else(|| "client_request".into());
    let now = sandbox.now();
    let mut store = sandbox.store();
    let id = assignment_of_job(&mut store, &job)?;
    let assignment = store.assignment_mut(&id)?;
    if assignment.effective_date.is_some_and(|start| start <= now) {
        return Err(ApiError::bad("invalid_input", "An assignment can only be cancelled before its start date"));
    }
    assignment.cancelled = true;
    assignment.cancellation_date = Some(now);
    assignment.cancellation_reason = Some(reason);
    let assignment = assignment.clone();
    store.emit(EventType::AssignmentCancelled, &assignment, now);
    ok(assignment)
}

pub(crate) async fn extend(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let job = f.req_str("job_id")?;
    let end = f.req_epoch("end_date")?;
    f.bool("send_email")?;
    let now = sandbox.now();
    let mut store = sandbox.store();
    let id = assignment_of_job(&mut store, &job)?;
    let assignment = store.assignment_mut(&id)?;
    let (start, current_end) = (assignment.effective_date.unwrap_or(now), assignment.end_date.unwrap_or(now));
    if current_end < now {
        return Err(ApiError::bad("invalid_input", "The assignment has expired"));
    }
    if end < current_end {
        return Err(ApiError::bad("end_date_invalid", "end_date cannot shorten the assignment"));
    }
    if end > start.plus_seconds(YEAR) {
        return Err(ApiError::bad(
            "end_date_invalid",
            "end_date must be at most one year after the assignment's effective_date",
        ));
    }
    assignment.end_date = Some(end);
    ok(assignment.clone())
}
