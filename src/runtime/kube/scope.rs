//! One watched namespace (or all of them): one watch each of its bindings, mappings and
//! certificate Secrets, and the two controllers that reconcile from them. Bindings wake on
//! their spec or deletion (not their own status writes), on a passed-on wake, on their mapping
//! or certificate Secret changing or going away, on a webhook or sweep trigger, and all of them
//! when this replica becomes leader.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::pin;
use std::sync::Arc;

use futures::{Stream, StreamExt, future};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{ObjectRef, store::Writer};
use kube::runtime::{WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{UnboundedReceiverStream, WatchStream};

use super::CERTIFICATE_LABEL;
use super::cached::CachedBinding;
use super::caches::ScopeStores;
use super::controller::{self, Context};
use super::fleet::Fleet;
use super::handoff::WAKE_ANNOTATION;
use super::health::{CacheHealth, Kind, WatchId};
use super::watch::{Change, Changes, relisting, slim, slim_secret};
use crate::resources::{CategoryMapping, CoverageBindingSpec};

/// A binding controller's trigger channel.
type Triggers = mpsc::UnboundedSender<ObjectRef<CachedBinding>>;

/// A namespace's caches, before its watches and controllers run.
pub(super) struct Scope {
    namespace: Option<String>,
    bindings: (Writer<CachedBinding>, WatchId),
    mappings: (Writer<CategoryMapping>, WatchId),
    /// `None` when certificate Secrets are not watched (no RBAC for Secrets).
    secrets: Option<(Writer<Secret>, WatchId)>,
    stores: ScopeStores,
}

/// What every scope's watches and controllers share.
pub(super) struct Wiring {
    pub client: kube::Client,
    pub ctx: Arc<Context>,
    pub fleet: Fleet,
    pub health: Arc<CacheHealth>,
    pub leader: watch::Receiver<bool>,
    pub stop: watch::Sender<bool>,
    /// How many bindings one replica reconciles at once.
    pub concurrency: u16,
}

impl Scope {
    /// Empty caches for `namespace` (`None`: all namespaces), registered with `health` so
    /// nothing counts as ready before they list.
    pub(super) fn new(namespace: Option<String>, health: &CacheHealth, certificate_secrets: bool) -> Self {
        let (bindings, mappings): (Writer<CachedBinding>, Writer<CategoryMapping>) =
            (Writer::default(), Writer::default());
        let stores = ScopeStores {
            namespace: namespace.clone(),
            bindings: bindings.as_reader(),
            mappings: mappings.as_reader(),
        };
        let secrets = certificate_secrets
            .then(|| (Writer::default(), health.register(Kind::CertificateSecrets, namespace.clone())));
        Self {
            bindings: (bindings, health.register(Kind::Bindings, namespace.clone())),
            mappings: (mappings, health.register(Kind::Mappings, namespace.clone())),
            secrets,
            namespace,
            stores,
        }
    }

    /// The scope's caches, for reading.
    pub(super) fn stores(&self) -> ScopeStores {
        self.stores.clone()
    }

    /// Starts the scope's watches and controllers.
    pub(super) fn spawn(self, wiring: &Wiring) -> Vec<JoinHandle<()>> {
        let Self { namespace, bindings, mappings, secrets, stores } = self;
        let (trigger_tx, trigger_rx) = mpsc::unbounded_channel();
        wiring.fleet.add_trigger(namespace.clone(), trigger_tx.clone());
        let (mapping_tx, mapping_rx) = mpsc::unbounded_channel();
        let mut tasks =
            vec![tokio::spawn(follow_mappings(wiring, &namespace, mappings, trigger_tx.clone(), mapping_tx))];
        if let Some(secrets) = secrets {
            tasks.push(tokio::spawn(follow_secrets(wiring, &namespace, secrets, trigger_tx)));
        }
        let mapping_controller =
            Controller::for_stream(UnboundedReceiverStream::new(mapping_rx).map(Ok), stores.mappings)
                .reconcile_all_on(leader_gained(wiring.leader.clone()))
                .graceful_shutdown_on(on_stop(&wiring.stop))
                .run(controller::reconcile_mapping, controller::mapping_error_policy, wiring.ctx.clone())
                .for_each(|_| future::ready(()));
        tasks.push(tokio::spawn(mapping_controller));

        let (index, health, scope) = (wiring.fleet.clone(), wiring.health.clone(), namespace.clone());
        let (writer, id) = bindings;
        let bindings = relisting(api::<CachedBinding>(&wiring.client, &namespace), any())
            .modify(slim)
            .reflect(writer)
            .inspect(move |item| {
                if let Ok(event) = item {
                    index.observe(scope.as_deref(), event);
                }
                health.observe(id, item);
            })
            // Told to the health already; the controller would add its own backoff (up to 30 s)
            // on top of the relisting watch's short pause.
            .filter(|item| future::ready(item.is_ok()))
            .applied_objects()
            .predicate_filter(spec_deletion_or_wake, Default::default());
        let binding_controller = Controller::for_stream(bindings, stores.bindings)
            .with_config(ControllerConfig::default().concurrency(wiring.concurrency))
            .reconcile_on(UnboundedReceiverStream::new(trigger_rx))
            .reconcile_all_on(leader_gained(wiring.leader.clone()))
            .graceful_shutdown_on(on_stop(&wiring.stop))
            .run(controller::reconcile_binding, controller::binding_error_policy, wiring.ctx.clone())
            .for_each(|result| {
                if let Err(error) = result {
                    tracing::debug!(%error, "binding controller");
                }
                future::ready(())
            });
        tasks.push(tokio::spawn(binding_controller));
        tasks
    }
}

fn api<K>(client: &kube::Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The mapping watch: changed mappings go to the mapping controller, and their bindings (or
/// those of a mapping that went away) wake.
fn follow_mappings(
    wiring: &Wiring,
    namespace: &Option<String>,
    (writer, id): (Writer<CategoryMapping>, WatchId),
    triggers: Triggers,
    controller: mpsc::UnboundedSender<CategoryMapping>,
) -> impl Future<Output = ()> + Send + 'static {
    let events = relisting(api::<CategoryMapping>(&wiring.client, namespace), any()).modify(slim).reflect(writer);
    let ctx = wiring.ctx.clone();
    follow(events, wiring, id, Changes::new(|m: &CategoryMapping| m.metadata.generation), move |change| {
        let (namespace, name) = change.key();
        wake(&triggers, ctx.caches.bindings_in(&namespace, |spec| spec.mapping_name() == Some(name.as_str())));
        if let Change::Applied(mapping) = change {
            let _ = controller.send(mapping);
        }
    })
}

/// The watch of Secrets labelled as certificates: the bindings whose certificate changed or
/// went away wake (they read the PDF itself fresh).
fn follow_secrets(
    wiring: &Wiring,
    namespace: &Option<String>,
    (writer, id): (Writer<Secret>, WatchId),
    triggers: Triggers,
) -> impl Future<Output = ()> + Send + 'static {
    let labelled = any().labels(&format!("{CERTIFICATE_LABEL}=true"));
    let events = relisting(api::<Secret>(&wiring.client, namespace), labelled).modify(slim_secret).reflect(writer);
    let ctx = wiring.ctx.clone();
    follow(events, wiring, id, Changes::new(|s: &Secret| s.metadata.resource_version.clone()), move |change| {
        let (namespace, name) = change.key();
        let uses = |spec: &CoverageBindingSpec| spec.certificate.as_ref().is_some_and(|c| c.secret_ref.name == name);
        wake(&triggers, ctx.caches.bindings_in(&namespace, uses));
    })
}

/// Follows `events` until the operator stops: tells the health, and hands what changed to
/// `changed`.
fn follow<K, V>(
    events: impl Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
    wiring: &Wiring,
    id: WatchId,
    mut changes: Changes<K, V>,
    mut changed: impl FnMut(Change<K>) + Send + 'static,
) -> impl Future<Output = ()> + Send + 'static
where
    K: ResourceExt + Clone + Send + 'static,
    V: PartialEq + Send + 'static,
{
    let (health, stop) = (wiring.health.clone(), on_stop(&wiring.stop));
    async move {
        let mut events = pin!(events);
        let mut stop = pin!(stop);
        loop {
            let item = tokio::select! {
                item = events.next() => item,
                () = &mut stop => None,
            };
            let Some(item) = item else { return };
            health.observe(id, &item);
            if let Ok(event) = item {
                changes.follow(&event).into_iter().for_each(&mut changed);
            }
        }
    }
}

/// Queues each binding on the controller's trigger channel.
fn wake(triggers: &Triggers, bindings: Vec<ObjectRef<CachedBinding>>) {
    for binding in bindings {
        let _ = triggers.send(binding);
    }
}

/// Every resource version, served from the API server's cache: the watch is current after.
fn any() -> watcher::Config {
    watcher::Config::default().any_semantic()
}

/// Wakes a binding only for changes it must act on: its spec (generation), its deletion, or a
/// wake another replica passed on — not its own status writes.
fn spec_deletion_or_wake(binding: &CachedBinding) -> Option<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let wake = binding.annotations().get(WAKE_ANNOTATION);
    (predicates::generation(binding), binding.metadata.deletion_timestamp.is_some(), wake).hash(&mut hasher);
    Some(hasher.finish())
}

/// Fires each time this replica becomes leader.
fn leader_gained(leader: watch::Receiver<bool>) -> impl futures::Stream<Item = ()> {
    WatchStream::new(leader).filter_map(|is_leader| future::ready(is_leader.then_some(())))
}

/// Resolves once `stop` says so.
pub(super) fn on_stop(stop: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stop = stop.subscribe();
    async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }
}
