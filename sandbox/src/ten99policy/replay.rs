//! Idempotent replay: the first answer to a POST with an idempotency key (either header) is
//! stored for 24 hours and returned again — status and body byte for byte, errors included —
//! to every later request with that key. Answers to requests that never started executing
//! (marked [`NotStored`]) are not kept; auth failures never get this far.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Ten99PolicySandbox;
use super::error::NotStored;
use super::state::DAY;
use crate::ten99policy::EpochSeconds;

/// How often (sandbox time) answers older than a day are swept out.
const SWEEP_EVERY: i64 = 60;

/// Stored answers by key.
#[derive(Default)]
pub(crate) struct Replays {
    /// One keyed POST at a time, so two requests with one key cannot both execute.
    gate: tokio::sync::Mutex<()>,
    stored: Mutex<Answers>,
}

#[derive(Default)]
struct Answers {
    /// By the first 128 bits of the key's SHA-256 (a key is often longer than the answer's
    /// bookkeeping; a collision is as likely as guessing a random 128-bit number).
    by_key: HashMap<[u8; 16], Stored>,
    swept: Option<EpochSeconds>,
}

fn digest(key: &str) -> [u8; 16] {
    use sha2::Digest;
    let full = sha2::Sha256::digest(key.as_bytes());
    let mut short = [0; 16];
    short.copy_from_slice(&full[..16]);
    short
}

/// One stored answer, compact: a sandbox keeps one for every keyed POST of the last day.
struct Stored {
    at: EpochSeconds,
    status: StatusCode,
    content_type: ContentType,
    body: Box<[u8]>,
}

/// The answer's `Content-Type`: nearly always JSON.
enum ContentType {
    None,
    Json,
    Other(Box<HeaderValue>),
}

impl ContentType {
    fn of(value: Option<&HeaderValue>) -> Self {
        match value {
            None => Self::None,
            Some(value) if value.as_bytes() == b"application/json" => Self::Json,
            Some(value) => Self::Other(Box::new(value.clone())),
        }
    }

    fn header(&self) -> Option<HeaderValue> {
        match self {
            Self::None => None,
            Self::Json => Some(HeaderValue::from_static("application/json")),
            Self::Other(value) => Some(HeaderValue::clone(value)),
        }
    }
}

impl Replays {
    fn lookup(&self, key: &str, now: EpochSeconds) -> Option<Response> {
        let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        // Expired answers are never replayed; sweeping them out now and then keeps lookups O(1).
        if stored.swept.is_none_or(|at| now >= at.plus_seconds(SWEEP_EVERY) || now < at) {
            stored.by_key.retain(|_, s| s.at.plus_seconds(DAY) > now);
            stored.swept = Some(now);
        }
        let s = stored.by_key.get(&digest(key)).filter(|s| s.at.plus_seconds(DAY) > now)?;
        let mut response = (s.status, Bytes::copy_from_slice(&s.body)).into_response();
        if let Some(content_type) = s.content_type.header() {
            response.headers_mut().insert(CONTENT_TYPE, content_type);
        }
        Some(response)
    }

    fn store(&self, key: &str, stored: Stored) {
        self.stored.lock().unwrap_or_else(|p| p.into_inner()).by_key.insert(digest(key), stored);
    }
}

/// The idempotency key of a request: `Ten99Policy-Idempotent-Key`, else `Idempotency-Key`.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    ["ten99policy-idempotent-key", "idempotency-key"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
}

pub(crate) async fn replay(State(sandbox): State<Ten99PolicySandbox>, request: Request, next: Next) -> Response {
    let key = idempotency_key(request.headers()).filter(|_| request.method() == Method::POST);
    let Some(key) = key else {
        return next.run(request).await;
    };
    let replays = sandbox.replays();
    let _turn = replays.gate.lock().await;
    if let Some(answer) = replays.lookup(&key, sandbox.now()) {
        return answer;
    }
    let response = next.run(request).await;
    if response.extensions().get::<NotStored>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    replays.store(
        &key,
        Stored {
            at: sandbox.now(),
            status: parts.status,
            content_type: ContentType::of(parts.headers.get(CONTENT_TYPE)),
            // A copy of exactly the body's length: the response's buffer grew by doubling.
            body: Box::from(&body[..]),
        },
    );
    Response::from_parts(parts, Body::from(body))
}
