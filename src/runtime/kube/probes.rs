//! `GET /metrics`, `GET /healthz` (the process serves) and `GET /readyz` (every cache has
//! synced; not leadership, so every replica takes webhooks).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::metrics::Metrics;

/// Shared by the probe handlers.
#[derive(Clone)]
pub struct Probes {
    /// The metrics to serve.
    pub metrics: Arc<Metrics>,
    /// Set once every cache has synced.
    pub ready: Arc<AtomicBool>,
}

/// The probe and metrics routes.
pub fn router(probes: Probes) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(probes)
}

async fn metrics(State(probes): State<Probes>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], probes.metrics.encode())
}

async fn readyz(State(probes): State<Probes>) -> impl IntoResponse {
    if probes.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "caches are still syncing\n")
    }
}
