//! WorkMarket's v1 API on both path families (`/api/v1/…`, `/v1/employer/…`): the token
//! exchange, `assignments/{get,list,list_updated,statuses}` and `constants/industries`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::PathStyle;
use super::WorkMarketSandbox;
use super::envelope::{ok, v1_error, v2_error};
use super::render;
use super::state::Order;

/// `list_updated` refuses a `modified_since` older than this ("2 months").
const LIST_UPDATED_HORIZON: SignedDuration = SignedDuration::from_hours(24 * 61);
/// Page size when `limit` is absent, and the most a page holds.
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// Every public API route, under both path families.
pub(crate) fn routes(sandbox: WorkMarketSandbox) -> Router {
    let mut router = Router::new();
    for style in PathStyle::ALL {
        router = router
            .route(&style.path("authorization/request"), post(token_exchange))
            .route(&style.path("assignments/get"), get(get_assignment))
            .route(&style.path("assignments/list"), get(list))
            .route(&style.path("assignments/list_updated"), get(list_updated))
            .route(&style.path("assignments/statuses"), get(statuses))
            .route(&style.path("constants/industries"), get(industries));
    }
    router.with_state(sandbox)
}

/// Query and form parameters together, as Spring's `@RequestParam` reads them.
fn params(query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .collect();
    if let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        for (key, value) in form {
            params.entry(key).or_insert(value);
        }
    }
    params
}

async fn token_exchange(State(sandbox): State<WorkMarketSandbox>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = params(query.as_deref(), &body);
    let mut state = sandbox.lock();
    let now = state.now();
    let given = (params.get("token"), params.get("secret"));
    if given != (Some(&state.api_token), Some(&state.api_secret)) {
        // WorkMarket's v1 handler swaps the real message for a generic one.
        let message = "An error has occurred. If you report a bug, please include the requestId.";
        return v1_error(now, StatusCode::UNAUTHORIZED, 401, message, state.quirks.errors_as_objects);
    }
    let token = format!("wm_at_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    state.access_tokens.insert(token.clone());
    ok(now, json!({"access_token": token}))
}

/// Checks the access token (Bearer header first, then the `access_token` parameter) and the
/// admin role; returns the parameters and the sandbox clock, or the error answer.
fn authorize(
    sandbox: &WorkMarketSandbox,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(HashMap<String, String>, Timestamp), Box<Response>> {
    let params = params(query, b"");
    let state = sandbox.lock();
    let now = state.now();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let token = bearer.or(params.get("access_token").map(String::as_str));
    if !token.is_some_and(|t| state.access_tokens.contains(t)) {
        return Err(Box::new(v2_error(now, StatusCode::UNAUTHORIZED, "Not authorized to perform this request.")));
    }
    if !state.api_user_admin {
        return Err(Box::new(v2_error(
            now,
            StatusCode::FORBIDDEN,
            "Your token is not authorized to perform this request",
        )));
    }
    Ok((params, now))
}

async fn get_assignment(
    State(sandbox): State<WorkMarketSandbox>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (params, now) = match authorize(&sandbox, &headers, query.as_deref()) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let state = sandbox.lock();
    let objects = state.quirks.errors_as_objects;
    let Some(id) = params.get("id").filter(|id| !id.is_empty()) else {
        return v1_error(now, StatusCode::OK, 400, "Assignment id is required.", objects);
    };
    match state.orders.get(id) {
        Some(order) => ok(now, render::details(&state, order, now)),
        None => {
            let message = format!("User not authorized to modify assignment {id}.");
            v1_error(now, StatusCode::OK, 401, &message, objects)
        }
    }
}

/// One page of rows, `{total_results, count, start, limit, data}`.
fn page(sandbox: &WorkMarketSandbox, rows: Vec<&Order>, params: &HashMap<String, String>, now: Timestamp) -> Value {
    let state = sandbox.lock();
    let mut rows = rows;
    rows.sort_by_key(|o| (o.window_start, o.id.clone()));
    if params.get("sort_dir").is_some_and(|d| d.eq_ignore_ascii_case("desc")) {
        rows.reverse();
    }
    let start: usize = params.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit: usize = params.get("limit").and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let total = rows.len();
    let data: Vec<Value> =
        rows.into_iter().skip(start).take(limit).map(|order| render::row(&state, order, now)).collect();
    let total_key = if state.quirks.total_results_camel_case { "totalResults" } else { "total_results" };
    let mut page = json!({"count": data.len(), "start": start, "limit": limit, "data": data});
    page[total_key] = json!(total);
    page
}

/// The status filter: a comma list of codes with WorkMarket's aliases; an unknown code becomes
/// `exception` (which no sandbox work order has). `None` when absent.
fn status_filter(params: &HashMap<String, String>) -> Option<Vec<String>> {
    let raw = params.get("status").filter(|s| !s.is_empty())?;
    Some(
        raw.split(',')
            .map(|code| match code.trim() {
                "in_progress" | "inprogress" => "inprogress".to_owned(),
                "payment_pending" | "paymentPending" => "paymentPending".to_owned(),
                code if KNOWN_FILTERS.contains(&code) => code.to_owned(),
                _ => "exception".to_owned(),
            })
            .collect(),
    )
}

const KNOWN_FILTERS: &[&str] =
    &["draft", "sent", "void", "declined", "active", "cancelled", "complete", "paid", "refunded", "exception", "all"];

async fn list(State(sandbox): State<WorkMarketSandbox>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let (params, now) = match authorize(&sandbox, &headers, query.as_deref()) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    // Without a status filter, WorkMarket's /list returns only work in progress.
    let filters = status_filter(&params).unwrap_or_else(|| vec!["inprogress".to_owned()]);
    let client = params.get("client_id").and_then(|c| c.parse::<i64>().ok());
    let state = sandbox.lock();
    let rows: Vec<Order> = state
        .orders
        .values()
        .filter(|o| filters.iter().any(|f| o.matches_filter(f, now)))
        .filter(|o| client.is_none() || o.client_id == client)
        .map(|o| Order::clone(o))
        .collect();
    drop(state);
    let body = page(&sandbox, rows.iter().collect(), &params, now);
    ok(now, body)
}

async fn list_updated(
    State(sandbox): State<WorkMarketSandbox>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (params, now) = match authorize(&sandbox, &headers, query.as_deref()) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let since = match params.get("modified_since").map(|s| s.trim().parse::<i64>()) {
        None => {
            return v2_error(now, StatusCode::BAD_REQUEST, "modified_since is a required parameter");
        }
        Some(Err(_)) => {
            return v2_error(now, StatusCode::BAD_REQUEST, "modified_since must be a Unix timestamp in seconds");
        }
        Some(Ok(seconds)) => Timestamp::from_second(seconds).unwrap_or(Timestamp::MIN),
    };
    if since < now - LIST_UPDATED_HORIZON {
        return v2_error(now, StatusCode::BAD_REQUEST, "modified_since cannot be more than 2 months ago");
    }
    let since_second = since.as_second();
    let filters = status_filter(&params);
    let state = sandbox.lock();
    let rows: Vec<Order> = state
        .orders
        .values()
        // Whole seconds, inclusive: a change in the cursor's own second is reported again.
        .filter(|o| o.last_modified_on.as_second() >= since_second)
        .filter(|o| filters.as_ref().is_none_or(|fs| fs.iter().any(|f| o.matches_filter(f, now))))
        .map(|o| Order::clone(o))
        .collect();
    drop(state);
    let body = page(&sandbox, rows.iter().collect(), &params, now);
    ok(now, body)
}

async fn statuses(State(sandbox): State<WorkMarketSandbox>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let (_, now) = match authorize(&sandbox, &headers, query.as_deref()) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let pairs = [
        ("active", "Assigned"),
        ("cancelled", "Cancelled"),
        ("complete", "Complete"),
        ("declined", "Declined"),
        ("draft", "Draft"),
        ("exception", "Exception"),
        ("inprogress", "In Progress"),
        ("paid", "Paid"),
        ("paymentPending", "Invoiced"),
        ("refunded", "Refunded"),
        ("sent", "Sent"),
        ("void", "Voided"),
    ];
    let list: Vec<Value> = pairs.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    ok(now, Value::Array(list))
}

/// Public constants: WorkMarket exempts this path from authentication.
async fn industries(State(sandbox): State<WorkMarketSandbox>) -> Response {
    let state = sandbox.lock();
    let list: Vec<Value> =
        state.industries.iter().map(|(id, name)| json!({"id": id, "name": name, "checked": false})).collect();
    ok(state.now(), Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workmarket::state::Status;

    #[test]
    fn status_filters_take_aliases_and_turn_unknowns_into_exception() {
        let params = HashMap::from([("status".to_owned(), "in_progress,payment_pending,bogus,sent".to_owned())]);
        assert_eq!(status_filter(&params).unwrap(), ["inprogress", "paymentPending", "exception", "sent"]);
        assert_eq!(status_filter(&HashMap::new()), None);
    }

    #[test]
    fn parameters_come_from_query_and_form() {
        let params = params(Some("token=a"), b"secret=b&token=ignored");
        assert_eq!(params["token"], "a");
        assert_eq!(params["secret"], "b");
    }

    #[test]
    fn statuses_are_the_codes_workmarket_lists() {
        // Every sandbox status is a known filter.
        for status in [
            Status::Draft,
            Status::Sent,
            Status::Active,
            Status::Complete,
            Status::Paid,
            Status::Cancelled,
            Status::Void,
        ] {
            assert!(KNOWN_FILTERS.contains(&status.code()), "{status:?}");
        }
    }
}
