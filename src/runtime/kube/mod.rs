//! The Kubernetes runtime behind `coverbridge run`: kube-runtime controllers drive the reconcile
//! core; every replica serves webhooks, metrics and probes and keeps its caches warm; the
//! replica holding the Lease reconciles and writes.

mod autobind;
mod cached;
mod caches;
mod controller;
mod fleet;
mod fleet_metrics;
mod freshness;
mod handoff;
mod health;
mod host;
mod leader;
mod notices;
mod probes;
mod scope;
mod start;
mod sweep;
mod uncovered;
mod watch;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kube::api::Api;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::Store;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

pub use autobind::{AUTO_CREATED_LABEL, AutoBinder, Considered, Template, TemplateError};
pub use cached::CachedBinding;
use caches::Caches;
pub use controller::Context;
pub use fleet::Fleet;
pub use fleet_metrics::FleetCollector;
pub use handoff::{Handoff, WAKE_ANNOTATION};
pub use health::CacheHealth;
pub use host::{FIELD_MANAGER, FINALIZER};
pub use leader::Leadership;
use notices::Notices;
use scope::{Scope, Wiring, on_stop};
pub use start::{StartError, run};
pub use sweep::{SweepRecord, sweep_once};
pub use uncovered::Uncovered;

use crate::metrics::Metrics;
use crate::reconcile::Reconciler;
use crate::resources::{CategoryMapping, CoverageBinding};

use crate::webhooks::{self, Counters, Credentials};
use crate::workmarket::WorkMarketClient;

/// The label on Secrets whose changes wake the bindings that use them as certificates.
pub const CERTIFICATE_LABEL: &str = "coverbridge.io/certificate";

/// The longest the operator takes to exit after SIGTERM, whatever it was doing: running
/// reconciles get their grace and are then abandoned (every create they might repeat is
/// idempotent). The chart's `terminationGracePeriodSeconds` must stay above it.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(20);
/// The part of [`SHUTDOWN_BOUND`] kept for handing the Lease over.
const RESIGN_GRACE: Duration = Duration::from_secs(3);

/// Why the operator stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A CRD is missing from the cluster.
    #[error(
        "the CustomResourceDefinition {0} is not installed; install the CRDs first: `kubectl apply --server-side -f crds/coverbridge.yaml` (or `coverbridge crds | kubectl apply --server-side -f -`)"
    )]
    CrdMissing(String),
    /// The API server refused or failed a startup call.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// Leader election could not start.
    #[error("leader election: {0}")]
    Lease(#[from] kube_lease_manager::LeaseManagerError),
    /// A listener could not be opened (the address is taken, or not this host's).
    #[error("cannot listen for {role} on {addr}: {source}")]
    Listen {
        /// `webhooks` or `metrics`.
        role: &'static str,
        /// The address in the settings.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Listeners bound before the operator starts. A caller that must hand its addresses out first
/// (to the platforms' webhook settings, say) binds them itself, so that no other server can take
/// a port between choosing it and the operator opening it.
pub struct Listeners {
    /// Where WorkMarket and 1099Policy deliver webhooks.
    pub webhooks: std::net::TcpListener,
    /// Metrics and probes.
    pub probes: std::net::TcpListener,
}

/// What the operator runs with, besides its clients.
#[derive(Clone)]
pub struct Settings {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    /// Address the WorkMarket and 1099Policy webhook receiver listens on.
    pub webhook_addr: SocketAddr,
    /// Metrics and probes listener.
    pub metrics_addr: SocketAddr,
    /// Namespace of the Lease.
    pub lease_namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// This replica's identity in the Lease (its pod name).
    pub identity: String,
    /// Resync of converged bindings.
    pub resync: Duration,
    /// Interval of WorkMarket change-feed sweeps.
    pub sweep_interval: Duration,
    /// WorkMarket's webhook token and 1099Policy's signing secret; a source without one is refused.
    pub credentials: Credentials,
    /// Auto-binding template, when enabled.
    pub auto_bind: Option<Template>,
    /// How many bindings this replica reconciles at once.
    pub concurrency: u16,
    /// Whether Secrets labelled as certificates are watched (it needs RBAC for Secrets).
    pub certificate_secrets: bool,
}

/// Metrics and the parts they read, created before the clients so the clients can report.
pub struct Telemetry {
    /// The registry everything reports to, served on the metrics listener.
    pub metrics: Arc<Metrics>,
    stores: Arc<std::sync::RwLock<Vec<Store<CachedBinding>>>>,
    counters: Arc<Counters>,
    uncovered: Arc<Uncovered>,
    sweeps: Arc<SweepRecord>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// Metrics with the fleet gauges registered (they fill in when the caches exist).
    pub fn new() -> Self {
        let stores: Arc<std::sync::RwLock<Vec<Store<CachedBinding>>>> = Arc::default();
        let counters = Arc::new(Counters::default());
        let (uncovered, sweeps) = (Arc::new(Uncovered::default()), Arc::new(SweepRecord::default()));
        let collector = FleetCollector {
            bindings: stores.clone(),
            deliveries: counters.clone(),
            uncovered: uncovered.clone(),
            sweeps: sweeps.clone(),
        };
        Self { metrics: Arc::new(Metrics::new(vec![Box::new(collector)])), stores, counters, uncovered, sweeps }
    }
}

/// The operator: controllers, webhook receiver, probes, sweep and leader election.
pub struct Operator {
    client: kube::Client,
    reconciler: Reconciler,
    workmarket: WorkMarketClient,
    settings: Settings,
    telemetry: Telemetry,
    listeners: Option<Listeners>,
}

impl Operator {
    /// An operator over `client` and the core.
    pub fn new(
        client: kube::Client,
        reconciler: Reconciler,
        workmarket: WorkMarketClient,
        settings: Settings,
        telemetry: Telemetry,
    ) -> Self {
        Self { client, reconciler, workmarket, settings, telemetry, listeners: None }
    }

    /// Serves on `listeners` instead of binding the addresses in the settings.
    pub fn with_listeners(self, listeners: Listeners) -> Self {
        Self { listeners: Some(listeners), ..self }
    }

    /// Runs until `shutdown` resolves, then stops taking webhooks, gives running reconciles
    /// their grace and releases the lease — all within [`SHUTDOWN_BOUND`].
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), RunError> {
        let (stop_tx, _) = signal::channel(false);
        let stop = stop_tx.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: no new webhooks, finishing running reconciles");
            let _ = stop.send(true);
        });
        let started = tokio::select! {
            started = self.start(&stop_tx) => started?,
            () = on_stop(&stop_tx) => return Ok(()),
        };
        on_stop(&stop_tx).await;
        started.stop().await;
        tracing::info!("stopped");
        Ok(())
    }

    async fn start(self, stop: &signal::Sender<bool>) -> Result<Running, RunError> {
        let Self { client, reconciler, workmarket, settings, telemetry, listeners } = self;
        check_crds(&client).await?;
        let (webhook_listener, probe_listener) = listen(&settings, listeners).await?;
        let webhook_addr = webhook_listener.local_addr().unwrap_or(settings.webhook_addr);
        let metrics_addr = probe_listener.local_addr().unwrap_or(settings.metrics_addr);
        let leadership =
            Leadership::campaign(client.clone(), &settings.lease_namespace, &settings.lease_name, &settings.identity)
                .await?;
        let stopped = || on_stop(stop);
        let health = Arc::new(CacheHealth::default());
        let fleet = Fleet::new(auto_binding(&settings, &client, &workmarket))
            .with_handoff(Handoff::new(client.clone(), leadership.is_leader.clone()))
            .with_health(health.clone())
            .with_uncovered(telemetry.uncovered.clone());
        let scopes: Vec<Scope> = if settings.namespaces.is_empty() {
            vec![Scope::new(None, &health, settings.certificate_secrets)]
        } else {
            let new = |ns: &String| Scope::new(Some(ns.clone()), &health, settings.certificate_secrets);
            settings.namespaces.iter().map(new).collect()
        };
        let stores: Vec<_> = scopes.iter().map(Scope::stores).collect();
        *telemetry.stores.write().unwrap_or_else(|p| p.into_inner()) =
            stores.iter().map(|s| s.bindings.clone()).collect();
        let reporter = Reporter { controller: "coverbridge".into(), instance: Some(settings.identity.clone()) };
        let ctx = Arc::new(Context::new(
            client.clone(),
            reconciler,
            Notices::new(client.clone(), reporter),
            Caches::new(stores, health.clone()),
            telemetry.metrics.clone(),
            leadership.is_leader.clone(),
            settings.resync,
        ));
        let wiring = Wiring {
            client: client.clone(),
            ctx,
            fleet: fleet.clone(),
            health: health.clone(),
            leader: leadership.is_leader.clone(),
            stop: stop.clone(),
            concurrency: settings.concurrency,
        };
        let mut tasks: Vec<JoinHandle<()>> = scopes.into_iter().flat_map(|scope| scope.spawn(&wiring)).collect();
        tasks.push(tokio::spawn(settle_kept_wakes(fleet.clone(), health.clone(), stopped())));

        let receiver =
            webhooks::router(Arc::new(fleet.clone()), settings.credentials.clone(), telemetry.counters.clone());
        let probes = probes::router(probes::Probes { metrics: telemetry.metrics.clone(), health });
        tasks.push(serve("webhook", crate::server::serve(webhook_listener, receiver, stopped())));
        tasks.push(serve("metrics", crate::server::serve(probe_listener, probes, stopped())));
        let sweeps = telemetry.sweeps.clone();
        let sweep =
            sweep::run(workmarket, fleet, leadership.is_leader.clone(), settings.sweep_interval, sweeps, stopped());
        tasks.push(tokio::spawn(sweep));
        tracing::info!(webhooks = %webhook_addr, metrics = %metrics_addr, namespaces = ?settings.namespaces, "coverbridge is running");
        Ok(Running { tasks, leadership, ctx: wiring.ctx })
    }
}

/// The webhook and probe listeners: those given, or the settings' addresses bound now.
async fn listen(settings: &Settings, given: Option<Listeners>) -> Result<(TcpListener, TcpListener), RunError> {
    async fn bind(role: &'static str, addr: SocketAddr) -> Result<TcpListener, RunError> {
        TcpListener::bind(addr).await.map_err(|source| RunError::Listen { role, addr, source })
    }
    fn adopt(role: &'static str, listener: std::net::TcpListener, addr: SocketAddr) -> Result<TcpListener, RunError> {
        let fail = |source| RunError::Listen { role, addr, source };
        listener.set_nonblocking(true).map_err(fail)?;
        TcpListener::from_std(listener).map_err(fail)
    }
    match given {
        Some(Listeners { webhooks, probes }) => {
            Ok((adopt("webhooks", webhooks, settings.webhook_addr)?, adopt("metrics", probes, settings.metrics_addr)?))
        }
        None => Ok((bind("webhooks", settings.webhook_addr).await?, bind("metrics", settings.metrics_addr).await?)),
    }
}

/// The operator once started.
struct Running {
    tasks: Vec<JoinHandle<()>>,
    leadership: Leadership,
    ctx: Arc<Context>,
}

impl Running {
    /// Lets every task finish until the deadline, abandons the rest, and hands the lease over.
    async fn stop(self) {
        let Self { tasks, leadership, ctx } = self;
        let deadline = tokio::time::Instant::now() + SHUTDOWN_BOUND - RESIGN_GRACE;
        let mut abandoned = 0;
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                abandoned += 1;
            }
        }
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "stopped what was still running at the shutdown deadline; its creates are idempotent"
            );
        }
        // The lease campaign ends when nobody watches it any more.
        drop(ctx);
        if tokio::time::timeout(RESIGN_GRACE, leadership.resign()).await.is_err() {
            tracing::warn!("could not release the lease in time; it expires on its own");
        }
    }
}

/// The auto-binding hook, when a template is configured.
fn auto_binding(settings: &Settings, client: &kube::Client, workmarket: &WorkMarketClient) -> Option<fleet::Unbound> {
    let binder = AutoBinder::new(settings.auto_bind.clone()?, client.clone(), workmarket.clone());
    Some(Arc::new(move |id: String| {
        let binder = binder.clone();
        tokio::spawn(async move {
            if let Err(error) = binder.consider(&id).await {
                tracing::warn!(work_order = %id, %error, "auto-binding failed");
            }
        });
    }))
}

/// Serves a listener as a task; an error is logged.
fn serve(name: &'static str, server: impl Future<Output = std::io::Result<()>> + Send + 'static) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::warn!(listener = name, %error, "a listener stopped with an error");
        }
    })
}

/// Each time every cache follows changes again, matches the wakes kept meanwhile.
async fn settle_kept_wakes(fleet: Fleet, health: Arc<CacheHealth>, stop: impl Future<Output = ()>) {
    let mut changes = health.subscribe();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                if health.settled() {
                    fleet.settle();
                }
            }
            () = &mut stop => return,
        }
    }
}

/// Fails with an actionable message when a CRD is missing. A 403 (no permission to read CRDs)
/// is only a warning: the watches will say soon enough.
async fn check_crds(client: &kube::Client) -> Result<(), RunError> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for name in [CoverageBinding::crd_name(), CategoryMapping::crd_name()] {
        match crds.get_opt(name).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(RunError::CrdMissing(name.to_owned())),
            Err(kube::Error::Api(status)) if status.code == 403 => {
                tracing::warn!(crd = name, "cannot check the CRD (forbidden); assuming it is installed");
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
