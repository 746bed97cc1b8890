//! Quotes (`qt_`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use serde_json::json;

use super::{Answer, ListQuery, coverage_window, created, ok};
use crate::money::Cents;
use crate::ten99policy::Quote;
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::Fields;
use crate::ten99policy::state::new_id;
use crate::ten99policy::wire::CoverageType;

/// The sandbox's rates, in cents of premium per $100 earned.
pub(crate) fn rates(coverage: &[CoverageType]) -> (Option<Cents>, Option<Cents>, Cents) {
    let gl = coverage.contains(&CoverageType::General).then_some(Cents(20));
    let wc = coverage.contains(&CoverageType::WorkersComp).then_some(Cents(45));
    let others =
        coverage.iter().filter(|c| !matches!(c, CoverageType::General | CoverageType::WorkersComp)).count() as i64;
    let total = gl.unwrap_or_default().0 + wc.unwrap_or_default().0 + 10 * others;
    (gl, wc, Cents(total))
}

pub(crate) async fn create(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let contractor = f.req_str("contractor")?;
    let job = f.req_str("job")?;
    let coverage = f.coverage("coverage_type")?.ok_or_else(|| ApiError::invalid("coverage_type is required"))?;
    let (effective, end) = (f.epoch("effective_date")?, f.epoch("end_date")?);
    let metadata = f.metadata("custom_metadata")?.unwrap_or_default();
    let now = sandbox.now();
    let mut store = sandbox.store();
    if store.contractor(&contractor).is_err() {
        return Err(ApiError::bad("invalid_contractor_id", format!("Contractor {contractor} does not exist")));
    }
    let Ok(job_object) = store.job(&job) else {
        return Err(ApiError::bad("invalid_job_id", format!("Job {job} does not exist")));
    };
    let (effective, end) = coverage_window(effective, end, now)?;
    if store.matching_policy(&contractor, job_object, &coverage).is_some() {
        return Err(ApiError::bad(
            "contractor_has_matching_policy",
            "Contractor already has a matching policy on file",
        ));
    }
    let (gl, wc, total) = rates(&coverage);
    let quote = Quote {
        id: new_id("qt_", 10),
        created: Some(now),
        contractor: Some(contractor),
        job: Some(job),
        quote_json: Some(json!({
            "gl": gl.map(|r| json!({"net_rate": r, "stamping_fee": null, "risk_purchasing_group_fee": null})),
            "wc": wc.map(|r| json!({"net_rate": r})),
        })),
        coverage_type: coverage,
        effective_date: Some(effective),
        end_date: Some(end),
        eligible: Some(true),
        net_rate: Some(total),
        gl_net_rate: gl,
        wc_net_rate: wc,
        custom_metadata: metadata,
    };
    store.quotes.push(quote.clone());
    created(quote)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.quotes.iter().collect(), |q: &Quote| &q.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().quote(&id)?)
}

pub(crate) async fn update(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let coverage = f.coverage("coverage_type")?;
    let (effective, end) = (f.epoch("effective_date")?, f.epoch("end_date")?);
    let now = sandbox.now();
    let mut store = sandbox.store();
    let quote = store.quote(&id)?.clone();
    let issued = store.policies.iter().any(|p| p.policy.quote.as_deref() == Some(&id));
    if issued {
        return Err(ApiError::bad(
            "cant_update_create_new_quote",
            "A policy was issued for this quote; create a new quote instead",
        ));
    }
    let window = coverage_window(effective.or(quote.effective_date), end.or(quote.end_date), now)?;
    let quote = store.quote_mut(&id)?;
    if let Some(coverage) = coverage {
        let (gl, wc, total) = rates(&coverage);
        (quote.gl_net_rate, quote.wc_net_rate, quote.net_rate) = (gl, wc, Some(total));
        quote.coverage_type = coverage;
    }
    (quote.effective_date, quote.end_date) = (Some(window.0), Some(window.1));
    ok(quote.clone())
}
