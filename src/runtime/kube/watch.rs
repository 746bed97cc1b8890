//! How the operator watches: after any failure a watch starts over with a fresh list, after a
//! pause of a few seconds at most (with jitter), so an API server that comes back is followed
//! again at once and "listing again" and "back" are moments the log can tell. The cache keeps
//! its last complete list meanwhile (kube's reflector swaps a relist in whole). Cached objects
//! keep only what the operator reads: `managedFields` are dropped, and so are Secrets' data.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::runtime::ReconcileBackoff;

/// The pause before a failed watch lists again.
pub(super) const RESTART: ReconcileBackoff = ReconcileBackoff {
    base: Duration::from_millis(250),
    max: Duration::from_secs(3),
    floor: Duration::from_millis(100),
    terminal: Duration::from_secs(3),
};

struct Restarting<K: Resource + 'static> {
    api: Api<K>,
    config: watcher::Config,
    current: Option<BoxStream<'static, watcher::Result<Event<K>>>>,
    failures: u32,
}

/// Watches `api`, listing afresh after every error (which it passes on, for the health).
pub fn relisting<K>(api: Api<K>, config: watcher::Config) -> impl Stream<Item = watcher::Result<Event<K>>> + Send
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let start = Restarting { api, config, current: None, failures: 0 };
    stream::unfold(start, |mut state| async move {
        loop {
            let current = match state.current.as_mut() {
                Some(current) => current,
                None => {
                    if state.failures > 0 {
                        tokio::time::sleep(RESTART.delay(state.failures, true)).await;
                    }
                    state.current.insert(watcher(state.api.clone(), state.config.clone()).boxed())
                }
            };
            match current.next().await {
                Some(Ok(event)) => {
                    if matches!(event, Event::InitDone) {
                        state.failures = 0;
                    }
                    return Some((Ok(event), state));
                }
                Some(Err(error)) => {
                    state.current = None;
                    state.failures = state.failures.saturating_add(1);
                    return Some((Err(error), state));
                }
                None => state.current = None,
            }
        }
    })
}

fn watcher<K>(api: Api<K>, config: watcher::Config) -> impl Stream<Item = watcher::Result<Event<K>>> + Send
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    kube::runtime::watcher(api, config)
}

/// The annotation `kubectl apply` keeps a whole copy of the object in.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what no reconcile reads: the field managers' bookkeeping and kubectl's copy of the
/// object, together often larger than the object itself.
pub fn slim<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

/// A certificate Secret as cached: its name and labels only (reconciles read the PDF itself
/// fresh from the API server).
pub fn slim_secret(secret: &mut Secret) {
    slim(secret);
    secret.data = None;
    secret.string_data = None;
    secret.metadata.annotations = None;
}

/// One object that changed in a way bindings depend on.
#[derive(Clone, Debug)]
pub enum Change<K> {
    /// New or changed; the cache holds this version.
    Applied(K),
    /// Deleted (or missing from a relist).
    Gone {
        /// Namespace of the deleted object.
        namespace: String,
        /// Name of the deleted object.
        name: String,
    },
}

impl<K: ResourceExt> Change<K> {
    /// Namespace and name of the object.
    pub fn key(&self) -> (String, String) {
        match self {
            Self::Applied(object) => key(object),
            Self::Gone { namespace, name } => (namespace.clone(), name.clone()),
        }
    }
}

/// Which objects of a watch changed in a way bindings depend on, reported once the cache holds
/// the change: at once while watching, at the end of a relist for what the relist changed or
/// dropped.
pub struct Changes<K, V> {
    version: fn(&K) -> V,
    seen: HashMap<(String, String), V>,
    relist: HashSet<(String, String)>,
    pending: Vec<Change<K>>,
}

impl<K: ResourceExt + Clone, V: PartialEq> Changes<K, V> {
    /// A tracker comparing objects by `version` (a mapping's generation, a Secret's
    /// resourceVersion).
    pub fn new(version: fn(&K) -> V) -> Self {
        Self { version, seen: HashMap::new(), relist: HashSet::new(), pending: Vec::new() }
    }

    /// What changed with `event`, now that the cache has applied it.
    pub fn follow(&mut self, event: &Event<K>) -> Vec<Change<K>> {
        match event {
            Event::Apply(object) => self.note(object).then(|| Change::Applied(object.clone())).into_iter().collect(),
            Event::Delete(object) => {
                self.seen.remove(&key(object));
                vec![gone(key(object))]
            }
            Event::Init => {
                self.relist.clear();
                self.pending.clear();
                Vec::new()
            }
            Event::InitApply(object) => {
                self.relist.insert(key(object));
                if self.note(object) {
                    self.pending.push(Change::Applied(object.clone()));
                }
                Vec::new()
            }
            Event::InitDone => self.relisted(),
        }
    }

    /// Records `object`; whether it is new or changed.
    fn note(&mut self, object: &K) -> bool {
        let version = (self.version)(object);
        match self.seen.insert(key(object), version) {
            None => true,
            Some(before) => before != (self.version)(object),
        }
    }

    fn relisted(&mut self) -> Vec<Change<K>> {
        let gone_keys: Vec<(String, String)> =
            self.seen.keys().filter(|k| !self.relist.contains(*k)).cloned().collect();
        let mut changed = std::mem::take(&mut self.pending);
        for key in gone_keys {
            self.seen.remove(&key);
            changed.push(gone(key));
        }
        self.relist.clear();
        changed
    }
}

fn gone<K>((namespace, name): (String, String)) -> Change<K> {
    Change::Gone { namespace, name }
}

fn key<K: ResourceExt>(object: &K) -> (String, String) {
    (object.namespace().unwrap_or_default(), object.name_any())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CategoryMapping, CategoryMappingSpec};

    fn mapping(name: &str, generation: i64) -> CategoryMapping {
        let mut m = CategoryMapping::new(name, CategoryMappingSpec { rules: vec![], default_category_code: None });
        m.metadata.namespace = Some("ns".into());
        m.metadata.generation = Some(generation);
        m
    }

    fn names(changes: &[Change<CategoryMapping>]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::Applied(m) => format!("applied {}", m.name_any()),
                Change::Gone { name, .. } => format!("gone {name}"),
            })
            .collect()
    }

    #[test]
    fn slim_keeps_what_reconciles_read_and_drops_the_bookkeeping() {
        let mut object = mapping("default", 3);
        let meta = &mut object.metadata;
        meta.managed_fields = Some(vec![Default::default(), Default::default()]);
        meta.annotations =
            Some([(LAST_APPLIED.to_owned(), "{\"spec\":{}}".to_owned()), ("keep".to_owned(), "me".to_owned())].into());
        super::slim(&mut object);
        assert_eq!(object.metadata.managed_fields, None);
        assert_eq!(object.metadata.annotations, Some([("keep".to_owned(), "me".to_owned())].into()));
        assert_eq!(object.metadata.generation, Some(3));
    }

    #[test]
    fn reports_new_changed_and_gone_objects_once_the_cache_has_them() {
        let mut changes = Changes::new(|m: &CategoryMapping| m.metadata.generation);
        assert!(changes.follow(&Event::Init).is_empty());
        assert!(changes.follow(&Event::InitApply(mapping("a", 1))).is_empty(), "not before the list is whole");
        assert!(changes.follow(&Event::InitApply(mapping("b", 1))).is_empty());
        assert_eq!(names(&changes.follow(&Event::InitDone)), ["applied a", "applied b"]);

        assert!(changes.follow(&Event::Apply(mapping("a", 1))).is_empty(), "a status write changes nothing");
        assert_eq!(names(&changes.follow(&Event::Apply(mapping("a", 2)))), ["applied a"]);
        assert_eq!(names(&changes.follow(&Event::Delete(mapping("b", 1)))), ["gone b"]);

        // After an outage the relist shows c new, a changed, and a mapping that vanished.
        changes.follow(&Event::Apply(mapping("d", 1)));
        changes.follow(&Event::Init);
        changes.follow(&Event::InitApply(mapping("a", 3)));
        changes.follow(&Event::InitApply(mapping("c", 1)));
        let mut relisted = names(&changes.follow(&Event::InitDone));
        relisted.sort();
        assert_eq!(relisted, ["applied a", "applied c", "gone d"]);
    }
}
