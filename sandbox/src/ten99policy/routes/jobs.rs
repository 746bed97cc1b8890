//! Jobs (`jb_`) and job category codes (`jc_`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, created, ok};
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::{Fields, merge_metadata};
use crate::ten99policy::state::{Store, new_id};
use crate::ten99policy::{Address, CategoryCode, Job};

/// Jobs pay at least $1 and at most $1,000,000.
const WAGE_RANGE: (i64, i64) = (100, 100_000_000);

fn check_category(store: &Store, code: &str) -> Result<(), ApiError> {
    let known = store.category_codes.iter().find(|c| c.category_code == code);
    match known {
        None => Err(ApiError::bad("invalid_job_category_code", format!("Job category code {code} does not exist"))),
        Some(code) if !code.is_approved() => Err(ApiError::bad(
            "job_category_not_approved",
            format!("Job category code {} is not approved for this account", code.category_code),
        )),
        Some(_) => Ok(()),
    }
}

fn job_site(f: &Fields) -> Result<Option<Address>, ApiError> {
    let address = f.address("address")?;
    if address.as_ref().is_some_and(|a| a.region.is_none()) {
        return Err(ApiError::invalid("address.region is required when address is given"));
    }
    Ok(address)
}

pub(crate) async fn create(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    if !f.has("category_code") {
        return Err(ApiError {
            stored: false,
            ..ApiError::bad("missing_job_category_code", "category_code is required")
        });
    }
    let job = Job {
        id: new_id("jb_", 10),
        created: Some(sandbox.now()),
        name: Some(f.req_str("name")?),
        description: Some(f.req_str("description")?),
        entity: Some(f.req_str("entity")?),
        category_code: Some(f.req_str("category_code")?),
        wage: Some(f.req_cents("wage", WAGE_RANGE.0, WAGE_RANGE.1)?),
        wage_type: Some(f.wage_type("wage_type")?.ok_or_else(|| ApiError::invalid("wage_type is required"))?),
        years_experience: f.int("years_experience")?,
        address: job_site(&f)?,
        custom_metadata: f.metadata("custom_metadata")?.unwrap_or_default(),
    };
    f.bool("withhold_premium")?;
    let mut store = sandbox.store();
    let entity = job.entity.as_deref().unwrap_or_default();
    if store.entity(entity).is_err() {
        return Err(ApiError::bad("invalid_entity_id", format!("Entity {entity} does not exist")));
    }
    check_category(&store, job.category_code.as_deref().unwrap_or_default())?;
    store.jobs.push(job.clone());
    created(job)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.jobs.iter().collect(), |j: &Job| &j.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().job(&id)?)
}

pub(crate) async fn update(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let (name, description, code) = (f.str("name")?, f.str("description")?, f.str("category_code")?);
    let wage = f.cents("wage", WAGE_RANGE.0, WAGE_RANGE.1)?;
    let (wage_type, address) = (f.wage_type("wage_type")?, job_site(&f)?);
    let (years, metadata) = (f.int("years_experience")?, f.metadata("custom_metadata")?);
    let mut store = sandbox.store();
    store.job(&id)?;
    if store.invoices.iter().any(|i| i.job.as_deref() == Some(&id)) {
        return Err(ApiError::bad("invoice_exists", "The job has an invoice and can no longer be edited"));
    }
    if let Some(code) = &code {
        check_category(&store, code)?;
    }
    let job = store.job_mut(&id)?;
    for (slot, value) in [(&mut job.name, name), (&mut job.description, description), (&mut job.category_code, code)] {
        if value.is_some() {
            *slot = value;
        }
    }
    job.wage = wage.or(job.wage);
    job.wage_type = wage_type.or(job.wage_type);
    job.years_experience = years.or(job.years_experience);
    if address.is_some() {
        job.address = address;
    }
    if let Some(metadata) = metadata {
        merge_metadata(&mut job.custom_metadata, metadata);
    }
    ok(job.clone())
}

pub(crate) async fn list_category_codes(
    State(sandbox): State<Ten99PolicySandbox>,
    RawQuery(query): RawQuery,
) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.category_codes.iter().collect(), |c: &CategoryCode| &c.category_code)
}
