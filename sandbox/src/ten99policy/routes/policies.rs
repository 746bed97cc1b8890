//! Policies (`pl_`): read-only over the API; created by completed applications and changed by
//! the control API.

use axum::extract::{Path, RawQuery, State};

use super::{Answer, ListQuery, ok};
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::state::policy_object;
use serde_json::Value;

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    let quote = query.get("quote");
    let objects: Vec<Value> = store
        .policies
        .iter()
        .filter(|r| quote.is_none_or(|q| r.policy.quote.as_deref() == Some(q)))
        .map(|r| policy_object(&r.policy))
        .collect();
    query.page(objects.iter().collect(), |p: &Value| p["id"].as_str().unwrap_or_default())
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(policy_object(&sandbox.store().policy(&id)?.policy))
}
