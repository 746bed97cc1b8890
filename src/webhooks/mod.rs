//! The webhook receiver: `POST /webhooks/workmarket` (shared token) and
//! `POST /webhooks/1099policy` (signature). A webhook only says "look again": the handler
//! authenticates it, finds the bindings it concerns and triggers their reconcile, which re-reads
//! the truth from the APIs. Both runtimes mount these routes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tower_http::timeout::TimeoutLayer;

use crate::resources::ObjectKey;
use crate::secret::Secret;
use crate::ten99policy::{Event, SIGNATURE_HEADER, Verifier};
use crate::workmarket::webhook::{self as wm_webhook, Delivery};

/// Largest webhook body accepted; anything bigger is answered 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// How long a delivery may take from its headers to its last body byte; slower ones are
/// answered 408. Both platforms send small bodies at once, so only a client trickling bytes
/// (holding a connection and a task open) ever meets it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

const WORKMARKET_PATH: &str = "/webhooks/workmarket";
const TEN99POLICY_PATH: &str = "/webhooks/1099policy";

/// How a runtime finds and wakes the bindings a webhook concerns.
pub trait Bindings: Send + Sync + 'static {
    /// Bindings whose `spec.workOrderId` is `work_order_id`.
    fn by_work_order(&self, work_order_id: &str) -> Vec<ObjectKey>;
    /// Bindings whose status holds `external_id` (contractor, job, quote, session, policy,
    /// assignment, certificate or invoice id).
    fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey>;
    /// Queues a reconcile of each binding; a binding already queued is queued once.
    fn trigger(&self, keys: Vec<ObjectKey>);
    /// A delivery that found no binding. A runtime whose caches are catching up keeps it to
    /// match again once they are; otherwise a WorkMarket work order nobody covers is offered to
    /// auto-binding.
    fn unmatched(&self, _wake: Unmatched) {}
}

/// What a delivery that matched no binding was looking for.
#[derive(Clone, Debug)]
pub enum Unmatched {
    /// A WorkMarket work order.
    WorkOrder(Delivery),
    /// 1099Policy object ids (contractor, job, quote, session, policy, assignment, …).
    ExternalIds(Vec<String>),
}

/// Secrets the receiver authenticates with. A source without its secret refuses every
/// delivery (and says so in the log).
#[derive(Clone, Default)]
pub struct Credentials {
    /// The token users put into the WorkMarket webhook template.
    pub workmarket_token: Option<Secret>,
    /// Verifies 1099Policy's `Ten99Policy-Signature`.
    pub ten99policy: Option<Verifier>,
}

/// Deliveries by source and result, for metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Accepted deliveries: WorkMarket, 1099Policy.
    pub accepted: [AtomicU64; 2],
    /// Refused for authentication: WorkMarket, 1099Policy.
    pub unauthorized: [AtomicU64; 2],
    /// Refused as malformed: WorkMarket, 1099Policy.
    pub malformed: [AtomicU64; 2],
    /// Refused for a body over [`MAX_BODY`] (413): WorkMarket, 1099Policy.
    pub too_large: [AtomicU64; 2],
    /// Refused for a body slower than the read timeout (408): WorkMarket, 1099Policy.
    pub timed_out: [AtomicU64; 2],
}

/// Index of a source in [`Counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Deliveries to `/webhooks/workmarket`.
    WorkMarket = 0,
    /// Deliveries to `/webhooks/1099policy`.
    Ten99Policy = 1,
}

impl Source {
    /// The source a webhook route receives from.
    fn of_path(path: &str) -> Option<Self> {
        match path {
            WORKMARKET_PATH => Some(Self::WorkMarket),
            TEN99POLICY_PATH => Some(Self::Ten99Policy),
            _ => None,
        }
    }

    /// The `source` label value of the webhook metrics: `workmarket` or `1099policy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkMarket => "workmarket",
            Self::Ten99Policy => "1099policy",
        }
    }
}

struct Receiver<B> {
    bindings: Arc<B>,
    credentials: Credentials,
    counters: Arc<Counters>,
}

/// The two webhook routes over `bindings`, with a 1 MiB body limit and the [`READ_TIMEOUT`].
pub fn router<B: Bindings>(bindings: Arc<B>, credentials: Credentials, counters: Arc<Counters>) -> Router {
    router_with_timeout(bindings, credentials, counters, READ_TIMEOUT)
}

/// [`router`] with another read timeout (tests use a short one).
pub fn router_with_timeout<B: Bindings>(
    bindings: Arc<B>,
    credentials: Credentials,
    counters: Arc<Counters>,
    read_timeout: Duration,
) -> Router {
    let state = Arc::new(Receiver { bindings, credentials, counters });
    Router::new()
        .route(WORKMARKET_PATH, post(workmarket::<B>))
        .route(TEN99POLICY_PATH, post(ten99policy::<B>))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // The handlers read the whole body before doing anything, so timing out the handler
        // bounds the body's arrival; nothing has been triggered when it fires.
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, read_timeout))
        // Outermost, to see the refusals the two layers above answer without the handlers.
        .layer(middleware::from_fn_with_state(state.clone(), count_refusals::<B>))
        .with_state(state)
}

/// Counts and logs deliveries refused before their handler ran: too large or too slow.
async fn count_refusals<B: Bindings>(
    State(receiver): State<Arc<Receiver<B>>>,
    request: Request,
    next: Next,
) -> Response {
    let source = Source::of_path(request.uri().path());
    let response = next.run(request).await;
    if let Some(source) = source {
        match response.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                tracing::warn!(source = source.as_str(), limit_bytes = MAX_BODY, "refused a webhook: body too large");
                count(&receiver.counters.too_large, source);
            }
            StatusCode::REQUEST_TIMEOUT => {
                tracing::warn!(source = source.as_str(), "refused a webhook: its body did not arrive in time");
                count(&receiver.counters.timed_out, source);
            }
            _ => {}
        }
    }
    response
}

fn count(counter: &[AtomicU64; 2], source: Source) {
    counter[source as usize].fetch_add(1, Ordering::Relaxed);
}

/// 401 with no detail: the caller learns nothing about why.
fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "unauthorized\n").into_response()
}

async fn workmarket<B: Bindings>(
    State(receiver): State<Arc<Receiver<B>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let source = Source::WorkMarket;
    let Some(token) = &receiver.credentials.workmarket_token else {
        tracing::warn!("refused a WorkMarket webhook: COVERBRIDGE_WEBHOOK_TOKEN is not configured");
        count(&receiver.counters.unauthorized, source);
        return unauthorized();
    };
    if let Err(failure) = wm_webhook::authenticate(&headers, token) {
        tracing::warn!(reason = failure.reason(), "refused a WorkMarket webhook");
        count(&receiver.counters.unauthorized, source);
        return unauthorized();
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let delivery = match wm_webhook::parse(content_type, &body) {
        Ok(delivery) => delivery,
        Err(error) => {
            count(&receiver.counters.malformed, source);
            return (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response();
        }
    };
    let keys = receiver.bindings.by_work_order(&delivery.assignment_id);
    tracing::info!(
        work_order = %delivery.assignment_id,
        event = delivery.event_name.as_deref().unwrap_or("-"),
        bindings = keys.len(),
        "WorkMarket webhook"
    );
    if keys.is_empty() {
        receiver.bindings.unmatched(Unmatched::WorkOrder(delivery));
    } else {
        receiver.bindings.trigger(keys);
    }
    count(&receiver.counters.accepted, source);
    StatusCode::ACCEPTED.into_response()
}

async fn ten99policy<B: Bindings>(
    State(receiver): State<Arc<Receiver<B>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let source = Source::Ten99Policy;
    let Some(verifier) = &receiver.credentials.ten99policy else {
        tracing::warn!("refused a 1099Policy webhook: TEN99POLICY_WEBHOOK_SECRET is not configured");
        count(&receiver.counters.unauthorized, source);
        return unauthorized();
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if let Err(error) = verifier.verify(signature, &body) {
        tracing::warn!(reason = %error, "refused a 1099Policy webhook");
        count(&receiver.counters.unauthorized, source);
        return unauthorized();
    }
    let event = match Event::parse(&body) {
        Ok(event) => event,
        Err(error) => {
            count(&receiver.counters.malformed, source);
            return (StatusCode::BAD_REQUEST, format!("webhook body is not a 1099Policy event: {error}\n"))
                .into_response();
        }
    };
    let ids: Vec<&str> =
        [event.object_id(), event.policy_id(), event.quote_id(), event.job_id(), event.contractor_id()]
            .into_iter()
            .flatten()
            .collect();
    let mut keys: Vec<ObjectKey> = ids.iter().flat_map(|id| receiver.bindings.by_external_id(id)).collect();
    keys.sort();
    keys.dedup();
    tracing::info!(
        event = event.event_type.as_str(),
        id = event.id.as_deref().unwrap_or("-"),
        bindings = keys.len(),
        "1099Policy webhook"
    );
    if keys.is_empty() {
        receiver.bindings.unmatched(Unmatched::ExternalIds(ids.into_iter().map(str::to_owned).collect()));
    } else {
        receiver.bindings.trigger(keys);
    }
    count(&receiver.counters.accepted, source);
    StatusCode::OK.into_response()
}
