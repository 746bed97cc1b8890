//! An index over the controllers' binding caches: which bindings a work order or an external id
//! (contractor, job, quote, session, policy, assignment, certificate, invoice) belongs to. Webhook
//! handlers and the sweep use it to find the bindings to wake, and wake them through the
//! controllers' trigger channels; a binding already queued is reconciled once. The lookups are
//! the runtimes' shared index; this adds following the watchers, relists included.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio::sync::mpsc;

use super::handoff::Handoff;
use crate::reconcile::ObjectKey;
use crate::resources::CoverageBinding;
use crate::runtime::index::{Entry, Index};
use crate::webhooks::Bindings;
use crate::workmarket::webhook::Delivery;

#[derive(Default)]
struct Maps {
    /// Each indexed binding's shared key and where it is indexed.
    entries: HashMap<ObjectKey, (Arc<ObjectKey>, Entry)>,
    /// Keys seen so far by a relist in progress, per scope.
    relisting: HashMap<Option<String>, HashSet<ObjectKey>>,
    index: Index,
}

impl Maps {
    fn remove(&mut self, key: &ObjectKey) {
        if let Some((shared, entry)) = self.entries.remove(key) {
            self.index.update(&shared, Some(&entry), None);
        }
    }

    fn insert(&mut self, binding: &CoverageBinding) {
        let key = ObjectKey::of(binding);
        let entry = self.index.entry(&binding.spec.work_order_id, binding.status.as_ref());
        let (shared, before) = match self.entries.remove(&key) {
            Some((shared, before)) => (shared, Some(before)),
            None => (Arc::new(key.clone()), None),
        };
        if before.as_ref() != Some(&entry) {
            self.index.update(&shared, before.as_ref(), Some(&entry));
        }
        self.entries.insert(key, (shared, entry));
    }

    fn keys(found: &[Arc<ObjectKey>]) -> Vec<ObjectKey> {
        found.iter().map(|key| (**key).clone()).collect()
    }
}

/// Looks up unbound work orders for auto-binding.
pub type Unbound = Arc<dyn Fn(String) + Send + Sync>;

/// A controller's trigger channel, by the namespace it watches (`None`: all).
type Trigger = (Option<String>, mpsc::UnboundedSender<ObjectRef<CoverageBinding>>);

/// The index and the controllers' trigger channels. Cheap to clone.
#[derive(Clone, Default)]
pub struct Fleet {
    maps: Arc<Mutex<Maps>>,
    /// Trigger channel per watched namespace (`None`: the one for all namespaces).
    triggers: Arc<Mutex<Vec<Trigger>>>,
    unbound: Option<Unbound>,
    handoff: Option<Handoff>,
}

impl Fleet {
    /// An empty fleet; `unbound` is told about work orders no binding covers.
    pub fn new(unbound: Option<Unbound>) -> Self {
        Self { unbound, ..Self::default() }
    }

    /// Wakes reaching this replica while it does not lead go to the leader through `handoff`.
    pub fn with_handoff(self, handoff: Handoff) -> Self {
        Self { handoff: Some(handoff), ..self }
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the index in step with the binding watcher of `scope` (a namespace, or `None` for
    /// all). A relist replays every object; what it did not mention is gone.
    pub fn observe(&self, scope: Option<&str>, event: &watcher::Event<CoverageBinding>) {
        let mut maps = self.maps();
        let scope_key = scope.map(str::to_owned);
        match event {
            watcher::Event::Apply(binding) => maps.insert(binding),
            watcher::Event::Delete(binding) => maps.remove(&ObjectKey::of(binding)),
            watcher::Event::Init => {
                maps.relisting.insert(scope_key, HashSet::new());
            }
            watcher::Event::InitApply(binding) => {
                maps.insert(binding);
                maps.relisting.entry(scope_key).or_default().insert(ObjectKey::of(binding));
            }
            watcher::Event::InitDone => {
                let seen = maps.relisting.remove(&scope_key).unwrap_or_default();
                let stale: Vec<ObjectKey> = maps
                    .entries
                    .keys()
                    .filter(|k| scope.is_none_or(|ns| k.namespace == ns) && !seen.contains(k))
                    .cloned()
                    .collect();
                for key in stale {
                    maps.remove(&key);
                }
            }
        }
    }

    /// Registers the trigger channel of the controller for `namespace` (`None`: all).
    pub fn add_trigger(&self, namespace: Option<String>, sender: mpsc::UnboundedSender<ObjectRef<CoverageBinding>>) {
        self.triggers.lock().unwrap_or_else(|p| p.into_inner()).push((namespace, sender));
    }

    /// How many bindings are indexed.
    pub fn len(&self) -> usize {
        self.maps().entries.len()
    }

    /// Whether no binding is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tells the unbound hook about a work order no binding covers.
    pub fn consider_unbound(&self, work_order_id: &str) {
        if let Some(unbound) = &self.unbound {
            unbound(work_order_id.to_owned());
        }
    }
}

impl Bindings for Fleet {
    fn by_work_order(&self, work_order_id: &str) -> Vec<ObjectKey> {
        Maps::keys(self.maps().index.by_work_order(work_order_id))
    }

    fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey> {
        Maps::keys(self.maps().index.by_external_id(external_id))
    }

    fn trigger(&self, keys: Vec<ObjectKey>) {
        if let Some(handoff) = self.handoff.as_ref().filter(|h| !h.is_leader()) {
            handoff.pass_on(keys);
            return;
        }
        let triggers = self.triggers.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            let route = triggers.iter().find(|(ns, _)| ns.as_deref().is_none_or(|ns| ns == key.namespace));
            match route {
                Some((_, sender)) => {
                    let _ = sender.send(ObjectRef::new(&key.name).within(&key.namespace));
                }
                None => tracing::debug!(binding = %key, "no controller watches this binding's namespace"),
            }
        }
    }

    fn unbound(&self, delivery: &Delivery) {
        self.consider_unbound(&delivery.assignment_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CoverageBindingSpec, CoverageBindingStatus, CoverageType};

    fn binding(name: &str, work_order: &str, job: Option<&str>) -> CoverageBinding {
        let spec = CoverageBindingSpec::new(work_order, vec![CoverageType::General]);
        let mut b = CoverageBinding::new(name, spec);
        b.metadata.namespace = Some("ns".into());
        b.status = Some(CoverageBindingStatus { job_id: job.map(str::to_owned), ..Default::default() });
        b
    }

    #[test]
    fn follows_applies_updates_and_deletes() {
        let fleet = Fleet::new(None);
        fleet.observe(None, &watcher::Event::Apply(binding("a", "1", None)));
        fleet.observe(None, &watcher::Event::Apply(binding("b", "1", Some("jb_b"))));
        let mut found = fleet.by_work_order("1");
        found.sort();
        assert_eq!(found, [ObjectKey::new("ns", "a"), ObjectKey::new("ns", "b")]);
        assert_eq!(fleet.by_external_id("jb_b"), [ObjectKey::new("ns", "b")]);

        fleet.observe(None, &watcher::Event::Apply(binding("b", "1", Some("jb_new"))));
        assert!(fleet.by_external_id("jb_b").is_empty());
        assert_eq!(fleet.by_external_id("jb_new"), [ObjectKey::new("ns", "b")]);

        fleet.observe(None, &watcher::Event::Delete(binding("a", "1", None)));
        assert_eq!(fleet.by_work_order("1"), [ObjectKey::new("ns", "b")]);

        // A relist that no longer mentions b drops it.
        fleet.observe(Some("ns"), &watcher::Event::Init);
        fleet.observe(Some("ns"), &watcher::Event::InitApply(binding("c", "2", None)));
        fleet.observe(Some("ns"), &watcher::Event::InitDone);
        assert!(fleet.by_work_order("1").is_empty());
        assert_eq!(fleet.by_work_order("2"), [ObjectKey::new("ns", "c")]);
        assert_eq!(fleet.len(), 1);
    }

    #[test]
    fn triggers_go_to_the_controller_of_the_namespace() {
        let fleet = Fleet::new(None);
        let (tx_a, mut rx_a) = mpsc::unbounded_channel();
        let (tx_b, mut rx_b) = mpsc::unbounded_channel();
        fleet.add_trigger(Some("a".into()), tx_a);
        fleet.add_trigger(Some("b".into()), tx_b);
        fleet.trigger(vec![ObjectKey::new("b", "x"), ObjectKey::new("a", "y"), ObjectKey::new("c", "z")]);
        assert_eq!(rx_a.try_recv().unwrap(), ObjectRef::new("y").within("a"));
        assert_eq!(rx_b.try_recv().unwrap(), ObjectRef::new("x").within("b"));
        assert!(rx_a.try_recv().is_err() && rx_b.try_recv().is_err());
    }
}
