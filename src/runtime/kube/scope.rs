//! One watched namespace (or all of them): its binding and mapping caches, and the two
//! controllers that reconcile from them.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::{StreamExt, TryStreamExt, future};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, predicates, watcher};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{UnboundedReceiverStream, WatchStream};

use super::CERTIFICATE_LABEL;
use super::controller::{self, Context};
use super::handoff::WAKE_ANNOTATION;
use super::index::Fleet;
use crate::resources::{CategoryMapping, CoverageBinding};

/// How many bindings one replica reconciles at once.
const CONCURRENCY: u16 = 16;

/// A namespace's caches, before its controllers run.
pub(super) struct Scope {
    namespace: Option<String>,
    bindings: (Store<CoverageBinding>, Writer<CoverageBinding>),
    mappings: (Store<CategoryMapping>, Writer<CategoryMapping>),
}

impl Scope {
    /// Empty caches for `namespace` (`None`: all namespaces).
    pub(super) fn new(namespace: Option<String>) -> Self {
        Self { namespace, bindings: reflector::store(), mappings: reflector::store() }
    }

    /// The binding cache.
    pub(super) fn bindings(&self) -> Store<CoverageBinding> {
        self.bindings.0.clone()
    }

    /// The mapping cache.
    pub(super) fn mappings(&self) -> Store<CategoryMapping> {
        self.mappings.0.clone()
    }

    fn api<K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>>(&self, client: &kube::Client) -> Api<K>
    where
        K::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }

    /// Starts the binding and mapping controllers. Bindings wake on their spec or deletion
    /// (not their own status writes), on their mapping or certificate Secret changing, on a
    /// webhook or sweep trigger, and all of them when this replica becomes leader.
    pub(super) fn spawn(
        self,
        client: &kube::Client,
        ctx: &Arc<Context>,
        fleet: &Fleet,
        synced: &Synced,
        leader: &watch::Receiver<bool>,
        stop: &watch::Sender<bool>,
    ) -> Vec<JoinHandle<()>> {
        let (bindings_api, mappings_api, secrets_api) =
            (self.api::<CoverageBinding>(client), self.api::<CategoryMapping>(client), self.api::<Secret>(client));
        let (index, scope_name, listed) = (fleet.clone(), self.namespace.clone(), synced.handle());
        let bindings = watcher(bindings_api, watcher::Config::default().any_semantic())
            .default_backoff()
            .reflect(self.bindings.1)
            .inspect_ok(move |event| {
                index.observe(scope_name.as_deref(), event);
                listed.observe(event);
            })
            .applied_objects()
            .predicate_filter(spec_deletion_or_wake, Default::default());
        let (trigger_tx, trigger_rx) = mpsc::unbounded_channel();
        fleet.add_trigger(self.namespace.clone(), trigger_tx);
        let (users_of_mapping, users_of_secret) = (self.bindings.0.clone(), self.bindings.0.clone());
        let binding_controller = Controller::for_stream(bindings, self.bindings.0)
            .with_config(ControllerConfig::default().concurrency(CONCURRENCY))
            // Mapping specs only: the mapping controller's own status writes change no binding.
            .watches_stream(
                watcher(mappings_api.clone(), watcher::Config::default().any_semantic())
                    .default_backoff()
                    .applied_objects()
                    .predicate_filter(predicates::generation, Default::default()),
                move |mapping| {
                    using(&users_of_mapping, &mapping.namespace().unwrap_or_default(), |b| {
                        b.spec.mapping_name() == Some(mapping.name_any().as_str())
                    })
                },
            )
            .watches(
                secrets_api,
                watcher::Config::default().labels(&format!("{CERTIFICATE_LABEL}=true")),
                move |secret| {
                    using(&users_of_secret, &secret.namespace().unwrap_or_default(), |b| {
                        b.spec.certificate.as_ref().is_some_and(|c| c.secret_ref.name == secret.name_any())
                    })
                },
            )
            .reconcile_on(UnboundedReceiverStream::new(trigger_rx))
            .reconcile_all_on(leader_gained(leader.clone()))
            .graceful_shutdown_on(on_stop(stop))
            .run(controller::reconcile_binding, controller::binding_error_policy, ctx.clone())
            .for_each(|result| {
                if let Err(error) = result {
                    tracing::debug!(%error, "binding controller");
                }
                future::ready(())
            });

        let listed = synced.handle();
        let mappings = watcher(mappings_api, watcher::Config::default().any_semantic())
            .default_backoff()
            .reflect(self.mappings.1)
            .inspect_ok(move |event| listed.observe(event))
            .applied_objects()
            .predicate_filter(predicates::generation, Default::default());
        let mapping_controller = Controller::for_stream(mappings, self.mappings.0)
            .reconcile_all_on(leader_gained(leader.clone()))
            .graceful_shutdown_on(on_stop(stop))
            .run(controller::reconcile_mapping, controller::mapping_error_policy, ctx.clone())
            .for_each(|_| future::ready(()));
        vec![tokio::spawn(binding_controller), tokio::spawn(mapping_controller)]
    }
}

/// Wakes a binding only for changes it must act on: its spec (generation), its deletion, or a
/// wake another replica passed on — not its own status writes.
fn spec_deletion_or_wake(binding: &CoverageBinding) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let wake = binding.annotations().get(WAKE_ANNOTATION);
    (predicates::generation(binding), binding.metadata.deletion_timestamp.is_some(), wake).hash(&mut hasher);
    Some(hasher.finish())
}

/// Fires each time this replica becomes leader.
fn leader_gained(leader: watch::Receiver<bool>) -> impl futures::Stream<Item = ()> {
    WatchStream::new(leader).filter_map(|is_leader| future::ready(is_leader.then_some(())))
}

/// The bindings in `namespace` of `store` that `uses` selects.
fn using(
    store: &Store<CoverageBinding>,
    namespace: &str,
    uses: impl Fn(&CoverageBinding) -> bool,
) -> Vec<ObjectRef<CoverageBinding>> {
    store
        .state()
        .iter()
        .filter(|b| b.namespace().as_deref() == Some(namespace) && uses(b))
        .map(|b| ObjectRef::from_obj(b.as_ref()))
        .collect()
}

/// Resolves once `stop` says so.
pub(super) fn on_stop(stop: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stop = stop.subscribe();
    async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }
}

/// Counts watchers that finished their first list; ready when all have.
pub(super) struct Synced {
    /// Set once every watcher has listed.
    pub(super) ready: Arc<AtomicBool>,
    pending: Arc<AtomicUsize>,
    counted: Arc<AtomicBool>,
}

impl Synced {
    /// A count of `watchers` watchers.
    pub(super) fn new(watchers: usize) -> Self {
        Self {
            ready: Arc::new(AtomicBool::new(watchers == 0)),
            pending: Arc::new(AtomicUsize::new(watchers)),
            counted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A handle for one more watcher on the same count.
    pub(super) fn handle(&self) -> Self {
        Self { ready: self.ready.clone(), pending: self.pending.clone(), counted: Arc::new(AtomicBool::new(false)) }
    }

    /// Counts this watcher's first `InitDone` (later relists do not count again).
    pub(super) fn observe<K>(&self, event: &watcher::Event<K>) {
        if matches!(event, watcher::Event::InitDone)
            && !self.counted.swap(true, Ordering::SeqCst)
            && self.pending.fetch_sub(1, Ordering::SeqCst) == 1
        {
            self.ready.store(true, Ordering::SeqCst);
            tracing::info!("caches synced; ready");
        }
    }
}
