//! Contractors (`cn_`) and entities (`en_`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, created, ok};
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::{Fields, merge_metadata};
use crate::ten99policy::state::{Store, new_id};
use crate::ten99policy::{Contractor, CoverageLimit, Entity};

pub(crate) fn check_email_free(store: &Store, email: &str, except: Option<&str>) -> Result<(), ApiError> {
    // Case-sensitive, as the API's e-mail filter is.
    let taken = store.contractors_with_email(email).iter().any(|c| Some(c.id.as_str()) != except);
    if taken {
        return Err(ApiError::bad("duplicate_email", format!("A contractor with email {email} already exists")));
    }
    Ok(())
}

pub(crate) async fn create(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let contractor = Contractor {
        id: new_id("cn_", 7),
        created: Some(sandbox.now()),
        first_name: Some(f.req_str("first_name")?),
        middle_name: f.str("middle_name")?,
        last_name: Some(f.req_str("last_name")?),
        email: Some(f.req_str("email")?),
        phone: Some(f.req_str("phone")?),
        company_name: f.str("company_name")?,
        address: Some(f.address("address")?.ok_or_else(|| ApiError::invalid("address is required"))?),
        custom_metadata: f.metadata("custom_metadata")?.unwrap_or_default(),
        withhold_premium: Some(f.bool("withhold_premium")?.unwrap_or(false)),
    };
    let mut store = sandbox.store();
    check_email_free(&store, contractor.email.as_deref().unwrap_or_default(), None)?;
    store.contractors.push(contractor.clone());
    created(contractor)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    let items = match query.get("email") {
        Some(email) => store.contractors_with_email(email),
        None => store.contractors.iter().collect(),
    };
    query.page(items, |c: &Contractor| &c.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().contractor(&id)?)
}

pub(crate) async fn update(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let (first, last, email, phone) = (f.str("first_name")?, f.str("last_name")?, f.str("email")?, f.str("phone")?);
    let (middle, company) = (f.str("middle_name")?, f.str("company_name")?);
    let (address, metadata) = (f.address("address")?, f.metadata("custom_metadata")?);
    let withhold = f.bool("withhold_premium")?;
    let mut store = sandbox.store();
    store.contractor(&id)?;
    if let Some(email) = &email {
        check_email_free(&store, email, Some(&id))?;
    }
    if email.is_some() {
        store.contractor_emails_changed();
    }
    let contractor = store.contractor_mut(&id)?;
    for (slot, value) in [
        (&mut contractor.first_name, first),
        (&mut contractor.last_name, last),
        (&mut contractor.email, email),
        (&mut contractor.phone, phone),
        (&mut contractor.middle_name, middle),
        (&mut contractor.company_name, company),
    ] {
        if value.is_some() {
            *slot = value;
        }
    }
    if address.is_some() {
        contractor.address = address;
    }
    if let Some(metadata) = metadata {
        merge_metadata(&mut contractor.custom_metadata, metadata);
    }
    if withhold.is_some() {
        contractor.withhold_premium = withhold;
    }
    ok(contractor.clone())
}

pub(crate) async fn create_entity(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let name = f.req_str("name")?;
    let limits = Fields::from_map(match f.typed_object("coverage_limit")? {
        Some(map) => map,
        None => return Err(ApiError::invalid("coverage_limit is required")),
    });
    let coverage_limit = CoverageLimit {
        aggregate_limit: Some(limits.req_cents("aggregate_limit", 1000, i64::MAX)?),
        occurrence_limit: Some(limits.req_cents("occurrence_limit", 1000, i64::MAX)?),
    };
    let required_coverage =
        f.strings("required_coverage")?.ok_or_else(|| ApiError::invalid("required_coverage is required"))?;
    let entity = Entity {
        id: new_id("en_", 7),
        created: Some(sandbox.now()),
        name: Some(name),
        coverage_limit: Some(coverage_limit),
        required_coverage,
        address: f.address("address")?,
    };
    sandbox.store().entities.push(entity.clone());
    created(entity)
}

pub(crate) async fn list_entities(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.entities.iter().collect(), |e: &Entity| &e.id)
}

pub(crate) async fn get_entity(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().entity(&id)?)
}
