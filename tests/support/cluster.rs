//! The operator as it runs in a cluster, against the fake Kubernetes API, with both sandboxes
//! standing in for the platforms and sending their webhooks to it. Replicas come and go on the
//! same webhook address, as pods behind a Service do.

use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use coverbridge::reconcile::{Reconciler, Settings as CoreSettings};
use coverbridge::runtime::kube::{Listeners, Operator, RunError, Settings, Telemetry};
use coverbridge::sandbox_clients::{Ten99PolicySandboxClient, WorkMarketSandboxClient};
use coverbridge::secret::Secret;
use coverbridge::webhooks::Credentials;
use coverbridge::workmarket::PathStyle;
use coverbridge_sandbox::money::Cents;
use coverbridge_sandbox::ten99policy::RunningSandbox as Ten99Running;
use coverbridge_sandbox::workmarket::{
    NewWorkOrder, NewWorker, PricingSpec, RunningSandbox as WmRunning, SandboxAddress,
};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::kube_api::FakeKube;
use super::platforms::fast_http;

/// The token WorkMarket's webhooks carry.
pub const TOKEN: &str = "cluster-webhook-token";
/// The namespace the bindings live in.
pub const NAMESPACE: &str = "demo";

/// A loopback address nobody listens on at this moment. Only for a child process, which cannot
/// be handed a listener: any other server may take the port before the child binds it.
pub fn free_addr() -> SocketAddr {
    listener(ANY_PORT).local_addr().unwrap()
}

/// Loopback, on a port the system picks.
pub const ANY_PORT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// A listener on `addr`, held until the operator adopts it, so no other test's server can take
/// the port in between (a port chosen and released again can be handed to anyone).
pub fn listener(addr: SocketAddr) -> TcpListener {
    TcpListener::bind(addr).unwrap_or_else(|e| panic!("listening on {addr}: {e}"))
}

/// The platforms and the fake API server; replicas of the operator run against them.
pub struct Cluster {
    /// The Kubernetes API.
    pub fake: FakeKube,
    /// WorkMarket.
    pub workmarket: WmRunning,
    /// 1099Policy.
    pub ten99policy: Ten99Running,
    /// Where both platforms deliver webhooks.
    pub webhook_addr: SocketAddr,
    /// The listener on `webhook_addr` until the first replica takes it; later replicas bind the
    /// address again, as the next pod behind a Service does.
    webhooks: Mutex<Option<TcpListener>>,
}

/// One running operator process.
pub struct Replica {
    /// Its metrics and probes.
    pub metrics_url: String,
    /// Where it takes webhooks.
    pub webhook_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), RunError>>>,
}

impl Cluster {
    /// The sandboxes, delivering webhooks to one address.
    pub async fn new(fake: FakeKube) -> Self {
        let webhooks = listener(ANY_PORT);
        let webhook_addr = webhooks.local_addr().unwrap();
        let (workmarket, ten99policy) = super::platforms::seeded(&format!("http://{webhook_addr}"), TOKEN).await;
        Self { fake, workmarket, ten99policy, webhook_addr, webhooks: Mutex::new(Some(webhooks)) }
    }

    /// The operator's settings for replica `identity`, watching [`NAMESPACE`], taking webhooks on
    /// the cluster's address and serving probes on a port of its own.
    pub fn settings(&self, identity: &str) -> Settings {
        Settings {
            namespaces: vec![NAMESPACE.into()],
            webhook_addr: self.webhook_addr,
            metrics_addr: ANY_PORT,
            lease_namespace: "coverbridge-system".into(),
            lease_name: "coverbridge".into(),
            identity: identity.into(),
            // Neither fires within a test: what happens is due to webhooks and watches.
            resync: Duration::from_secs(900),
            sweep_interval: Duration::from_secs(120),
            credentials: Credentials {
                workmarket_token: Some(Secret::new(TOKEN)),
                ten99policy: Some(self.ten99policy.verifier()),
            },
            auto_bind: None,
            concurrency: 16,
            certificate_secrets: true,
        }
    }

    /// Starts a replica with `settings` and waits until it is ready and leads.
    pub async fn replica(&self, settings: Settings) -> Replica {
        let identity = settings.identity.clone();
        let mut replica = self.start(settings);
        self.wait_ready_and_leading(&mut replica, &identity).await;
        replica
    }

    /// Starts a replica with `settings` without waiting for it.
    pub fn start(&self, mut settings: Settings) -> Replica {
        let taken = self.webhooks.lock().unwrap().take().filter(|_| settings.webhook_addr == self.webhook_addr);
        let webhooks = taken.unwrap_or_else(|| listener(settings.webhook_addr));
        let probes = listener(settings.metrics_addr);
        (settings.webhook_addr, settings.metrics_addr) = (webhooks.local_addr().unwrap(), probes.local_addr().unwrap());
        let (metrics_url, webhook_addr) = (format!("http://{}", settings.metrics_addr), settings.webhook_addr);
        let telemetry = Telemetry::new();
        let reconciler = Reconciler::new(
            self.workmarket.client(PathStyle::Api, fast_http()),
            self.ten99policy.client(fast_http().with_observer(telemetry.metrics.http_observer())),
            CoreSettings { proxy_email_domain: Some("relay.example.com".into()), ..CoreSettings::default() },
        );
        let workmarket = self.workmarket.client(PathStyle::Api, fast_http());
        let operator = Operator::new(self.fake.client(), reconciler, workmarket, settings, telemetry)
            .with_listeners(Listeners { webhooks, probes });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(operator.run(async move {
            let _ = stopped.await;
        }));
        Replica { metrics_url, webhook_addr, stop: Some(stop), task: Some(task) }
    }

    async fn wait_ready_and_leading(&self, replica: &mut Replica, identity: &str) {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            replica.check_running().await;
            let ready = replica.ready().await.0 == 200;
            let lease = self.fake.get("leases", Some("coverbridge-system"), "coverbridge");
            let leads = lease.is_some_and(|l| l["spec"]["holderIdentity"] == identity);
            if ready && leads {
                return;
            }
            assert!(Instant::now() < until, "{identity} did not become ready ({ready}) and leader ({leads})");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The binding `name` in [`NAMESPACE`].
    pub fn binding(&self, name: &str) -> Option<Value> {
        self.fake.get("coveragebindings", Some(NAMESPACE), name)
    }

    /// Waits until binding `name` satisfies `done`, delivering webhooks meanwhile.
    pub async fn wait_for(&self, name: &str, what: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + within;
        loop {
            self.workmarket.sandbox.flush_webhooks().await;
            let object = self.binding(name);
            if let Some(object) = object.as_ref().filter(|o| done(o)) {
                return object.clone();
            }
            if Instant::now() > until {
                let deliveries = self.workmarket.sandbox.deliveries();
                panic!("{name}: {what} did not happen within {within:?}; now {object:#?}\ndeliveries: {deliveries:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new worker and a work order for them (flat fee, in California, starting in two days);
    /// returns (work order, worker).
    pub fn work_order(&self, i: usize) -> (String, String) {
        let wm = &self.workmarket.sandbox;
        let worker = wm
            .create_worker(NewWorker {
                id: None,
                first_name: format!("Worker{i}"),
                last_name: "Restart".into(),
                email: Some(format!("worker{i}@restart.example.com")),
                phone: Some(format!("+1 415 555 {i:04}")),
                address: SandboxAddress {
                    line1: format!("{i} Market St"),
                    city: "San Francisco".into(),
                    state: "California".into(),
                    postal_code: "94105".into(),
                    country: "USA".into(),
                },
            })
            .unwrap();
        let mut order = NewWorkOrder::new(format!("Restart job {i}"), PricingSpec::Flat { price: Cents(20_000) });
        order.location = Some(SandboxAddress {
            city: "San Jose".into(),
            state: "CA".into(),
            country: "USA".into(),
            ..Default::default()
        });
        let start = wm.now() + jiff::SignedDuration::from_hours(48);
        order.window_start = Some(start);
        order.window_end = Some(start + jiff::SignedDuration::from_hours(24));
        (wm.create_work_order(order).unwrap(), worker)
    }
}

/// A binding manifest for `work_order` with `extra` spec fields.
pub fn binding(name: &str, work_order: &str, extra: Value) -> Value {
    let mut spec = json!({"workOrderId": work_order, "coverageTypes": ["general"], "entity": "en_Ah3tqYn"});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    json!({"metadata": {"name": name}, "spec": spec})
}

/// A binding's phase.
pub fn phase(object: &Value) -> &str {
    object["status"]["phase"].as_str().unwrap_or_default()
}

impl Replica {
    /// `/readyz`: status and body (0 when it does not answer).
    pub async fn ready(&self) -> (u16, String) {
        match reqwest::get(format!("{}/readyz", self.metrics_url)).await {
            Ok(answer) => (answer.status().as_u16(), answer.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }

    /// `/metrics` as Prometheus would scrape it.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.metrics_url)).await.unwrap().text().await.unwrap()
    }

    /// Panics with the operator's own error when it has stopped by itself.
    async fn check_running(&mut self) {
        if self.task.as_ref().is_some_and(|t| t.is_finished()) {
            let ended = self.task.take().unwrap().await.unwrap();
            panic!("the operator stopped by itself: {ended:?}");
        }
    }

    /// Waits until `/readyz` says ready.
    pub async fn wait_ready(&mut self) {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            self.check_running().await;
            if self.ready().await.0 == 200 {
                return;
            }
            assert!(Instant::now() < until, "{} did not become ready", self.metrics_url);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the replica as SIGTERM would and waits for it.
    pub async fn stop(mut self) -> Result<(), RunError> {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(30), self.task.take().unwrap())
            .await
            .expect("shut down in time")
            .unwrap()
    }
}
