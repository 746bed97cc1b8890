//! What both simulators share: a call log tests can count, and fault injection that makes a
//! simulator misbehave the ways real networks and services do.
//!
//! Control routes, mounted on each simulator:
//! - `GET /_sandbox/calls` — every call so far (method, path, query, idempotency key, status,
//!   fault); `DELETE` clears it. In-process, [`Harness::stream_calls`] hands each call to an
//!   observer instead of keeping it, for runs too long to keep every call.
//! - `POST /_sandbox/faults` — add a [`FaultRule`] (`kind`: `latency`, `status`, `rate_limit`,
//!   `drop_after_processing`, `status_after_processing`, `drop_before_processing`); `GET` lists
//!   them; `DELETE` removes all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

/// One way to misbehave.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Wait this long, then process the request normally.
    Latency {
        /// Delay in milliseconds.
        millis: u64,
    },
    /// Answer with this status (and the platform's error body) without processing.
    Status {
        /// HTTP status code.
        status: u16,
    },
    /// Answer 429 Too Many Requests with `Retry-After`, without processing.
    RateLimit {
        /// Seconds announced in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Process the request, then break the connection instead of answering: the change is made
    /// and the caller never learns it. The case idempotency keys exist for.
    DropAfterProcessing,
    /// Process the request, then answer this status (and the platform's error body) instead:
    /// the change is made and the caller is told it failed.
    StatusAfterProcessing {
        /// HTTP status code.
        status: u16,
    },
    /// Break the connection without processing the request.
    DropBeforeProcessing,
}

/// When to apply a fault.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// HTTP method to match; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path prefix to match, e.g. `/api/v1/jobs`.
    pub path: String,
    /// What to do.
    #[serde(flatten)]
    pub fault: Fault,
    /// Chance of applying the fault to a matching call, from 0 to 1 (default 1).
    #[serde(default = "always")]
    pub probability: f64,
    /// Apply at most this many times; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn always() -> f64 {
    1.0
}

impl FaultRule {
    /// A rule matching every method on `path` (a prefix), applied every time.
    pub fn new(path: impl Into<String>, fault: Fault) -> Self {
        Self { method: None, path: path.into(), fault, probability: 1.0, times: None }
    }

    /// Only for `method`.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// At most `times` times.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// With probability `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str())) && path.starts_with(&self.path)
    }
}

/// One call a simulator received.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Query string, if any (without the `?`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Idempotency key sent (`Ten99Policy-Idempotent-Key`, else `Idempotency-Key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Status of the answer (also for a dropped connection: what it would have been).
    pub status: u16,
    /// The fault applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

/// Renders a platform's error body for an injected status.
pub type ErrorBody = fn(StatusCode) -> Response;

/// Receives every call as it is answered, instead of the call log.
pub type CallObserver = Arc<dyn Fn(&Call) + Send + Sync>;

/// Call log and fault rules of one simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Harness {
    inner: Arc<Mutex<State_>>,
    error_body: ErrorBody,
}

struct State_ {
    calls: Vec<Call>,
    rules: Vec<(FaultRule, u32)>,
    rng: fastrand::Rng,
    observer: Option<CallObserver>,
}

impl Harness {
    /// A harness whose injected errors look like `error_body` renders them. `seed` makes
    /// probabilistic faults reproducible.
    pub fn new(error_body: ErrorBody, seed: u64) -> Self {
        let state =
            State_ { calls: Vec::new(), rules: Vec::new(), rng: fastrand::Rng::with_seed(seed), observer: None };
        Self { inner: Arc::new(Mutex::new(state)), error_body }
    }

    /// Wraps a simulator's routes with the call log and faults, and adds the control routes.
    pub fn wrap(&self, routes: Router) -> Router {
        routes.layer(middleware::from_fn_with_state(self.clone(), intercept)).merge(self.control_routes())
    }

    fn control_routes(&self) -> Router {
        Router::new()
            .route("/_sandbox/calls", get(list_calls).delete(clear_calls))
            .route("/_sandbox/faults", get(list_faults).post(add_fault).delete(clear_faults))
            .with_state(self.clone())
    }

    /// Adds a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        self.lock().rules.push((rule, 0));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.lock().rules.clear();
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Forgets the calls so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// From now on hands every call to `observer` (outside the harness's lock) instead of
    /// keeping it in the call log, which then stays empty: a long run's log would otherwise
    /// grow without bound.
    pub fn stream_calls(&self, observer: CallObserver) {
        self.lock().observer = Some(observer);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State_> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Picks the fault for this call, if a rule matches and its dice say so.
    fn pick(&self, method: &Method, path: &str) -> Option<Fault> {
        let mut state = self.lock();
        let state = &mut *state;
        for (rule, fired) in &mut state.rules {
            if !rule.matches(method, path) || rule.times.is_some_and(|t| *fired >= t) {
                continue;
            }
            if rule.probability >= 1.0 || state.rng.f64() < rule.probability {
                *fired += 1;
                return Some(rule.fault.clone());
            }
        }
        None
    }

    fn record(&self, call: Call) {
        let mut state = self.lock();
        match state.observer.clone() {
            Some(observer) => {
                drop(state);
                observer(&call);
            }
            None => state.calls.push(call),
        }
    }
}

async fn intercept(State(harness): State<Harness>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let headers = request.headers();
    let idempotency_key = ["ten99policy-idempotent-key", "idempotency-key"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()).map(str::to_owned));
    let fault = harness.pick(&method, &path);
    let response = match &fault {
        None | Some(Fault::DropAfterProcessing) => next.run(request).await,
        Some(Fault::Latency { millis }) => {
            tokio::time::sleep(Duration::from_millis(*millis)).await;
            next.run(request).await
        }
        Some(Fault::Status { status }) => {
            (harness.error_body)(StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Some(Fault::RateLimit { retry_after_secs }) => {
            let mut response = (harness.error_body)(StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert("retry-after", HeaderValue::from(*retry_after_secs));
            response
        }
        Some(Fault::StatusAfterProcessing { status }) => {
            let _processed = next.run(request).await;
            (harness.error_body)(StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        // Never reaches the simulator; the connection breaks below.
        Some(Fault::DropBeforeProcessing) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    harness.record(Call {
        method: method.to_string(),
        path,
        query,
        idempotency_key,
        status: response.status().as_u16(),
        fault: fault.clone(),
    });
    match fault {
        Some(Fault::DropAfterProcessing | Fault::DropBeforeProcessing) => broken(response),
        _ => response,
    }
}

/// A response that promises a body and breaks the connection instead of sending it, so the
/// caller gets no usable answer.
fn broken(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.insert("content-length", HeaderValue::from(1024));
    let body = futures::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox fault: connection dropped",
        ))
    });
    Response::from_parts(parts, Body::from_stream(body))
}

async fn list_calls(State(harness): State<Harness>) -> Json<Vec<Call>> {
    Json(harness.calls())
}

async fn clear_calls(State(harness): State<Harness>) -> StatusCode {
    harness.clear_calls();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(harness): State<Harness>) -> Json<Vec<FaultRule>> {
    Json(harness.lock().rules.iter().map(|(rule, _)| rule.clone()).collect())
}

async fn add_fault(State(harness): State<Harness>, Json(rule): Json<FaultRule>) -> StatusCode {
    harness.inject(rule);
    StatusCode::CREATED
}

async fn clear_faults(State(harness): State<Harness>) -> StatusCode {
    harness.clear_faults();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::routing::post;

    use super::*;
    fn plain_error(status: StatusCode) -> Response {
        (status, "injected").into_response()
    }

    async fn serve(harness: &Harness, processed: Arc<AtomicU32>) -> String {
        let routes = Router::new().route(
            "/api/v1/things",
            post(move || {
                processed.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::CREATED, "made") }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = harness.wrap(routes);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    /// A whole answer: status, `Retry-After` and body.
    #[derive(Debug)]
    struct Reply {
        status: StatusCode,
        retry_after: Option<String>,
        body: bytes::Bytes,
    }

    /// Why no whole answer came back (the errors show in failed assertions' messages).
    #[derive(Debug)]
    #[expect(dead_code, reason = "the errors are read through Debug only")]
    enum NoReply {
        /// The connection could not be made.
        Connect(reqwest::Error),
        /// It broke before the answer was complete.
        Interrupted(reqwest::Error),
    }

    fn once() -> reqwest::Client {
        // A fresh client (and connection) per call, without retries: reqwest does not retry.
        reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
    }

    fn classify(error: reqwest::Error) -> NoReply {
        if error.is_connect() { NoReply::Connect(error) } else { NoReply::Interrupted(error) }
    }

    async fn send(request: reqwest::RequestBuilder) -> Result<Reply, NoReply> {
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        let retry_after =
            response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.bytes().await.map_err(classify)?;
        Ok(Reply { status, retry_after, body })
    }

    async fn post_thing(client: &reqwest::Client, base: &str) -> Result<Reply, NoReply> {
        send(client.post(format!("{base}/api/v1/things")).header("Ten99Policy-Idempotent-Key", "k1")).await
    }

    #[tokio::test]
    async fn drop_after_processing_makes_the_change_and_loses_the_answer() {
        let harness = Harness::new(plain_error, 1);
        let processed = Arc::new(AtomicU32::new(0));
        let base = serve(&harness, processed.clone()).await;
        harness.inject(FaultRule::new("/api/v1/things", Fault::DropAfterProcessing).times(1));

        let error = post_thing(&once(), &base).await.unwrap_err();
        assert!(matches!(error, NoReply::Interrupted(_)), "{error:?}");
        assert_eq!(processed.load(Ordering::SeqCst), 1, "the request was processed");

        let response = post_thing(&once(), &base).await.unwrap();
        assert_eq!(response.status, StatusCode::CREATED, "the rule fired only once");
        let calls = harness.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].idempotency_key.as_deref(), Some("k1"));
        assert_eq!(calls[0].fault, Some(Fault::DropAfterProcessing));
        assert_eq!(calls[0].status, 201);
    }

    #[tokio::test]
    async fn status_after_processing_makes_the_change_and_reports_failure() {
        let harness = Harness::new(plain_error, 1);
        let processed = Arc::new(AtomicU32::new(0));
        let base = serve(&harness, processed.clone()).await;
        harness.inject(FaultRule::new("/api/v1/things", Fault::StatusAfterProcessing { status: 502 }).times(1));
        let response = post_thing(&once(), &base).await.unwrap();
        assert_eq!((response.status.as_u16(), &response.body[..]), (502, &b"injected"[..]));
        assert_eq!(processed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn drop_before_processing_changes_nothing() {
        let harness = Harness::new(plain_error, 1);
        let processed = Arc::new(AtomicU32::new(0));
        let base = serve(&harness, processed.clone()).await;
        harness.inject(FaultRule::new("/api/v1/things", Fault::DropBeforeProcessing));
        assert!(post_thing(&once(), &base).await.is_err());
        assert_eq!(processed.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn status_and_rate_limit_faults_answer_without_processing() {
        let harness = Harness::new(plain_error, 1);
        let processed = Arc::new(AtomicU32::new(0));
        let base = serve(&harness, processed.clone()).await;
        harness.inject(FaultRule::new("/api/v1", Fault::Status { status: 503 }).method("post").times(1));
        harness.inject(FaultRule::new("/api/v1", Fault::RateLimit { retry_after_secs: 7 }).times(1));
        let first = post_thing(&once(), &base).await.unwrap();
        assert_eq!((first.status.as_u16(), &first.body[..]), (503, &b"injected"[..]));
        let second = post_thing(&once(), &base).await.unwrap();
        assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(second.retry_after.as_deref(), Some("7"));
        assert_eq!(processed.load(Ordering::SeqCst), 0);
        assert_eq!(post_thing(&once(), &base).await.unwrap().status, StatusCode::CREATED);
    }

    #[tokio::test]
    async fn control_routes_manage_faults_and_calls() {
        let harness = Harness::new(plain_error, 1);
        let base = serve(&harness, Arc::new(AtomicU32::new(0))).await;
        let http = reqwest::Client::new();
        let rule = serde_json::json!({"path": "/api/v1/things", "kind": "status", "status": 500, "times": 1});
        assert_eq!(http.post(format!("{base}/_sandbox/faults")).json(&rule).send().await.unwrap().status(), 201);
        let rules: Vec<FaultRule> =
            http.get(format!("{base}/_sandbox/faults")).send().await.unwrap().json().await.unwrap();
        assert_eq!(rules, [FaultRule::new("/api/v1/things", Fault::Status { status: 500 }).times(1)]);
        assert_eq!(post_thing(&once(), &base).await.unwrap().status.as_u16(), 500);
        let calls: Vec<Call> = http.get(format!("{base}/_sandbox/calls")).send().await.unwrap().json().await.unwrap();
        assert_eq!(calls.len(), 1, "control calls are not logged");
        http.delete(format!("{base}/_sandbox/calls")).send().await.unwrap();
        http.delete(format!("{base}/_sandbox/faults")).send().await.unwrap();
        assert!(harness.calls().is_empty());
        assert!(harness.lock().rules.is_empty());
    }

    #[tokio::test]
    async fn streamed_calls_go_to_the_observer_with_their_query_and_not_to_the_log() {
        let harness = Harness::new(plain_error, 1);
        let base = serve(&harness, Arc::new(AtomicU32::new(0))).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        harness.stream_calls(Arc::new(move |call: &Call| sink.lock().unwrap().push(call.clone())));
        post_thing(&once(), &base).await.unwrap();
        send(once().get(format!("{base}/api/v1/things?quote=qt_1&limit=100"))).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!((seen[0].method.as_str(), seen[0].query.as_deref()), ("POST", None));
        assert_eq!(seen[0].idempotency_key.as_deref(), Some("k1"));
        assert_eq!((seen[1].path.as_str(), seen[1].query.as_deref()), ("/api/v1/things", Some("quote=qt_1&limit=100")));
        assert!(harness.calls().is_empty(), "the log keeps nothing");
    }

    #[test]
    fn probability_is_reproducible_from_the_seed() {
        let fire_pattern = |seed| {
            let harness = Harness::new(plain_error, seed);
            harness.inject(FaultRule::new("/", Fault::Status { status: 500 }).probability(0.5));
            (0..64).map(|_| harness.pick(&Method::GET, "/x").is_some()).collect::<Vec<_>>()
        };
        let pattern = fire_pattern(42);
        assert_eq!(pattern, fire_pattern(42));
        let fired = pattern.iter().filter(|f| **f).count();
        assert!((16..=48).contains(&fired), "{fired} of 64");
    }
}
