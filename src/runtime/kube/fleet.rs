//! The fleet as webhooks see it: an index over the controllers' binding caches (which bindings
//! a work order or an external id — contractor, job, quote, session, policy, assignment,
//! certificate, invoice — belongs to), the controllers' trigger channels, and the wakes that
//! found no binding while a cache was catching up, kept to match again. Webhook handlers and the
//! sweep use it to wake bindings; a binding already queued is reconciled once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio::sync::mpsc;

use super::cached::CachedBinding;
use super::handoff::Handoff;
use super::health::CacheHealth;
use super::uncovered::Uncovered;
use crate::resources::CoverageBinding;
use crate::resources::ObjectKey;
use crate::runtime::index::{Entry, Index};
use crate::webhooks::{Bindings, Unmatched};
use crate::workmarket::Listed;

/// Most wakes kept while caches catch up; the oldest go first.
const KEPT_MAX: usize = 10_000;
/// How long a kept wake waits for its binding.
const KEPT_FOR: Duration = Duration::from_secs(600);

/// What a kept wake looks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Wanted {
    WorkOrder(String),
    ExternalId(String),
}

/// Wakes that matched no binding while a cache was catching up.
#[derive(Default)]
struct Kept {
    wakes: HashMap<Wanted, Instant>,
    /// Arrival order, for the bound and expiry (may hold keys matched since).
    order: VecDeque<Wanted>,
}

impl Kept {
    fn keep(&mut self, wanted: Wanted) {
        while self.wakes.len() >= KEPT_MAX {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.wakes.remove(&oldest);
                }
                None => break,
            }
        }
        if self.wakes.insert(wanted.clone(), Instant::now()).is_none() {
            self.order.push_back(wanted);
        }
    }

    fn expire(&mut self) {
        while let Some(oldest) = self.order.front() {
            match self.wakes.get(oldest) {
                Some(at) if at.elapsed() < KEPT_FOR => break,
                _ => {
                    let oldest = self.order.pop_front().expect("just seen");
                    self.wakes.remove(&oldest);
                }
            }
        }
    }
}

/// One indexed binding.
struct Indexed {
    /// Where it is indexed.
    entry: Entry,
    /// The work order's `last_modified_on` (Unix seconds) as its status last recorded it.
    seen_change: Option<i64>,
}

#[derive(Default)]
struct Maps {
    /// Keyed by the same shared key the index holds, so each key is stored once.
    entries: HashMap<Arc<ObjectKey>, Indexed>,
    /// Keys seen so far by a relist in progress, per scope.
    relisting: HashMap<Option<String>, HashSet<ObjectKey>>,
    index: Index,
    kept: Kept,
}

impl Maps {
    fn remove(&mut self, key: &ObjectKey) {
        if let Some((key, Indexed { entry, .. })) = self.entries.remove_entry(key) {
            self.index.update(&key, Some(&entry), None);
        }
    }

    fn insert(&mut self, binding: &CoverageBinding) {
        let key = ObjectKey::of(binding);
        let entry = self.index.entry(&binding.spec.work_order_id, binding.status.as_ref());
        let (shared, before) = match self.entries.remove_entry(&key) {
            Some((shared, Indexed { entry, .. })) => (shared, Some(entry)),
            None => (Arc::new(key), None),
        };
        if before.as_ref() != Some(&entry) {
            self.index.update(&shared, before.as_ref(), Some(&entry));
        }
        let seen_change = binding.status.as_ref().and_then(|s| s.work_order.as_ref()?.last_modified.as_ref());
        let seen_change = seen_change.map(|t| t.0.as_second());
        self.entries.insert(shared, Indexed { entry, seen_change });
    }

    fn keys(found: &[Arc<ObjectKey>]) -> Vec<ObjectKey> {
        found.iter().map(|key| (**key).clone()).collect()
    }

    fn lookup(&self, wanted: &Wanted) -> Vec<ObjectKey> {
        match wanted {
            Wanted::WorkOrder(id) => Self::keys(self.index.by_work_order(id)),
            Wanted::ExternalId(id) => Self::keys(self.index.by_external_id(id)),
        }
    }

    /// Kept wakes `binding` answers; they are taken.
    fn claim(&mut self, binding: &CoverageBinding) -> bool {
        self.kept.expire();
        if self.kept.wakes.is_empty() {
            return false;
        }
        let mut wanted = vec![Wanted::WorkOrder(binding.spec.work_order_id.clone())];
        wanted.extend(
            binding
                .status
                .iter()
                .flat_map(crate::resources::CoverageBindingStatus::external_ids)
                .map(|id| Wanted::ExternalId(id.to_owned())),
        );
        let mut claimed = false;
        for want in wanted {
            claimed |= self.kept.wakes.remove(&want).is_some();
        }
        claimed
    }

    /// Every kept wake the index now answers, taken; and what is left.
    fn claim_all(&mut self) -> Vec<ObjectKey> {
        self.kept.expire();
        let wanted: Vec<Wanted> = self.kept.wakes.keys().cloned().collect();
        let mut found = Vec::new();
        for want in wanted {
            let keys = self.lookup(&want);
            if !keys.is_empty() {
                self.kept.wakes.remove(&want);
                found.extend(keys);
            }
        }
        found.sort();
        found.dedup();
        found
    }
}

/// Looks up unbound work orders for auto-binding.
pub type Unbound = Arc<dyn Fn(String) + Send + Sync>;

/// A controller's trigger channel, by the namespace it watches (`None`: all).
type Trigger = (Option<String>, mpsc::UnboundedSender<ObjectRef<CachedBinding>>);

/// The index and the controllers' trigger channels. Cheap to clone.
#[derive(Clone, Default)]
pub struct Fleet {
    maps: Arc<Mutex<Maps>>,
    /// Trigger channel per watched namespace (`None`: the one for all namespaces).
    triggers: Arc<Mutex<Vec<Trigger>>>,
    unbound: Option<Unbound>,
    handoff: Option<Handoff>,
    health: Option<Arc<CacheHealth>>,
    uncovered: Arc<Uncovered>,
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

    /// While `health` says a cache is catching up, wakes that match no binding are kept.
    pub fn with_health(self, health: Arc<CacheHealth>) -> Self {
        Self { health: Some(health), ..self }
    }

    /// Work orders nothing covers are counted in `uncovered` (the metrics read it).
    pub fn with_uncovered(self, uncovered: Arc<Uncovered>) -> Self {
        Self { uncovered, ..self }
    }

    /// Replaces the view of uncovered work orders with what WorkMarket lists as assigned or in
    /// progress now; the newly uncovered are offered to auto-binding.
    pub fn note_uncovered(&self, listed: &[Listed]) {
        let rows = listed.iter().map(|w| (w.id.as_str(), &w.status));
        let covered = |id: &str| !self.maps().index.by_work_order(id).is_empty();
        for id in self.uncovered.replace(rows, covered, self.unbound.is_some()) {
            self.consider_unbound(&id);
        }
    }

    /// This replica no longer sweeps: it reports no uncovered work orders (the leader does).
    pub fn forget_uncovered(&self) {
        self.uncovered.clear();
    }

    fn catching_up(&self) -> bool {
        self.health.as_ref().is_some_and(|h| !h.settled())
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the index in step with the binding watcher of `scope` (a namespace, or `None` for
    /// all). A relist replays every object; what it did not mention is gone.
    pub fn observe(&self, scope: Option<&str>, event: &watcher::Event<CachedBinding>) {
        let mut maps = self.maps();
        let scope_key = scope.map(str::to_owned);
        let wake = match event {
            watcher::Event::Apply(cached) => {
                let binding = cached.binding();
                self.uncovered.covered(&binding.spec.work_order_id);
                maps.insert(&binding);
                if maps.claim(&binding) { vec![ObjectKey::of(&binding)] } else { Vec::new() }
            }
            watcher::Event::Delete(cached) => {
                maps.remove(&ObjectKey::of(cached));
                Vec::new()
            }
            watcher::Event::Init => {
                maps.relisting.insert(scope_key, HashSet::new());
                Vec::new()
            }
            watcher::Event::InitApply(cached) => {
                let binding = cached.binding();
                self.uncovered.covered(&binding.spec.work_order_id);
                maps.insert(&binding);
                maps.relisting.entry(scope_key).or_default().insert(ObjectKey::of(cached));
                Vec::new()
            }
            watcher::Event::InitDone => {
                let seen = maps.relisting.remove(&scope_key).unwrap_or_default();
                let stale: Vec<Arc<ObjectKey>> = maps
                    .entries
                    .keys()
                    .filter(|k| scope.is_none_or(|ns| k.namespace == ns) && !seen.contains(k.as_ref()))
                    .cloned()
                    .collect();
                for key in stale {
                    maps.remove(&key);
                }
                // The cache holds the relisted bindings now, so their wakes can be delivered.
                maps.claim_all()
            }
        };
        drop(maps);
        if !wake.is_empty() {
            tracing::info!(bindings = wake.len(), "woke bindings for webhooks that arrived while the caches caught up");
            self.trigger(wake);
        }
    }

    /// Matches the kept wakes again once every cache follows changes: what now finds its
    /// binding wakes it; what still finds none never will, and a work order among them is
    /// offered to auto-binding.
    pub fn settle(&self) {
        let (found, left) = {
            let mut maps = self.maps();
            let found = maps.claim_all();
            maps.kept.order.clear();
            (found, std::mem::take(&mut maps.kept.wakes))
        };
        if !found.is_empty() {
            tracing::info!(
                bindings = found.len(),
                "woke bindings for webhooks that arrived while the caches caught up"
            );
            self.trigger(found);
        }
        for wanted in left.into_keys() {
            if let Wanted::WorkOrder(id) = wanted {
                self.consider_unbound(&id);
            }
        }
    }

    /// How many wakes are kept.
    pub fn kept(&self) -> usize {
        self.maps().kept.wakes.len()
    }

    /// Registers the trigger channel of the controller for `namespace` (`None`: all).
    pub fn add_trigger(&self, namespace: Option<String>, sender: mpsc::UnboundedSender<ObjectRef<CachedBinding>>) {
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

    /// The bindings of `work_order_id` that have not seen its change at `changed` (Unix
    /// seconds; `None`: unknown, so all of them).
    pub fn unseen_change(&self, work_order_id: &str, changed: Option<i64>) -> Vec<ObjectKey> {
        let maps = self.maps();
        let unseen = |key: &&Arc<ObjectKey>| match (changed, maps.entries.get(key.as_ref()).and_then(|e| e.seen_change))
        {
            (Some(changed), Some(seen)) => seen < changed,
            _ => true,
        };
        maps.index.by_work_order(work_order_id).iter().filter(unseen).map(|key| (**key).clone()).collect()
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

    /// A delivery that matched no binding is kept to match again, bounded and for a while,
    /// whether or not a cache is catching up: its binding may reach the cache after it — a
    /// binding just created, or the id its own status write just recorded (a platform's webhook
    /// can outrun the API server's watch). A work order nobody covers is also offered to
    /// auto-binding, unless the caches are still catching up and may yet show its binding.
    fn unmatched(&self, wake: Unmatched) {
        if let (false, Unmatched::WorkOrder(delivery)) = (self.catching_up(), &wake) {
            self.consider_unbound(&delivery.assignment_id);
        }
        tracing::debug!(?wake, "no binding matches yet; kept to match again");
        let mut maps = self.maps();
        maps.kept.expire();
        match wake {
            Unmatched::WorkOrder(delivery) => maps.kept.keep(Wanted::WorkOrder(delivery.assignment_id)),
            Unmatched::ExternalIds(ids) => ids.into_iter().for_each(|id| maps.kept.keep(Wanted::ExternalId(id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CoverageBindingSpec, CoverageBindingStatus, CoverageType};

    fn binding(name: &str, work_order: &str, job: Option<&str>) -> CachedBinding {
        let spec = CoverageBindingSpec::new(work_order, vec![CoverageType::General]);
        let mut b = CoverageBinding::new(name, spec);
        b.metadata.namespace = Some("ns".into());
        b.status = Some(CoverageBindingStatus { job_id: job.map(str::to_owned), ..Default::default() });
        b.into()
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

    fn delivery(work_order: &str) -> crate::workmarket::webhook::Delivery {
        crate::workmarket::webhook::Delivery {
            event: None,
            event_name: Some("Accepted".into()),
            assignment_id: work_order.into(),
            status: None,
            sent_at: None,
        }
    }

    #[test]
    fn wakes_that_find_no_binding_while_the_caches_catch_up_are_kept_and_delivered() {
        use super::super::health::Kind;
        let health = Arc::new(CacheHealth::default());
        let watch = health.register(Kind::Bindings, Some("ns".into()));
        let offered: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = offered.clone();
        let fleet =
            Fleet::new(Some(Arc::new(move |id: String| record.lock().unwrap().push(id)))).with_health(health.clone());
        let (tx, mut rx) = mpsc::unbounded_channel();
        fleet.add_trigger(Some("ns".into()), tx);

        // The binding watch is relisting when three deliveries arrive that match nothing yet.
        fleet.observe(Some("ns"), &watcher::Event::Init);
        fleet.unmatched(Unmatched::WorkOrder(delivery("1")));
        fleet.unmatched(Unmatched::ExternalIds(vec!["jb_b".into()]));
        fleet.unmatched(Unmatched::WorkOrder(delivery("9")));
        assert_eq!(fleet.kept(), 3);
        assert!(offered.lock().unwrap().is_empty(), "not offered to auto-binding while the caches catch up");

        // The relist brings work order 1's binding: woken once the cache holds it.
        fleet.observe(Some("ns"), &watcher::Event::InitApply(binding("a", "1", None)));
        assert!(rx.try_recv().is_err(), "not before the relist is complete");
        fleet.observe(Some("ns"), &watcher::Event::InitDone);
        assert_eq!(rx.try_recv().unwrap(), ObjectRef::new("a").within("ns"));
        // A binding whose status gains the job id claims that wake.
        fleet.observe(Some("ns"), &watcher::Event::Apply(binding("b", "2", Some("jb_b"))));
        assert_eq!(rx.try_recv().unwrap(), ObjectRef::new("b").within("ns"));
        assert!(rx.try_recv().is_err());
        assert_eq!(fleet.kept(), 1);

        // Every cache follows again: what is left finds nothing, and the work order is offered.
        health.observe::<CachedBinding>(watch, &Ok(watcher::Event::InitDone));
        fleet.settle();
        assert_eq!(*offered.lock().unwrap(), ["9"]);
        assert_eq!(fleet.kept(), 0);
        fleet.unmatched(Unmatched::WorkOrder(delivery("10")));
        assert_eq!(*offered.lock().unwrap(), ["9", "10"], "settled: offered at once");
    }

    #[test]
    fn a_webhook_that_outruns_the_watch_wakes_its_binding_when_the_cache_catches_up() {
        let health = Arc::new(CacheHealth::default());
        let watch = health.register(super::super::health::Kind::Bindings, Some("ns".into()));
        health.observe::<CachedBinding>(watch, &Ok(watcher::Event::InitDone));
        let fleet = Fleet::new(None).with_health(health);
        let (tx, mut rx) = mpsc::unbounded_channel();
        fleet.add_trigger(Some("ns".into()), tx);
        fleet.observe(Some("ns"), &watcher::Event::Apply(binding("a", "1", None)));

        // Every cache follows; the operator has just recorded job jb_a, and 1099Policy's
        // webhook about it arrives before the watch brings that status.
        fleet.unmatched(Unmatched::ExternalIds(vec!["jb_a".into()]));
        assert!(rx.try_recv().is_err());
        fleet.observe(Some("ns"), &watcher::Event::Apply(binding("a", "1", Some("jb_a"))));
        assert_eq!(rx.try_recv().unwrap(), ObjectRef::new("a").within("ns"), "woken when the status arrives");
        assert_eq!(fleet.kept(), 0);

        // A binding created just after its work order's webhook is woken by it too.
        fleet.unmatched(Unmatched::WorkOrder(delivery("2")));
        fleet.observe(Some("ns"), &watcher::Event::Apply(binding("b", "2", None)));
        assert_eq!(rx.try_recv().unwrap(), ObjectRef::new("b").within("ns"));
    }

    #[test]
    fn kept_wakes_are_bounded() {
        let health = Arc::new(CacheHealth::default());
        health.register(super::super::health::Kind::Bindings, None);
        let fleet = Fleet::new(None).with_health(health);
        for id in 0..KEPT_MAX + 5 {
            fleet.unmatched(Unmatched::WorkOrder(delivery(&id.to_string())));
        }
        assert_eq!(fleet.kept(), KEPT_MAX);
        let maps = fleet.maps();
        assert!(!maps.kept.wakes.contains_key(&Wanted::WorkOrder("0".into())), "the oldest went first");
        assert!(maps.kept.wakes.contains_key(&Wanted::WorkOrder((KEPT_MAX + 4).to_string())));
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
