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

/// Stored answers by key.
#[derive(Default)]
pub(crate) struct Replays {
    /// One keyed POST at a time, so two requests with one key cannot both execute.
    gate: tokio::sync::Mutex<()>,
    stored: Mutex<HashMap<String, Stored>>,
}

struct Stored {
    at: EpochSeconds,
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl Replays {
    fn lookup(&self, key: &str, now: EpochSeconds) -> Option<Response> {
        let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        stored.retain(|_, s| s.at.plus_seconds(DAY) > now);
        let s = stored.get(key)?;
        let mut response = (s.status, s.body.clone()).into_response();
        if let Some(content_type) = &s.content_type {
            response.headers_mut().insert(CONTENT_TYPE, content_type.clone());
        }
        Some(response)
    }

    fn store(&self, key: String, stored: Stored) {
        self.stored.lock().unwrap_or_else(|p| p.into_inner()).insert(key, stored);
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
        key,
        Stored {
            at: sandbox.now(),
            status: parts.status,
            content_type: parts.headers.get(CONTENT_TYPE).cloned(),
            body: body.clone(),
        },
    );
    Response::from_parts(parts, Body::from(body))
}
