//! The local runtime: the reconcile core over an in-memory store, driven by a work queue that
//! webhooks and requeues feed. `coverbridge demo` and the core's end-to-end tests run on it.

mod queue;
mod store;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use queue::Queue;
pub use store::{Applied, LoadError, Store};

use crate::reconcile::{Host, HostError, Notice, ObjectKey, ReconcileError, Reconciler};
use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus};
use crate::webhooks::{Bindings, external_ids};

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
}

impl LocalRuntime {
    /// A runtime over `store`, reporting notices to `sink`.
    pub fn new(store: Store, reconciler: Reconciler, sink: NoticeSink) -> Self {
        Self { store, queue: Arc::new(Queue::default()), reconciler, sink, idle: Arc::new(Notify::new()) }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The reconciler.
    pub fn reconciler(&self) -> &Reconciler {
        &self.reconciler
    }

    /// Applies a YAML stream as `kubectl apply` would, and wakes what it affects: the bindings
    /// in it, and the bindings that use a mapping or reference a Secret in it. Mapping statuses
    /// are refreshed.
    pub async fn apply(&self, yaml: &str, namespace: &str) -> Result<Applied, LoadError> {
        let applied = self.store.load(yaml, namespace)?;
        let mut wake = applied.bindings.clone();
        for binding in self.store.bindings() {
            let key = ObjectKey::of(&binding);
            let namespace = &key.namespace;
            let uses_mapping =
                binding.spec.mapping_name().is_some_and(|m| applied.mappings.contains(&ObjectKey::new(namespace, m)));
            let uses_secret = binding
                .spec
                .certificate
                .as_ref()
                .is_some_and(|c| applied.secrets.contains(&ObjectKey::new(namespace, &c.secret_ref.name)));
            if uses_mapping || uses_secret {
                wake.push(key);
            }
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
        let users = self
            .store
            .bindings()
            .iter()
            .filter(|b| {
                b.metadata.namespace.as_deref() == Some(&key.namespace)
                    && b.spec.mapping_name() == Some(key.name.as_str())
            })
            .count();
        let status = self.reconciler.mapping_status(&mapping, users).await?;
        self.store.set_mapping_status(key, status);
        Ok(())
    }

    /// Queues every binding.
    pub fn trigger_all(&self) {
        for binding in self.store.bindings() {
            self.queue.push(ObjectKey::of(&binding), Duration::ZERO);
        }
    }

    /// Reconciles one binding now, as the queue would.
    pub async fn reconcile(&self, key: &ObjectKey) -> Result<Option<Duration>, ReconcileError> {
        let Some(binding) = self.store.binding(key) else { return Ok(None) };
        let host = LocalHost { runtime: self.clone(), key: key.clone() };
        if binding.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        self.reconciler.reconcile(&binding, &host).await.map(|next| next.requeue_after)
    }

    /// Processes the queue until nothing is due within `horizon`. Returns how many reconciles
    /// ran.
    pub async fn run_until_quiet(&self, horizon: Duration) -> usize {
        let mut runs = 0;
        while let Some(key) = self.queue.pop_due_within(horizon).await {
            runs += 1;
            self.process(key).await;
        }
        self.idle.notify_waiters();
        runs
    }

    /// Processes the queue forever (until the task is dropped).
    pub async fn run(&self) {
        loop {
            let key = self.queue.pop().await;
            self.process(key).await;
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
            Err(HostError(format!("binding {} no longer exists", self.key)))
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
        self.store.bindings().iter().filter(|b| b.spec.work_order_id == work_order_id).map(ObjectKey::of).collect()
    }

    fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey> {
        self.store
            .bindings()
            .iter()
            .filter(|b| b.status.as_ref().is_some_and(|s| external_ids(s).any(|id| id == external_id)))
            .map(ObjectKey::of)
            .collect()
    }

    fn trigger(&self, keys: Vec<ObjectKey>) {
        for key in keys {
            self.queue.push(key, Duration::ZERO);
        }
    }
}
