//! WorkMarket test support: a sandbox on loopback, a client pointed at it with fast retries,
//! and a loopback webhook receiver that records what it gets.

// Each test binary that includes `support` uses a different part of this.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use coverbridge::sandbox_clients::WorkMarketSandboxClient;
use coverbridge::workmarket::{PathStyle, WorkMarketClient};
use coverbridge_sandbox::harness::Harness;
use coverbridge_sandbox::workmarket::{RunningSandbox, WorkMarketSandbox, WorkMarketSandboxConfig};

pub use super::platforms::fast_http;

/// The seeded sandbox, served on loopback.
pub async fn seeded() -> RunningSandbox {
    start(WorkMarketSandboxConfig::default()).await
}

/// A sandbox built from `config`, served on loopback.
pub async fn start(config: WorkMarketSandboxConfig) -> RunningSandbox {
    WorkMarketSandbox::new(config).start().await.unwrap()
}

/// A client for `sandbox` with the sandbox's credentials.
pub fn client(sandbox: &RunningSandbox, style: PathStyle) -> WorkMarketClient {
    sandbox.client(style, fast_http())
}

/// How many logged calls went to a path ending in `suffix`.
pub fn calls_to(harness: &Harness, suffix: &str) -> usize {
    harness.calls().iter().filter(|c| c.path.ends_with(suffix)).count()
}

/// One request a [`Receiver`] got.
#[derive(Clone, Debug)]
pub struct Hit {
    /// Request method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers.
    pub headers: HeaderMap,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

/// How a [`Receiver`] answers one request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// This status.
    Status(u16),
    /// Never answer (the sender times out).
    Hang,
}

/// A loopback HTTP server that records every request and answers from a script (the last
/// answer repeats).
pub struct Receiver {
    /// Its base URL.
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    /// Serves on a free loopback port, answering requests with `script` in turn.
    pub async fn start(script: Vec<Answer>) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        let app = Router::new().fallback(any(
            move |method: axum::http::Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let hit = Hit {
                    method: method.to_string(),
                    uri: uri.to_string(),
                    content_type: headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned),
                    headers,
                    body,
                };
                let n = {
                    let mut hits = seen.lock().unwrap();
                    hits.push(hit);
                    hits.len() - 1
                };
                let answer = script[n.min(script.len() - 1)];
                async move {
                    match answer {
                        Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
                        Answer::Hang => std::future::pending().await,
                    }
                }
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, hits }
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}
