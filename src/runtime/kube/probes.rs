//! `GET /metrics`, `GET /healthz` (the process serves) and `GET /readyz` (every cache has
//! listed and none is refused; not leadership, so every replica takes webhooks). A 503 from
//! `/readyz` says in its body what is missing, a refusal by RBAC first.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::health::CacheHealth;
use crate::metrics::Metrics;

/// Shared by the probe handlers.
#[derive(Clone)]
pub struct Probes {
    /// The metrics to serve.
    pub metrics: Arc<Metrics>,
    /// The caches' health.
    pub health: Arc<CacheHealth>,
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
    match probes.health.readiness() {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}
