//! A faithful local WorkMarket (DESIGN §3, reference §9): the token exchange, work orders with
//! their `{meta, response}` envelope and errors inside HTTP 200s on both path families, a
//! control API to drive scenarios, and webhooks rendered from user templates.
//!
//! In-process: build a [`WorkMarketSandbox`], [`start`](WorkMarketSandbox::start) it on a
//! loopback port, drive it with its methods (or the `/_sandbox/…` routes), and point a
//! client (coverbridge's `WorkMarketClient`) at [`RunningSandbox::url`] with
//! [`RunningSandbox::credentials`].

mod api;
mod control;
mod envelope;
mod events;
mod lifecycle;
mod paths;
mod render;
mod seed;
mod settings;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;

pub use control::CannedReply;
pub use lifecycle::SandboxError;
pub use paths::PathStyle;
pub use seed::{API_SECRET, API_TOKEN};
pub use settings::Settings;
pub use state::{DateFormat, NewWorkOrder, NewWorker, PricingSpec, Quirks, SandboxAddress};
pub use webhooks::{DeliveryRecord, EVENTS, Outcome, SHIPPED_TEMPLATE, WebhookTemplate};

use super::harness::Harness;
use state::State;
use webhooks::Webhooks;

/// How to build a WorkMarket sandbox.
#[derive(Clone, Debug)]
pub struct WorkMarketSandboxConfig {
    /// Start with the printed seed (industries, workers, work orders); `false` starts empty.
    pub seed: bool,
    /// Register the shipped webhook template for every event the README lists, sending to
    /// this URL.
    pub webhook_url: Option<String>,
    /// The token those webhooks carry as `Authorization: Bearer`.
    pub webhook_token: Option<String>,
    /// The API token clients exchange.
    pub api_token: String,
    /// The API secret clients exchange.
    pub api_secret: String,
    /// Timeout of one webhook attempt (WorkMarket's is 60 s).
    pub webhook_timeout: Duration,
    /// Seed of probabilistic faults.
    pub fault_seed: u64,
}

impl Default for WorkMarketSandboxConfig {
    fn default() -> Self {
        Self {
            seed: true,
            webhook_url: None,
            webhook_token: None,
            api_token: API_TOKEN.to_owned(),
            api_secret: API_SECRET.to_owned(),
            webhook_timeout: Duration::from_secs(60),
            fault_seed: 0,
        }
    }
}

/// The WorkMarket sandbox. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct WorkMarketSandbox {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    harness: Harness,
    webhooks: Webhooks,
    replies: Mutex<Vec<control::CannedReply>>,
}

/// A sandbox serving on a port. Dropping it stops the server.
pub struct RunningSandbox {
    /// Base URL, such as `http://127.0.0.1:41234`.
    pub url: String,
    /// The address served.
    pub addr: SocketAddr,
    /// The sandbox, to drive it.
    pub sandbox: WorkMarketSandbox,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// What `coverbridge sandbox` prints: URLs, credentials, seed and webhooks.
    pub fn summary(&self) -> String {
        self.sandbox.summary(&self.url)
    }

    /// The API token and secret clients exchange for an access token.
    pub fn credentials(&self) -> (String, String) {
        let state = self.sandbox.lock();
        (state.api_token.clone(), state.api_secret.clone())
    }

    /// Serves until the server stops (it does not on its own).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WorkMarketSandbox {
    /// A sandbox as `config` says.
    ///
    /// # Panics
    /// When `config.webhook_url` cannot be registered (it is not a URL).
    pub fn new(config: WorkMarketSandboxConfig) -> Self {
        let mut state = State::new(config.api_token.clone(), config.api_secret.clone());
        if config.seed {
            seed::seed(&mut state);
        }
        let sandbox = Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                harness: Harness::new(envelope::error_body, config.fault_seed),
                webhooks: Webhooks::new(config.webhook_timeout),
                replies: Mutex::new(Vec::new()),
            }),
        };
        if let Some(url) = &config.webhook_url {
            for event in webhooks::EVENTS {
                let template = WebhookTemplate::shipped(event, url, config.webhook_token.as_deref());
                sandbox.add_webhook(template).expect("the shipped template saves for every listed event");
            }
        }
        sandbox
    }

    /// A sandbox with the seed and no webhooks.
    pub fn seeded() -> Self {
        Self::new(WorkMarketSandboxConfig::default())
    }

    /// The call log and fault injection.
    pub fn harness(&self) -> &Harness {
        &self.inner.harness
    }

    /// The API (both path families) with the call log and faults, and the control routes.
    pub fn router(&self) -> Router {
        let api = api::routes(self.clone());
        let api = control::with_canned_replies(self.clone(), api);
        self.inner.harness.wrap(api).merge(control::routes(self.clone()))
    }

    /// Serves on a free loopback port.
    pub async fn start(&self) -> std::io::Result<RunningSandbox> {
        self.serve_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on `addr`.
    pub async fn serve_on(&self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let router = self.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "WorkMarket sandbox stopped");
            }
        });
        self.inner.webhooks.start();
        Ok(RunningSandbox { url: format!("http://{addr}"), addr, sandbox: self.clone(), task })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Builds the sandbox `config` describes, serves it on `addr`, and returns it with the summary
/// to print. For `coverbridge sandbox`.
pub async fn serve(config: WorkMarketSandboxConfig, addr: SocketAddr) -> std::io::Result<(RunningSandbox, String)> {
    let running = WorkMarketSandbox::new(config).serve_on(addr).await?;
    let summary = running.summary();
    Ok((running, summary))
}
