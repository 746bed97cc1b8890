//! A whole world on loopback: both sandboxes, the webhook receiver and the local runtime, wired
//! as the demo wires them, for end-to-end tests of the reconcile core.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coverbridge::reconcile::{Notice, ObjectKey, Reconciler, Settings};
use coverbridge::resources::{CoverageBinding, CoverageBindingStatus};
use coverbridge::runtime::local::{LocalRuntime, Store};
use coverbridge::sandbox_clients::{Ten99PolicySandboxClient, WorkMarketSandboxClient};
use coverbridge::secret::Secret;
use coverbridge::webhooks::{self, Counters, Credentials};
use coverbridge::workmarket::PathStyle;
use coverbridge_sandbox::harness::Call;
use coverbridge_sandbox::ten99policy::RunningSandbox as Ten99Running;
use coverbridge_sandbox::workmarket::RunningSandbox as WmRunning;

/// The token the WorkMarket sandbox sends with its webhooks.
pub const WEBHOOK_TOKEN: &str = "wm-webhook-token-for-tests";
/// The namespace manifests land in.
pub const NAMESPACE: &str = "demo";

/// Both sandboxes, the receiver and the runtime.
pub struct World {
    /// The WorkMarket sandbox.
    pub workmarket: WmRunning,
    /// The 1099Policy sandbox.
    pub ten99policy: Ten99Running,
    /// The local runtime.
    pub runtime: LocalRuntime,
    /// Every notice, in order.
    pub notices: Arc<Mutex<Vec<(ObjectKey, Notice)>>>,
    /// The receiver's base URL.
    pub receiver_url: String,
    receiver: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

pub use super::platforms::fast_http;

impl World {
    /// A seeded world with default core settings.
    pub async fn start() -> Self {
        Self::with_settings(Settings { proxy_email_domain: Some("relay.example.com".into()), ..Settings::default() })
            .await
    }

    /// A seeded world with `settings`.
    pub async fn with_settings(settings: Settings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver_url = format!("http://{}", listener.local_addr().unwrap());
        let (workmarket, ten99policy) = super::platforms::seeded(&receiver_url, WEBHOOK_TOKEN).await;

        let wm_client = workmarket.client(PathStyle::Api, fast_http());
        let reconciler = Reconciler::new(wm_client, ten99policy.client(fast_http()), settings);
        let notices = Arc::new(Mutex::new(Vec::new()));
        let sink_notices = notices.clone();
        let sink = Arc::new(move |key: &ObjectKey, notice: &Notice| {
            sink_notices.lock().unwrap().push((key.clone(), notice.clone()))
        });
        let runtime = LocalRuntime::new(Store::new(), reconciler, sink);

        let credentials = Credentials {
            workmarket_token: Some(Secret::new(WEBHOOK_TOKEN)),
            ten99policy: Some(ten99policy.verifier()),
        };
        let app = webhooks::router(Arc::new(runtime.clone()), credentials, Arc::new(Counters::default()));
        let receiver = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { workmarket, ten99policy, runtime, notices, receiver_url, receiver }
    }

    /// Applies a YAML stream as `kubectl apply` would; returns the bindings in it.
    pub async fn apply(&self, yaml: &str) -> Vec<ObjectKey> {
        self.runtime.apply(yaml, NAMESPACE).await.unwrap().bindings
    }

    /// Applies a file from `examples/`.
    pub async fn apply_example(&self, file: &str) -> Vec<ObjectKey> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(file);
        self.apply(&std::fs::read_to_string(path).unwrap()).await
    }

    /// Lets webhooks arrive and the runtime work until nothing happens for a moment.
    pub async fn settle(&self) {
        loop {
            self.workmarket.sandbox.flush_webhooks().await;
            let runs = self.runtime.run_until_quiet(Duration::from_millis(300)).await;
            if runs == 0 {
                return;
            }
        }
    }

    /// A binding by name.
    pub fn binding(&self, name: &str) -> CoverageBinding {
        self.runtime.store().binding(&ObjectKey::new(NAMESPACE, name)).unwrap_or_else(|| panic!("no binding {name}"))
    }

    /// A binding's status.
    pub fn status(&self, name: &str) -> CoverageBindingStatus {
        self.binding(name).status.unwrap_or_default()
    }

    /// 1099Policy calls so far (control routes excluded).
    pub fn ten99_calls(&self) -> Vec<Call> {
        self.ten99policy.sandbox.harness().calls()
    }

    /// 1099Policy POSTs so far.
    pub fn ten99_writes(&self) -> Vec<Call> {
        self.ten99_calls().into_iter().filter(|c| c.method != "GET").collect()
    }

    /// How many objects 1099Policy holds under `collection` (e.g. `jobs`, `apply/sessions`).
    pub async fn count(&self, collection: &str) -> usize {
        let mut total = 0;
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{}/api/v1/{collection}?limit=100", self.ten99policy.url);
            if let Some(id) = &after {
                url.push_str(&format!("&starting_after={id}"));
            }
            let page: Vec<serde_json::Value> = reqwest::Client::new()
                .get(url)
                .bearer_auth(self.ten99policy.sandbox.api_key())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            total += page.len();
            match page.last().and_then(|o| o["id"].as_str()) {
                Some(id) if page.len() == 100 => after = Some(id.to_owned()),
                _ => return total,
            }
        }
    }

    /// Reasons of the notices about `name`.
    pub fn notice_reasons(&self, name: &str) -> Vec<String> {
        let key = ObjectKey::new(NAMESPACE, name);
        self.notices.lock().unwrap().iter().filter(|(k, _)| *k == key).map(|(_, n)| n.reason.clone()).collect()
    }
}
