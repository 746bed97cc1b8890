//! The control API under `/_sandbox/`, JSON in and out (each route has an in-process twin on
//! [`WorkMarketSandbox`]):
//!
//! - `POST /_sandbox/industries` (`{"id", "name"}`) → 201: what work orders may name, the way
//!   to make an `--empty` sandbox usable.
//! - `POST /_sandbox/workers` ([`NewWorker`]) and `POST /_sandbox/work_orders`
//!   ([`NewWorkOrder`]) → `201 {"id": …}`.
//! - `POST /_sandbox/work_orders/{id}/{action}`, action one of `send`, `assign`
//!   (`{"worker_id"}`), `check_in`, `complete`, `approve`, `pay` (`{"total"?: cents}`), `void`,
//!   `cancel`, `reschedule` (`{"window_start", "window_end"}` RFC 3339), `budget_increase`
//!   (`{"pricing": PricingSpec}`) → 204; 404 unknown, 409 wrong status, 400 bad input.
//! - `GET`/`PUT /_sandbox/settings`: `{"api_user_admin", "quirks", "webhook_date_format"}`.
//! - `POST /_sandbox/clock/advance` (`{"seconds"}`), `POST /_sandbox/tokens/revoke`.
//! - `GET`/`POST`/`DELETE /_sandbox/webhooks` ([`WebhookTemplate`]),
//!   `GET /_sandbox/webhooks/deliveries`.
//! - `POST`/`DELETE /_sandbox/replies` ([`CannedReply`]): answer a path with a fixed body, for
//!   envelope shapes the modelled routes never produce (such as `successful: false`).
//! - From the harness: `/_sandbox/calls` and `/_sandbox/faults`.

use std::sync::PoisonError;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::settings::Settings;
use super::state::{NewWorkOrder, NewWorker, PricingSpec};
use super::webhooks::WebhookTemplate;
use super::{SandboxError, WorkMarketSandbox};
use crate::money::Cents;

/// A fixed answer for calls whose path starts with `path`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CannedReply {
    /// Path prefix to match, such as `/api/v1/assignments/get`.
    pub path: String,
    /// HTTP status (default 200).
    #[serde(default = "http_ok")]
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// Answer at most this many times; always when absent.
    #[serde(default)]
    pub times: Option<u32>,
}

fn http_ok() -> u16 {
    200
}

impl WorkMarketSandbox {
    /// Answers calls under `reply.path` with `reply.body` instead of the modelled route.
    pub fn add_canned_reply(&self, reply: CannedReply) {
        self.replies().push(reply);
    }

    /// Removes every canned reply.
    pub fn clear_canned_replies(&self) {
        self.replies().clear();
    }

    fn replies(&self) -> std::sync::MutexGuard<'_, Vec<CannedReply>> {
        self.inner.replies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The canned answer for `path`, counting it.
    fn canned(&self, path: &str) -> Option<(u16, Value)> {
        let mut replies = self.replies();
        let index = replies.iter().position(|r| path.starts_with(&r.path))?;
        let reply = &mut replies[index];
        let answer = (reply.status, reply.body.clone());
        match &mut reply.times {
            Some(1) => {
                replies.remove(index);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(answer)
    }
}

/// Wraps the API so canned replies answer before the modelled routes.
pub(crate) fn with_canned_replies(sandbox: WorkMarketSandbox, api: Router) -> Router {
    api.layer(middleware::from_fn_with_state(sandbox, answer_canned))
}

async fn answer_canned(State(sandbox): State<WorkMarketSandbox>, request: Request, next: Next) -> Response {
    match sandbox.canned(request.uri().path()) {
        Some((status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            (status, Json(body)).into_response()
        }
        None => next.run(request).await,
    }
}

/// The control routes.
pub(crate) fn routes(sandbox: WorkMarketSandbox) -> Router {
    Router::new()
        .route("/_sandbox/industries", post(add_industry))
        .route("/_sandbox/workers", post(create_worker))
        .route("/_sandbox/work_orders", post(create_work_order))
        .route("/_sandbox/work_orders/{id}/{action}", post(act))
        .route("/_sandbox/settings", get(get_settings).put(put_settings))
        .route("/_sandbox/clock/advance", post(advance_clock))
        .route("/_sandbox/tokens/revoke", post(revoke_tokens))
        .route("/_sandbox/webhooks", get(list_webhooks).post(add_webhook).delete(clear_webhooks))
        .route("/_sandbox/webhooks/deliveries", get(deliveries))
        .route("/_sandbox/replies", post(add_reply).delete(clear_replies))
        .with_state(sandbox)
}

fn refused(error: SandboxError) -> Response {
    (error.status(), Json(json!({"error": error.to_string()}))).into_response()
}

fn created(result: Result<String, SandboxError>) -> Response {
    match result {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(error) => refused(error),
    }
}

/// An industry as the control API takes it.
#[derive(Deserialize)]
struct NewIndustry {
    id: i64,
    name: String,
}

async fn add_industry(State(sandbox): State<WorkMarketSandbox>, Json(new): Json<NewIndustry>) -> Response {
    match sandbox.add_industry(new.id, &new.name) {
        Ok(()) => (StatusCode::CREATED, Json(json!({"id": new.id}))).into_response(),
        Err(error) => refused(error),
    }
}

async fn create_worker(State(sandbox): State<WorkMarketSandbox>, Json(new): Json<NewWorker>) -> Response {
    created(sandbox.create_worker(new))
}

async fn create_work_order(State(sandbox): State<WorkMarketSandbox>, Json(new): Json<NewWorkOrder>) -> Response {
    created(sandbox.create_work_order(new))
}

/// The optional body of a lifecycle action.
#[derive(Deserialize, Default)]
struct ActionBody {
    worker_id: Option<String>,
    total: Option<Cents>,
    window_start: Option<Timestamp>,
    window_end: Option<Timestamp>,
    pricing: Option<PricingSpec>,
}

async fn act(
    State(sandbox): State<WorkMarketSandbox>,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let body: ActionBody = if body.is_empty() {
        ActionBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(body) => body,
            Err(error) => return refused(SandboxError::Invalid(format!("bad body: {error}"))),
        }
    };
    let missing = |what: &str| SandboxError::Invalid(format!("{action} needs {what}"));
    let result = match action.as_str() {
        "send" => sandbox.send(&id),
        "assign" => match &body.worker_id {
            Some(worker) => sandbox.assign(&id, worker),
            None => Err(missing("worker_id")),
        },
        "check_in" => sandbox.check_in(&id),
        "complete" => sandbox.complete(&id),
        "approve" => sandbox.approve(&id),
        "pay" => sandbox.pay(&id, body.total),
        "void" => sandbox.void(&id),
        "cancel" => sandbox.cancel(&id),
        "reschedule" => match (body.window_start, body.window_end) {
            (Some(start), Some(end)) => sandbox.reschedule(&id, start, end),
            _ => Err(missing("window_start and window_end")),
        },
        "budget_increase" => match body.pricing {
            Some(pricing) => sandbox.increase_budget(&id, pricing),
            None => Err(missing("pricing")),
        },
        other => Err(SandboxError::Invalid(format!("unknown action {other}"))),
    };
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => refused(error),
    }
}

async fn get_settings(State(sandbox): State<WorkMarketSandbox>) -> Json<Settings> {
    Json(sandbox.settings())
}

async fn put_settings(State(sandbox): State<WorkMarketSandbox>, Json(settings): Json<Settings>) -> StatusCode {
    sandbox.apply_settings(settings);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(State(sandbox): State<WorkMarketSandbox>, Json(by): Json<Advance>) -> Response {
    match sandbox.advance_clock(Duration::from_secs(by.seconds)) {
        Ok(()) => Json(json!({"now": sandbox.now()})).into_response(),
        Err(error) => refused(error),
    }
}

async fn revoke_tokens(State(sandbox): State<WorkMarketSandbox>) -> StatusCode {
    sandbox.revoke_access_tokens();
    StatusCode::NO_CONTENT
}

async fn list_webhooks(State(sandbox): State<WorkMarketSandbox>) -> Json<Vec<WebhookTemplate>> {
    Json(sandbox.webhooks())
}

async fn add_webhook(State(sandbox): State<WorkMarketSandbox>, Json(template): Json<WebhookTemplate>) -> Response {
    match sandbox.add_webhook(template) {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(error) => refused(error),
    }
}

async fn clear_webhooks(State(sandbox): State<WorkMarketSandbox>) -> StatusCode {
    sandbox.clear_webhooks();
    StatusCode::NO_CONTENT
}

async fn deliveries(State(sandbox): State<WorkMarketSandbox>) -> Json<Value> {
    Json(json!(sandbox.deliveries()))
}

async fn add_reply(State(sandbox): State<WorkMarketSandbox>, Json(reply): Json<CannedReply>) -> StatusCode {
    sandbox.add_canned_reply(reply);
    StatusCode::CREATED
}

async fn clear_replies(State(sandbox): State<WorkMarketSandbox>) -> StatusCode {
    sandbox.clear_canned_replies();
    StatusCode::NO_CONTENT
}
