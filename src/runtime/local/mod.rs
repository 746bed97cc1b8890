//! The local runtime: the reconcile core over an in-memory store, driven by a work queue that
//! webhooks and requeues feed. `coverbridge demo` and the core's end-to-end tests run on it.
//! Deletion works as in the cluster: a finalizer holds a binding that wrote outside until the
//! core has carried out its deletion policy.
//! It reconciles one binding at a time unless given a higher [`LocalRuntime::with_concurrency`];
//! either way a binding is never reconciled by two workers at once.

mod queue;
mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

pub use queue::{Lease, Queue};
pub use store::{Applied, LoadError, StatusObserver, Store};

use crate::reconcile::{Host, HostError, Notice, ObjectKey, ReconcileError, Reconciler};
use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus};
use crate::webhooks::Bindings;

/// The finalizer that guards cleanup, as in the cluster.
pub const FINALIZER: &str = "coverbridge.io/cleanup";

/// Receives every notice (the demo prints them; tests collect them).
pub type NoticeSink = Arc<dyn Fn(&ObjectKey, &Notice) + Send + Sync>;

/// The store, the queue and the reconciler, wired together.
#[derive(Clone)]
pub struct LocalRuntime {
    store: Store,
    queue: Arc<Queue>,
    reconciler: Reconciler,
    sink: NoticeSink,
    idle: Arc<Notify>,
    concurrency: usize,
    reconciles: Arc<AtomicU64>,
}

impl LocalRuntime {
    /// A runtime over `store`, reporting notices to `sink`, reconciling one binding at a time.
    pub fn new(store: Store, reconciler: Reconciler, sink: NoticeSink) -> Self {
        Self {
            store,
            queue: Arc::new(Queue::default()),
            reconciler,
            sink,
            idle: Arc::new(Notify::new()),
            concurrency: 1,
            reconciles: Arc::default(),
        }
    }

    /// The same runtime reconciling up to `workers` different bindings at once (at least 1), so
    /// a fleet waits on the APIs' rate limits rather than on each call's latency in turn.
    pub fn with_concurrency(mut self, workers: usize) -> Self {
        self.concurrency = workers.max(1);
        self
    }

    /// How many reconciles the queue has run so far.
    pub fn reconciles(&self) -> u64 {
        self.reconciles.load(Ordering::Relaxed)
    }

    /// Whether no binding is queued or being reconciled.
    pub fn is_idle(&self) -> bool {
        self.queue.is_idle()
    }

    /// The in-memory objects the runner reconciles, statuses included.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The core the runner drives.
    pub fn reconciler(&self) -> &Reconciler {
        &self.reconciler
    }

    /// Applies a YAML stream as `kubectl apply` would, and wakes what it affects: the bindings
    /// in it, and the bindings that use a mapping or reference a Secret in it. Mapping statuses
    /// are refreshed.
    pub async fn apply(&self, yaml: &str, namespace: &str) -> Result<Applied, LoadError> {
        let applied = self.store.load(yaml, namespace)?;
        let mut wake = applied.bindings.clone();
        if !applied.mappings.is_empty() || !applied.secrets.is_empty() {
            wake.extend(self.store.keys_where(|key, spec| {
                let namespace = key.namespace.as_str();
                let uses_mapping =
                    spec.mapping_name().is_some_and(|m| applied.mappings.contains(&ObjectKey::new(namespace, m)));
                let uses_secret = spec
                    .certificate
                    .as_ref()
                    .is_some_and(|c| applied.secrets.contains(&ObjectKey::new(namespace, &c.secret_ref.name)));
                uses_mapping || uses_secret
            }));
        }
        for key in wake {
            self.queue.push(key, Duration::ZERO);
        }
        for key in &applied.mappings {
            if let Err(error) = self.refresh_mapping(key).await {
                tracing::warn!(mapping = %key, %error, "could not check the mapping's codes");
            }
        }
        Ok(applied)
    }

    /// Recomputes a CategoryMapping's status: its codes against 1099Policy, and its users.
    pub async fn refresh_mapping(&self, key: &ObjectKey) -> Result<(), ReconcileError> {
        let Some(mapping) = self.store.mapping(key) else { return Ok(()) };
        let users = self.store.count_where(|binding, spec| {
            binding.namespace == key.namespace && spec.mapping_name() == Some(key.name.as_str())
        });
        let status = self.reconciler.mapping_status(&mapping, users).await?;
        self.store.set_mapping_status(key, status);
        Ok(())
    }

    /// Queues every binding.
    pub fn trigger_all(&self) {
        for key in self.store.keys() {
            self.queue.push(key, Duration::ZERO);
        }
    }

    /// Reconciles one binding now, as the queue would.
    pub async fn reconcile(&self, key: &ObjectKey) -> Result<Option<Duration>, ReconcileError> {
        let Some(binding) = self.store.binding(key) else { return Ok(None) };
        let host = LocalHost { runtime: self.clone(), key: key.clone() };
        let next = self.reconciler.reconcile(&binding, &host).await?;
        if next.release {
            self.store.remove_finalizer(key, FINALIZER);
            return Ok(None);
        }
        Ok(next.requeue_after)
    }

    /// Deletes a binding as `kubectl delete` would: one that never wrote outside goes at once;
    /// one that did is queued to carry out its deletion policy first, and goes when that is done.
    pub fn delete(&self, key: &ObjectKey) {
        self.store.delete_binding(key);
        if self.store.binding(key).is_some() {
            self.queue.push(key.clone(), Duration::ZERO);
        }
    }

    /// Processes the queue until nothing is due within `horizon`. Returns how many reconciles
    /// ran.
    pub async fn run_until_quiet(&self, horizon: Duration) -> usize {
        let runs = if self.concurrency == 1 {
            self.work(Some(horizon)).await
        } else {
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..self.concurrency {
                let runtime = self.clone();
                workers.spawn(async move { runtime.work(Some(horizon)).await });
            }
            workers.join_all().await.into_iter().sum()
        };
        self.idle.notify_waiters();
        runs
    }

    /// Processes the queue forever (until the task is dropped, which stops every worker).
    pub async fn run(&self) {
        if self.concurrency == 1 {
            self.work(None).await;
            return;
        }
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.concurrency {
            let runtime = self.clone();
            workers.spawn(async move { runtime.work(None).await });
        }
        // The workers never finish; dropping this future drops the set, which aborts them. A
        // worker's panic is passed on, as with one worker, rather than shrinking the pool.
        while let Some(finished) = workers.join_next().await {
            if let Err(error) = finished
                && error.is_panic()
            {
                std::panic::resume_unwind(error.into_panic());
            }
        }
    }

    /// One worker: takes due bindings (never one another worker holds) until none falls due
    /// within `horizon`, or forever without one. Returns how many it reconciled.
    async fn work(&self, horizon: Option<Duration>) -> usize {
        let mut runs = 0;
        loop {
            let lease = match horizon {
                Some(horizon) => self.queue.lease_due_within(horizon).await,
                None => loop {
                    if let Some(lease) = self.queue.lease_due_within(Duration::from_secs(3600)).await {
                        break Some(lease);
                    }
                },
            };
            let Some(lease) = lease else { return runs };
            runs += 1;
            self.reconciles.fetch_add(1, Ordering::Relaxed);
            self.process(lease.key().clone()).await;
            drop(lease);
        }
    }

    async fn process(&self, key: ObjectKey) {
        match self.reconcile(&key).await {
            Ok(Some(after)) => {
                self.queue.forget_failures(&key);
                self.queue.push(key, after);
            }
            Ok(None) => self.queue.forget_failures(&key),
            Err(error) => {
                let backoff = self.queue.backoff(&key, error.is_retryable());
                tracing::warn!(binding = %key, error = %error, retry_in = ?backoff, "reconcile failed");
                self.queue.push(key, backoff);
            }
        }
    }
}

/// The core's view of one binding in the local runtime.
struct LocalHost {
    runtime: LocalRuntime,
    key: ObjectKey,
}

impl Host for LocalHost {
    async fn before_write(&self, _binding: &CoverageBinding) -> Result<(), HostError> {
        self.runtime.store.add_finalizer(&self.key, FINALIZER);
        Ok(())
    }

    async fn save_status(&self, _binding: &CoverageBinding, status: &CoverageBindingStatus) -> Result<(), HostError> {
        if self.runtime.store.set_binding_status(&self.key, status.clone()) {
            Ok(())
        } else {
            Err(HostError::Gone(format!("binding {}", self.key)))
        }
    }

    async fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.runtime.store.secret_value(namespace, name, key))
    }

    async fn mapping(&self, namespace: &str, name: &str) -> Result<Option<CategoryMapping>, HostError> {
        Ok(self.runtime.store.mapping(&ObjectKey::new(namespace, name)))
    }

    async fn notify(&self, _binding: &CoverageBinding, notice: Notice) {
        (self.runtime.sink)(&self.key, &notice);
    }
}

impl Bindings for LocalRuntime {
    fn by_work_order(&self, work_order_id: &str) -> Vec<ObjectKey> {
        self.store.by_work_order(work_order_id)
    }

    fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey> {
        self.store.by_external_id(external_id)
    }

    fn trigger(&self, keys: Vec<ObjectKey>) {
        for key in keys {
            self.queue.push(key, Duration::ZERO);
        }
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use coverbridge_sandbox::harness::{Call, Fault, FaultRule};
    use coverbridge_sandbox::money::Cents;
    use coverbridge_sandbox::ten99policy::{Ten99PolicySandbox, Ten99PolicySandboxConfig};
    use coverbridge_sandbox::workmarket::{NewWorkOrder, PricingSpec, WorkMarketSandbox};

    use super::*;
    use crate::http::{HttpClient, HttpSettings, RetryPolicy};
    use crate::reconcile::Settings;
    use crate::resources::{CoverageBindingSpec, Phase};
    use crate::sandbox_clients::{Ten99PolicySandboxClient, WorkMarketSandboxClient};
    use crate::workmarket::PathStyle;

    fn http() -> HttpClient {
        HttpClient::new(HttpSettings {
            requests_per_second: std::num::NonZeroU32::new(10_000).unwrap(),
            retry: RetryPolicy::none(),
            ..HttpSettings::default()
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn several_workers_drain_the_queue_and_rerun_a_binding_triggered_while_it_ran() {
        let workmarket = WorkMarketSandbox::seeded().start().await.unwrap();
        let ten99policy = Ten99PolicySandbox::new(Ten99PolicySandboxConfig::default()).start().await.unwrap();
        // Slow reads, so triggers land while bindings are being reconciled.
        workmarket.sandbox.harness().inject(FaultRule::new("/api/v1/assignments", Fault::Latency { millis: 40 }));
        let gets: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let seen = gets.clone();
        workmarket.sandbox.harness().stream_calls(Arc::new(move |call: &Call| {
            if let Some(id) = call.query.as_deref().and_then(|q| q.strip_prefix("id=")) {
                *seen.lock().unwrap().entry(id.to_owned()).or_default() += 1;
            }
        }));
        let client = workmarket.client(PathStyle::Api, http());
        let reconciler = Reconciler::new(client, ten99policy.client(http()), Settings::default());
        let runtime =
            LocalRuntime::new(Store::new(), reconciler, Arc::new(|_: &ObjectKey, _: &Notice| {})).with_concurrency(4);
        let mut orders = Vec::new();
        for i in 0..12 {
            let order = NewWorkOrder::new(format!("Job {i}"), PricingSpec::Flat { price: Cents(10_000) });
            let id = workmarket.sandbox.create_work_order(order).unwrap();
            let spec: CoverageBindingSpec =
                serde_json::from_value(serde_json::json!({"workOrderId": id, "coverageTypes": ["general"]})).unwrap();
            let key = runtime.store().apply_binding(CoverageBinding::new(&format!("b{i}"), spec), "ns");
            runtime.trigger(vec![key]);
            orders.push(id);
        }
        let running = tokio::spawn({
            let runtime = runtime.clone();
            async move { runtime.run().await }
        });
        // While the first reconciles run, every binding is triggered again, twice.
        tokio::time::sleep(Duration::from_millis(20)).await;
        runtime.trigger_all();
        runtime.trigger_all();
        while !runtime.is_idle() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        running.abort();
        let gets = gets.lock().unwrap();
        // Queued triggers collapse into one run; one that lands during a run gets one more.
        for order in &orders {
            let reads = gets.get(order).copied().unwrap_or_default();
            assert!((1..=2).contains(&reads), "work order {order} read {reads} times");
        }
        assert!(gets.values().any(|reads| *reads == 2), "the bindings being reconciled ran again: {gets:?}");
        assert!(runtime.reconciles() <= 24, "{} reconciles", runtime.reconciles());
        assert_eq!(
            runtime
                .store()
                .bindings()
                .iter()
                .filter(|b| b.status.as_ref().and_then(|s| s.phase) == Some(Phase::WaitingForTrigger))
                .count(),
            12
        );
    }
}
