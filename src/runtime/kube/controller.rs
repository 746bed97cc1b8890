//! The reconcile functions kube-runtime's controllers call: CoverageBindings through the core,
//! CategoryMappings' status, and the error policy. Only the leader acts; other replicas keep
//! their caches warm and answer webhooks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tokio::sync::watch;

use super::cached::CachedBinding;
use super::caches::Caches;
use super::freshness::Freshness;
use super::host::{Call, FIELD_MANAGER, KubeHost, has_finalizer, remove_finalizer};
use super::notices::Notices;
use crate::metrics::Metrics;
use crate::reconcile::{ReconcileError, Reconciler};
use crate::resources::{CategoryMapping, CoverageBinding, Phase};
use crate::runtime::ReconcileBackoff;

/// Waits after failed reconciles; ten minutes for an error only a person can fix.
const BACKOFF: ReconcileBackoff = ReconcileBackoff {
    base: Duration::from_secs(1),
    max: Duration::from_secs(300),
    floor: Duration::from_millis(200),
    terminal: Duration::from_secs(600),
};
/// How often a mapping's codes are checked against 1099Policy even when nothing changed.
const MAPPING_RECHECK: Duration = Duration::from_secs(3600);
/// How long a reconcile waits for the caches it reads before it is put back in the queue.
const CACHE_WAIT: Duration = Duration::from_secs(5);
/// When to look again at a binding whose caches were not ready.
const CACHE_RETRY: Duration = Duration::from_secs(1);
/// When to look again at a binding whose cached copy predates this replica's last write.
const STALE_RETRY: Duration = Duration::from_millis(250);

/// What every reconcile shares.
pub struct Context {
    /// The API server.
    pub client: kube::Client,
    /// Plans and acts for one binding (the runtime-independent core).
    pub reconciler: Reconciler,
    /// Publishes the core's notices as Kubernetes Events.
    pub notices: Notices,
    /// Every scope's caches, with their health.
    pub caches: Caches,
    /// Prometheus metrics, served on the metrics listener.
    pub metrics: Arc<Metrics>,
    /// True while this replica holds the lease.
    pub leader: watch::Receiver<bool>,
    /// How long a converged binding waits before it is compared with both APIs again.
    pub resync: Duration,
    /// This replica's last write per binding, so no reconcile acts on an older copy.
    pub freshness: Freshness,
    failures: Mutex<HashMap<String, u32>>,
    triggered_at: Mutex<HashMap<String, Instant>>,
}

impl Context {
    /// A context; see the fields.
    pub fn new(
        client: kube::Client,
        reconciler: Reconciler,
        notices: Notices,
        caches: Caches,
        metrics: Arc<Metrics>,
        leader: watch::Receiver<bool>,
        resync: Duration,
    ) -> Self {
        Self {
            client,
            reconciler,
            notices,
            caches,
            metrics,
            leader,
            resync,
            freshness: Freshness::default(),
            failures: Mutex::default(),
            triggered_at: Mutex::default(),
        }
    }

    /// Waits (a little) until every cache a reconcile in `namespace` reads has listed; whether
    /// it has.
    async fn caches_ready(&self, namespace: &str) -> bool {
        let health = &self.caches.health;
        let mut changes = health.subscribe();
        let ready = async {
            while !health.ready_for(namespace) {
                if changes.changed().await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(CACHE_WAIT, ready).await.unwrap_or(false)
    }

    fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    fn succeeded(&self, uid: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(uid);
    }

    /// Tracks the time from a binding's trigger (it left WaitingForTrigger) to Bound.
    fn track_binding(&self, uid: &str, phase: Option<Phase>) {
        let mut started = self.triggered_at.lock().unwrap_or_else(|p| p.into_inner());
        match phase {
            Some(Phase::Provisioning | Phase::AwaitingApplication | Phase::AwaitingCertificateReview) => {
                started.entry(uid.to_owned()).or_insert_with(Instant::now);
            }
            Some(Phase::Bound) => {
                if let Some(at) = started.remove(uid) {
                    self.metrics.bound_after(at.elapsed().as_secs_f64());
                }
            }
            // Ended without coverage: nothing left to time.
            Some(Phase::Cancelled | Phase::Completed | Phase::Failed) => {
                started.remove(uid);
            }
            _ => {}
        }
    }

    /// Drops what is kept about a binding that is gone.
    fn forget(&self, uid: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(uid);
        self.triggered_at.lock().unwrap_or_else(|p| p.into_inner()).remove(uid);
        self.freshness.forget(uid);
    }
}

/// Reconciles one binding through the core, deleted or not, and lets a deleted one go when the
/// core says it may. Nothing is decided before the caches it reads have listed.
pub async fn reconcile_binding(cached: Arc<CachedBinding>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !ctx.is_leader() {
        return Ok(Action::await_change());
    }
    if !ctx.caches_ready(&cached.namespace().unwrap_or_default()).await {
        return Ok(Action::requeue(CACHE_RETRY));
    }
    let started = Instant::now();
    let uid = cached.uid().unwrap_or_default();
    if ctx.freshness.is_behind(&uid, cached.resource_version().as_deref()) {
        tracing::debug!(binding = %cached.name_any(), "the cached copy predates our last write; waiting for it");
        return Ok(Action::requeue(STALE_RETRY));
    }
    let binding = cached.binding();
    let host = KubeHost::new(&ctx.client, &ctx.notices, &ctx.caches, &binding);
    if binding.meta().deletion_timestamp.is_some() && !has_finalizer(&binding) {
        // Never wrote outside: nothing to undo, and the API server lets it go by itself.
        ctx.forget(&uid);
        return Ok(Action::await_change());
    }
    let reconciled = ctx.reconciler.reconcile(&binding, &host).await;
    if let Some(version) = host.written_version() {
        ctx.freshness.wrote(&uid, &version);
    }
    let result = match reconciled {
        Ok(next) if next.release => release(&binding, &ctx).await,
        Ok(next) => Ok(Action::requeue(next.requeue_after.unwrap_or(ctx.resync))),
        Err(error) => Err(error),
    };
    let outcome = match &result {
        Ok(_) => "success",
        Err(error) => error.category().as_str(),
    };
    ctx.metrics.reconciled("CoverageBinding", outcome, started.elapsed().as_secs_f64());
    if result.is_ok() && binding.meta().deletion_timestamp.is_none() {
        ctx.succeeded(&uid);
        ctx.track_binding(&uid, host.saved_phase().or(binding.status.as_ref().and_then(|s| s.phase)));
    }
    result
}

/// A deleted binding whose deletion policy is carried out: remove the finalizer so it goes.
async fn release(binding: &CoverageBinding, ctx: &Context) -> Result<Action, ReconcileError> {
    remove_finalizer(&ctx.client, binding).await?;
    tracing::info!(binding = %binding.name_any(), policy = ?binding.spec.deletion_policy, "deletion policy carried out; binding released");
    ctx.forget(&binding.uid().unwrap_or_default());
    Ok(Action::await_change())
}

/// Retries per binding after [`BACKOFF`]; a cache that is not ready yet only delays it.
pub fn binding_error_policy(binding: Arc<CachedBinding>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    if error.is_not_ready() {
        tracing::debug!(binding = %binding.name_any(), %error, "waiting for the caches");
        return Action::requeue(CACHE_RETRY);
    }
    let uid = binding.uid().unwrap_or_default();
    let failures = {
        let mut failures = ctx.failures.lock().unwrap_or_else(|p| p.into_inner());
        let count = failures.entry(uid).or_default();
        *count += 1;
        *count
    };
    tracing::warn!(binding = %binding.name_any(), namespace = ?binding.namespace(), category = error.category().as_str(), %error, failures, "reconcile failed");
    Action::requeue(BACKOFF.delay(failures, error.is_retryable()))
}

/// Recomputes a mapping's status: its codes against 1099Policy and how many bindings use it.
pub async fn reconcile_mapping(mapping: Arc<CategoryMapping>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let namespace = mapping.namespace().unwrap_or_default();
    if !ctx.is_leader() {
        return Ok(Action::await_change());
    }
    if !ctx.caches_ready(&namespace).await {
        return Ok(Action::requeue(CACHE_RETRY));
    }
    let started = Instant::now();
    let name = mapping.name_any();
    let users = ctx.caches.bindings_in(&namespace, |spec| spec.mapping_name() == Some(name.as_str())).len();
    let result: Result<Action, ReconcileError> = async {
        let status = ctx.reconciler.mapping_status(&mapping, users).await?;
        let body = json!({"apiVersion": CategoryMapping::api_version(&()), "kind": CategoryMapping::kind(&()), "status": status});
        let call = Call { action: "writing the mapping status", verb: "patch", resource: "categorymappings/status", namespace: &namespace };
        Api::<CategoryMapping>::namespaced(ctx.client.clone(), &namespace)
            .patch_status(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body))
            .await
            .map_err(|e| call.failed(e))?;
        Ok(Action::requeue(MAPPING_RECHECK))
    }
    .await;
    let outcome = match &result {
        Ok(_) => "success",
        Err(error) => error.category().as_str(),
    };
    ctx.metrics.reconciled("CategoryMapping", outcome, started.elapsed().as_secs_f64());
    result
}

/// Mappings retry failures after a minute; their state changes slowly.
pub fn mapping_error_policy(mapping: Arc<CategoryMapping>, error: &ReconcileError, _ctx: Arc<Context>) -> Action {
    tracing::warn!(mapping = %mapping.name_any(), %error, "mapping reconcile failed");
    Action::requeue(Duration::from_secs(60))
}
