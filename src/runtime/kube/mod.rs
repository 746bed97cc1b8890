//! The Kubernetes runtime behind `coverbridge run`: kube-runtime controllers drive the reconcile
//! core; every replica serves webhooks, metrics and probes and keeps its caches warm; the
//! replica holding the Lease reconciles and writes.

mod autobind;
mod controller;
mod fleet_metrics;
mod handoff;
mod host;
mod index;
mod leader;
mod probes;
mod scope;
mod start;
mod sweep;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use tokio::sync::watch;

pub use autobind::{AUTO_CREATED_LABEL, AutoBinder, Considered, Template, TemplateError};
pub use controller::Context;
pub use fleet_metrics::FleetCollector;
pub use handoff::{Handoff, WAKE_ANNOTATION};
pub use host::{FIELD_MANAGER, FINALIZER};
pub use index::Fleet;
pub use leader::Leadership;
use scope::{Scope, Synced, on_stop};
pub use start::{StartError, run};
pub use sweep::sweep_once;

use crate::metrics::Metrics;
use crate::reconcile::Reconciler;
use crate::resources::{CategoryMapping, CoverageBinding};
use crate::webhooks::{self, Counters, Credentials};
use crate::workmarket::WorkMarketClient;

/// The label on Secrets whose changes wake the bindings that use them as certificates.
pub const CERTIFICATE_LABEL: &str = "coverbridge.io/certificate";

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
    /// A listener could not be opened.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the operator runs with, besides its clients.
#[derive(Clone)]
pub struct Settings {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    /// Webhook listener.
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
    /// Webhook secrets.
    pub credentials: Credentials,
    /// Auto-binding template, when enabled.
    pub auto_bind: Option<Template>,
}

/// Metrics and the parts they read, created before the clients so the clients can report.
pub struct Telemetry {
    /// The metrics.
    pub metrics: Arc<Metrics>,
    stores: Arc<std::sync::RwLock<Vec<Store<CoverageBinding>>>>,
    counters: Arc<Counters>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// Metrics with the fleet gauges registered (they fill in when the caches exist).
    pub fn new() -> Self {
        let stores: Arc<std::sync::RwLock<Vec<Store<CoverageBinding>>>> = Arc::default();
        let counters = Arc::new(Counters::default());
        let collector = FleetCollector { bindings: stores.clone(), deliveries: counters.clone() };
        Self { metrics: Arc::new(Metrics::new(vec![Box::new(collector)])), stores, counters }
    }
}

/// The operator: controllers, webhook receiver, probes, sweep and leader election.
pub struct Operator {
    client: kube::Client,
    reconciler: Reconciler,
    workmarket: WorkMarketClient,
    settings: Settings,
    telemetry: Telemetry,
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
        Self { client, reconciler, workmarket, settings, telemetry }
    }

    /// Runs until `shutdown` resolves, then stops taking webhooks, lets running reconciles
    /// finish and releases the lease.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), RunError> {
        let Self { client, reconciler, workmarket, settings, telemetry } = self;
        check_crds(&client).await?;
        let webhook_listener = tokio::net::TcpListener::bind(settings.webhook_addr).await?;
        let probe_listener = tokio::net::TcpListener::bind(settings.metrics_addr).await?;
        let leadership =
            Leadership::campaign(client.clone(), &settings.lease_namespace, &settings.lease_name, &settings.identity)
                .await?;
        let (stop_tx, _) = watch::channel(false);
        let stopped = || on_stop(&stop_tx);

        let unbound = settings.auto_bind.clone().map(|template| {
            let binder = AutoBinder::new(template, client.clone(), workmarket.clone());
            Arc::new(move |id: String| {
                let binder = binder.clone();
                tokio::spawn(async move {
                    if let Err(error) = binder.consider(&id).await {
                        tracing::warn!(work_order = %id, %error, "auto-binding failed");
                    }
                });
            }) as index::Unbound
        });
        let fleet = Fleet::new(unbound).with_handoff(Handoff::new(client.clone(), leadership.is_leader.clone()));
        let scopes: Vec<Scope> = if settings.namespaces.is_empty() {
            vec![Scope::new(None)]
        } else {
            settings.namespaces.iter().cloned().map(|ns| Scope::new(Some(ns))).collect()
        };
        // The context and the metrics read every cache.
        let binding_readers: Vec<Store<CoverageBinding>> = scopes.iter().map(Scope::bindings).collect();
        let mapping_readers: Vec<Store<CategoryMapping>> = scopes.iter().map(Scope::mappings).collect();
        *telemetry.stores.write().unwrap_or_else(|p| p.into_inner()) = binding_readers.clone();
        let reporter = Reporter { controller: "coverbridge".into(), instance: Some(settings.identity.clone()) };
        let ctx = Arc::new(Context::new(
            client.clone(),
            reconciler,
            Recorder::new(client.clone(), reporter),
            mapping_readers,
            binding_readers,
            telemetry.metrics.clone(),
            leadership.is_leader.clone(),
            settings.resync,
        ));

        // Ready once every binding and mapping watcher has listed its objects.
        let synced = Synced::new(2 * scopes.len());
        let mut tasks = Vec::new();
        for scope in scopes {
            tasks.extend(scope.spawn(&client, &ctx, &fleet, &synced, &leadership.is_leader, &stop_tx));
        }

        let receiver =
            webhooks::router(Arc::new(fleet.clone()), settings.credentials.clone(), telemetry.counters.clone());
        let webhook_server = webhooks::serve(webhook_listener, receiver, stopped());
        let probes = probes::router(probes::Probes { metrics: telemetry.metrics.clone(), ready: synced.ready.clone() });
        let probe_server = webhooks::serve(probe_listener, probes, stopped());
        let servers = tokio::spawn(async move {
            let (webhooks, probes) = tokio::join!(webhook_server, probe_server);
            webhooks.and(probes)
        });
        let sweep = sweep::run(workmarket, fleet, leadership.is_leader.clone(), settings.sweep_interval, stopped());
        tasks.push(tokio::spawn(sweep));
        tracing::info!(webhooks = %settings.webhook_addr, metrics = %settings.metrics_addr, namespaces = ?settings.namespaces, "coverbridge is running");

        shutdown.await;
        tracing::info!("shutting down: no new webhooks, finishing running reconciles");
        let _ = stop_tx.send(true);
        if let Err(error) = servers.await.map_err(std::io::Error::other).and_then(|r| r) {
            tracing::warn!(%error, "a listener stopped with an error");
        }
        for task in tasks {
            let _ = task.await;
        }
        // The lease campaign ends when nobody watches it any more.
        drop(ctx);
        leadership.resign().await;
        tracing::info!("stopped");
        Ok(())
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
