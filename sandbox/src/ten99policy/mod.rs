//! A faithful local 1099Policy (reference `1099policy-api.md`, quirks included): a stateful
//! in-memory API with prefixed ids, bare-array lists, `{error_code, message}` errors, the real
//! validation rules, 24-hour idempotent replay, multipart certificate uploads and signed,
//! retried webhooks — plus a control API (`/_sandbox/…`) to drive scenarios, the shared
//! harness's call log and faults, and a printed seed.
//!
//! Map: [`state`] (objects, clock, events), `routes/` (one file per resource), `fields`
//! (request validation), `auth`, `replay` (idempotency), [`webhooks`] (delivery), [`control`]
//! (scenario actions), [`seed`].

mod auth;
pub mod control;
mod error;
pub mod events;
mod fields;
mod quirks;
mod replay;
pub mod returning;
mod routes;
pub mod seed;
mod signature;
mod state;
pub mod webhooks;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::middleware::from_fn_with_state;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use control::{CertificateReview, PolicyChange};
pub use error::ApiError;
pub use events::EventType;
pub use returning::{Returning, ReturningContractor};
pub use signature::{SIGNATURE_HEADER, sign};
pub use webhooks::{Delivery, DeliveryPolicy};
pub use wire::*;

use super::harness::Harness;
use crate::secret::Secret;
use replay::Replays;
use state::{Clock, Store, new_id};
use webhooks::{DeliveryLog, Endpoint};

/// The API key the sandbox accepts unless configured otherwise.
pub const SANDBOX_API_KEY: &str = "t9k_test_sandbox";
/// The signing secret of the configured webhook URL unless one is given.
pub const SANDBOX_WEBHOOK_SECRET: &str = "whsec_sandbox";

/// Placeholder base of links until the sandbox is served.
const UNSERVED_URL: &str = "http://127.0.0.1";

/// How to build a sandbox.
#[derive(Clone, Debug)]
pub struct Ten99PolicySandboxConfig {
    /// Start with the printed seed (entity, category codes, Jordan Lee); `false` starts empty.
    pub seed: bool,
    /// The one API key accepted.
    pub api_key: String,
    /// Deliver every event here (as `coverbridge sandbox --ten99policy-webhook-url`).
    pub webhook_url: Option<String>,
    /// Secret to sign those deliveries with (default [`SANDBOX_WEBHOOK_SECRET`]).
    pub webhook_secret: Option<Secret>,
    /// Retries of webhook deliveries.
    pub delivery: DeliveryPolicy,
    /// Seed of probabilistic faults.
    pub fault_seed: u64,
    /// Answer nested objects (`certificates`, `quote_json`, `eligible`, `address`,
    /// `custom_metadata`) as Python `repr` strings, as the real API sometimes does.
    pub python_repr_nested: bool,
}

impl Default for Ten99PolicySandboxConfig {
    fn default() -> Self {
        Self {
            seed: true,
            api_key: SANDBOX_API_KEY.to_owned(),
            webhook_url: None,
            webhook_secret: None,
            delivery: DeliveryPolicy::default(),
            fault_seed: 0,
            python_repr_nested: false,
        }
    }
}

/// A 1099Policy sandbox. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Ten99PolicySandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: Ten99PolicySandboxConfig,
    store: Mutex<Store>,
    clock: Arc<Clock>,
    harness: Harness,
    replays: Replays,
    deliveries: DeliveryLog,
    /// Where the sandbox is served, for session and document links.
    public_url: Mutex<String>,
}

impl Ten99PolicySandbox {
    /// A sandbox as configured (seeded unless `config.seed` is false).
    pub fn new(config: Ten99PolicySandboxConfig) -> Self {
        let sandbox = Self {
            inner: Arc::new(Inner {
                harness: Harness::new(error::injected, config.fault_seed),
                store: Mutex::new(Store::default()),
                clock: Arc::new(Clock::default()),
                replays: Replays::default(),
                deliveries: DeliveryLog::default(),
                public_url: Mutex::new(UNSERVED_URL.to_owned()),
                config,
            }),
        };
        let now = sandbox.now();
        if sandbox.inner.config.seed {
            seed::seed(&mut sandbox.store(), now, &sandbox.public_url());
        }
        if let Some(url) = &sandbox.inner.config.webhook_url {
            let secret = sandbox.configured_webhook_secret();
            sandbox.register_endpoint(WebhookEndpoint {
                id: new_id("whe_", 22),
                url: Some(url.clone()),
                description: Some("configured at startup".into()),
                created: Some(now),
                events: Vec::new(),
                secret: Some(secret),
            });
        }
        sandbox
    }

    /// The API routes (behind auth, idempotent replay and the harness) and the control routes.
    pub fn router(&self) -> Router {
        let mut api = routes::api();
        if self.inner.config.python_repr_nested {
            api = api.layer(axum::middleware::from_fn(quirks::python_repr_nested));
        }
        let api = api
            .layer(from_fn_with_state(self.clone(), replay::replay))
            .layer(from_fn_with_state(self.clone(), auth::require_key))
            .with_state(self.clone());
        self.inner.harness.wrap(api).merge(control::routes().with_state(self.clone()))
    }

    /// Serves on `listener` until the task is dropped; links point at its address.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        self.set_public_url(listener.local_addr()?);
        axum::serve(listener, self.router()).await
    }

    /// Serves on a free loopback port in a background task.
    pub async fn start(&self) -> std::io::Result<RunningSandbox> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on `addr` in a background task (what `coverbridge sandbox` calls).
    pub async fn start_on(&self, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // Before anything is served, so every link points at the real address.
        self.set_public_url(addr);
        let sandbox = self.clone();
        let task = tokio::spawn(async move { sandbox.serve(listener).await });
        Ok(RunningSandbox { url: format!("http://{addr}"), addr, sandbox: self.clone(), task: Some(task) })
    }

    /// The call log and fault injection.
    pub fn harness(&self) -> &Harness {
        &self.inner.harness
    }

    /// The accepted API key.
    pub fn api_key(&self) -> &str {
        &self.inner.config.api_key
    }

    /// The secret deliveries to the configured webhook URL are signed with.
    pub fn configured_webhook_secret(&self) -> Secret {
        self.inner.config.webhook_secret.clone().unwrap_or_else(|| Secret::new(SANDBOX_WEBHOOK_SECRET))
    }

    /// Sandbox time (real time plus [`Ten99PolicySandbox::advance_clock`]).
    pub fn now(&self) -> EpochSeconds {
        self.inner.clock.now()
    }

    /// The printed summary: URL, credentials, seed and where the control API is.
    pub fn summary(&self) -> String {
        let url = self.public_url();
        let webhook = self.inner.config.webhook_url.as_deref().map(|target| {
            let secret = self.configured_webhook_secret();
            (target.to_owned(), secret.expose().to_owned())
        });
        seed::summary(
            &url,
            self.api_key(),
            webhook.as_ref().map(|(t, s)| (t.as_str(), s.as_str())),
            self.inner.config.seed,
        )
    }

    /// The store, with policies whose end has passed expired first.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
        store.expire_due(self.now());
        store
    }

    pub(crate) fn replays(&self) -> &Replays {
        &self.inner.replays
    }

    pub(crate) fn public_url(&self) -> String {
        self.inner.public_url.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Points links (sessions, documents) at `addr`, including those made before serving.
    fn set_public_url(&self, addr: SocketAddr) {
        let url = format!("http://{addr}");
        let old = std::mem::replace(&mut *self.inner.public_url.lock().unwrap_or_else(|p| p.into_inner()), url.clone());
        if old != url {
            self.store().relink(&old, &url);
        }
    }

    pub(crate) fn register_endpoint(&self, endpoint: WebhookEndpoint) {
        let endpoint = Endpoint::new(
            endpoint,
            self.inner.config.delivery.clone(),
            self.inner.clock.clone(),
            self.inner.deliveries.clone(),
        );
        self.store().endpoints.push(endpoint);
    }
}

/// A sandbox being served.
pub struct RunningSandbox {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Address served on.
    pub addr: SocketAddr,
    /// The sandbox, for control calls in-process.
    pub sandbox: Ten99PolicySandbox,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSandbox {
    /// The printed summary.
    pub fn summary(&self) -> String {
        self.sandbox.summary()
    }

    /// Serves until the server fails.
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
