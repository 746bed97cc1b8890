//! Invoices (`in_`): actual pay per pay cycle and the premium due on it.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, created, ok};
use crate::money::Cents;
use crate::ten99policy::Invoice;
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::Fields;
use crate::ten99policy::routes::quotes::rates;
use crate::ten99policy::state::{Store, new_id};

/// The premium on `gross_pay` at the rate covering the contractor for the job: rate cents per
/// $100 earned, at least $1. Integer arithmetic, rounded down.
fn premium(store: &Store, contractor: &str, job: &str, gross_pay: Cents) -> Cents {
    let assignment_rate =
        store.assignments.iter().rev().find(|a| !a.cancelled && a.job.as_deref() == Some(job)).and_then(|a| a.net_rate);
    let quote_rate = store
        .quotes
        .iter()
        .rev()
        .find(|q| q.job.as_deref() == Some(job) && q.contractor.as_deref() == Some(contractor))
        .map(|q| rates(&q.coverage_type).2);
    let rate = assignment_rate.or(quote_rate).unwrap_or(Cents(0));
    Cents((gross_pay.0.saturating_mul(rate.0) / 10_000).max(100))
}

pub(crate) async fn create(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let contractor = f.req_str("contractor")?;
    let job = f.req_str("job")?;
    let gross_pay = f.req_cents("gross_pay", 100, 100_000_000)?;
    let start = f.req_epoch("paycycle_startdate")?;
    let end = f.req_epoch("paycycle_enddate")?;
    let purchase_order = f.str("purchase_order_number")?;
    if end < start {
        return Err(ApiError::bad(
            "invalid_paycycle_enddate",
            "paycycle_enddate must not be before paycycle_startdate",
        ));
    }
    let now = sandbox.now();
    let mut store = sandbox.store();
    if store.contractor(&contractor).is_err() {
        return Err(ApiError::bad("invalid_contractor_id", format!("Contractor {contractor} does not exist")));
    }
    let job_object =
        store.job(&job).map_err(|_| ApiError::bad("invalid_job_id", format!("Job {job} does not exist")))?;
    let purchase_order = match purchase_order {
        Some(po) if po.is_empty() => None,
        Some(po) => Some(po),
        None => job_object.custom_metadata.get("purchase_order_number").map(str::to_owned),
    };
    if !store.has_coverage_for(&contractor, &job) {
        return Err(ApiError::bad(
            "no_active_policy",
            "The contractor has no active policy or assignment for this job",
        ));
    }
    let invoice = Invoice {
        id: new_id("in_", 10),
        created: Some(now),
        premium_due: Some(premium(&store, &contractor, &job, gross_pay)),
        contractor: Some(contractor),
        job: Some(job),
        gross_pay: Some(gross_pay),
        paycycle_startdate: Some(start),
        paycycle_enddate: Some(end),
        purchase_order_number: purchase_order,
    };
    store.invoices.push(invoice.clone());
    created(invoice)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    let contractor = query.get("contractor");
    let items =
        store.invoices.iter().filter(|i| contractor.is_none_or(|c| i.contractor.as_deref() == Some(c))).collect();
    query.page(items, |i: &Invoice| &i.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().invoice(&id)?)
}
