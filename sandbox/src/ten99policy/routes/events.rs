//! Events (`ev_`) and webhook endpoints (`whe_`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, created, ok};
use crate::secret::Secret;
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::WebhookEndpoint;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::fields::Fields;
use crate::ten99policy::state::{StoredEvent, new_id};

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    let kind = query.get("type");
    let items = store.events.iter().filter(|e| kind.is_none_or(|k| e.event_type.as_str() == k)).collect();
    query.page(items, |e: &StoredEvent| &e.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    let store = sandbox.store();
    let event = store.events.iter().find(|e| *e.id == *id);
    ok(event.ok_or_else(|| ApiError::not_found("event", &id))?)
}

pub(crate) async fn create_endpoint(State(sandbox): State<Ten99PolicySandbox>, body: Bytes) -> Answer {
    let f = Fields::parse(&body)?;
    let url = f.req_str("url")?;
    if reqwest::Url::parse(&url).is_err() {
        return Err(ApiError::invalid(format!("url {url:?} is not a URL")));
    }
    // `events` is a list, or "*" for all.
    let events = match f.str("events") {
        Ok(Some(all)) if all == "*" => Vec::new(),
        _ => f.strings("events")?.unwrap_or_default(),
    };
    let endpoint = WebhookEndpoint {
        id: new_id("whe_", 22),
        url: Some(url),
        description: f.str("description")?,
        created: Some(sandbox.now()),
        events,
        secret: Some(Secret::new(new_id("whsec_", 32))),
    };
    sandbox.register_endpoint(endpoint.clone());
    created(endpoint)
}

/// Endpoints as lists show them: without their secrets, which only creation reveals.
fn without_secret(endpoint: &WebhookEndpoint) -> WebhookEndpoint {
    WebhookEndpoint { secret: None, ..endpoint.clone() }
}

pub(crate) async fn list_endpoints(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    let endpoints: Vec<WebhookEndpoint> = store.endpoints.iter().map(|e| without_secret(&e.endpoint)).collect();
    query.page(endpoints.iter().collect(), |e: &WebhookEndpoint| &e.id)
}

pub(crate) async fn get_endpoint(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    let store = sandbox.store();
    let endpoint = store.endpoints.iter().find(|e| e.endpoint.id == id);
    let endpoint = endpoint.ok_or_else(|| ApiError::not_found("webhook endpoint", &id))?;
    ok(without_secret(&endpoint.endpoint))
}

pub(crate) async fn delete_endpoint(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    let now = sandbox.now();
    let mut store = sandbox.store();
    let before = store.endpoints.len();
    store.endpoints.retain(|e| e.endpoint.id != id);
    if store.endpoints.len() == before {
        return Err(ApiError::not_found("webhook endpoint", &id));
    }
    ok(serde_json::json!({"id": id, "object": "webhook_endpoint", "deleted": true, "deleted_at": now}))
}
