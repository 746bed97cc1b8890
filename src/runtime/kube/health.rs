//! Whether the operator's caches can be believed. Every watch (one kind in one scope) is
//! listing, synced, down or forbidden; reconciles wait until every cache they read has listed
//! once, `/readyz` says what is missing, and the log tells when a watch fails, lists again and
//! is back — a forbidden one once, then rarely.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::runtime::watcher;
use tokio::sync::watch;

/// How often a watch that stays forbidden is logged again.
const FORBIDDEN_RETELL: Duration = Duration::from_secs(300);

/// What a watch caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The CoverageBinding watch of a scope.
    Bindings,
    /// The CategoryMapping watch of a scope; bindings that use a mapping need it usable.
    Mappings,
    /// Secrets labelled as certificates.
    CertificateSecrets,
}

impl Kind {
    /// The resource as RBAC names it.
    pub fn resource(self) -> &'static str {
        match self {
            Self::Bindings => "coveragebindings.coverbridge.io",
            Self::Mappings => "categorymappings.coverbridge.io",
            Self::CertificateSecrets => "secrets",
        }
    }
}

/// Where a watch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Listing, for the first time or again after a failure.
    Listing,
    /// Listed, and following changes.
    Synced,
    /// Failed; it lists again after a short pause.
    Down,
    /// The API server refused it (403).
    Forbidden,
}

/// One watch's bookkeeping.
struct Watch {
    kind: Kind,
    /// `None`: all namespaces.
    scope: Option<String>,
    state: State,
    synced_once: bool,
    /// The refusal, in the words `/readyz` and the log use.
    forbidden: Option<String>,
    forbidden_told: Option<Instant>,
    /// When the current outage began; `None` while healthy.
    outage: Option<Instant>,
    /// Whether "listing again" was told in this outage (it is tried every few seconds).
    relist_told: bool,
    listed: usize,
}

impl Watch {
    fn covers(&self, namespace: &str) -> bool {
        self.scope.as_deref().is_none_or(|scope| scope == namespace)
    }

    fn usable(&self) -> bool {
        self.synced_once && self.state != State::Forbidden
    }

    fn where_(&self) -> String {
        match &self.scope {
            Some(namespace) => format!("in namespace {namespace}"),
            None => "in all namespaces".to_owned(),
        }
    }
}

/// A handle on one registered watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchId(usize);

/// The health of every cache. Shared by the watches, the controllers, the webhook index and
/// the probes.
pub struct CacheHealth {
    watches: Mutex<Vec<Watch>>,
    changed: watch::Sender<()>,
}

impl Default for CacheHealth {
    fn default() -> Self {
        Self { watches: Mutex::default(), changed: watch::channel(()).0 }
    }
}

impl CacheHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Watch>> {
        self.watches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers the watch of `kind` in `scope` (`None`: all namespaces), not yet listed.
    pub fn register(&self, kind: Kind, scope: Option<String>) -> WatchId {
        let mut watches = self.lock();
        watches.push(Watch {
            kind,
            scope,
            state: State::Listing,
            synced_once: false,
            forbidden: None,
            forbidden_told: None,
            outage: None,
            relist_told: false,
            listed: 0,
        });
        WatchId(watches.len() - 1)
    }

    /// Follows one item of the watch's stream (after the cache applied it).
    pub fn observe<K>(&self, id: WatchId, item: &Result<watcher::Event<K>, watcher::Error>) {
        let mut watches = self.lock();
        let watch = &mut watches[id.0];
        let before = (watch.state, watch.synced_once);
        match item {
            Ok(watcher::Event::Init) => listing(watch),
            Ok(watcher::Event::InitApply(_)) => watch.listed += 1,
            Ok(watcher::Event::InitDone) => synced(watch),
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {}
            Err(error) => failed(watch, error),
        }
        let changed = (watch.state, watch.synced_once) != before;
        drop(watches);
        if changed {
            self.changed.send_replace(());
        }
    }

    /// Whether every cache of `kind` that covers `namespace` has listed and is not refused.
    pub fn usable(&self, kind: Kind, namespace: &str) -> bool {
        let watches = self.lock();
        let mut covering = watches.iter().filter(|w| w.kind == kind && w.covers(namespace)).peekable();
        covering.peek().is_some() && covering.all(Watch::usable)
    }

    /// Whether every cache a reconcile in `namespace` reads has listed and is not refused.
    pub fn ready_for(&self, namespace: &str) -> bool {
        let watches = self.lock();
        let mut covering = watches.iter().filter(|w| w.covers(namespace)).peekable();
        covering.peek().is_some() && covering.all(Watch::usable)
    }

    /// `Ok` once every cache has listed and none is refused; otherwise what is wrong, in one
    /// sentence (a refusal first: it needs a person).
    pub fn readiness(&self) -> Result<(), String> {
        let watches = self.lock();
        if let Some(refusal) = watches.iter().find_map(|w| w.forbidden.clone()) {
            return Err(refusal);
        }
        let waiting: Vec<String> = watches
            .iter()
            .filter(|w| !w.synced_once)
            .map(|w| format!("{} {}", w.kind.resource(), w.where_()))
            .collect();
        if waiting.is_empty() { Ok(()) } else { Err(format!("caches are still syncing: {}", waiting.join(", "))) }
    }

    /// Whether every watch is following changes right now (none listing, down or refused):
    /// only then does "no binding matches" mean there is none.
    pub fn settled(&self) -> bool {
        self.lock().iter().all(|w| w.state == State::Synced)
    }

    /// Wakes on every change of any watch's state.
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }
}

fn listing(watch: &mut Watch) {
    if watch.outage.is_some() && !watch.relist_told {
        tracing::info!(resource = watch.kind.resource(), "listing {} {} again", watch.kind.resource(), watch.where_());
        watch.relist_told = true;
    }
    if watch.state != State::Forbidden {
        watch.state = State::Listing;
    }
    watch.listed = 0;
}

fn synced(watch: &mut Watch) {
    let (resource, objects) = (watch.kind.resource(), watch.listed);
    match watch.outage.take() {
        Some(since) => tracing::info!(
            resource,
            objects,
            after_seconds = since.elapsed().as_secs(),
            "watch of {resource} {} is back",
            watch.where_()
        ),
        None if !watch.synced_once => tracing::info!(resource, objects, "{resource} {} listed", watch.where_()),
        None => tracing::debug!(resource, objects, "{resource} {} listed again", watch.where_()),
    }
    watch.state = State::Synced;
    watch.synced_once = true;
    watch.forbidden = None;
    watch.forbidden_told = None;
}

fn failed(watch: &mut Watch, error: &watcher::Error) {
    if let Some(verb) = forbidden_verb(error) {
        let refusal = refusal(watch, verb);
        let retell = watch.forbidden_told.is_none_or(|at| at.elapsed() >= FORBIDDEN_RETELL);
        if retell {
            tracing::error!(resource = watch.kind.resource(), "{refusal}");
            watch.forbidden_told = Some(Instant::now());
        }
        watch.forbidden = Some(refusal);
        watch.state = State::Forbidden;
        if watch.outage.is_none() {
            watch.outage = Some(Instant::now());
            watch.relist_told = false;
        }
        return;
    }
    if watch.outage.is_none() {
        tracing::warn!(
            resource = watch.kind.resource(),
            %error,
            "watch of {} {} failed; listing again within a few seconds",
            watch.kind.resource(),
            watch.where_()
        );
        watch.outage = Some(Instant::now());
        watch.relist_told = false;
    } else {
        tracing::debug!(resource = watch.kind.resource(), %error, "watch still failing");
    }
    if watch.state != State::Forbidden {
        watch.state = State::Down;
    }
}

/// The verb the API server refused, when it answered 403.
fn forbidden_verb(error: &watcher::Error) -> Option<&'static str> {
    let forbidden = |e: &kube::Error| matches!(e, kube::Error::Api(status) if status.is_forbidden());
    match error {
        watcher::Error::InitialListFailed(e) if forbidden(e) => Some("list"),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) if forbidden(e) => Some("watch"),
        watcher::Error::WatchError(status) if status.is_forbidden() => Some("watch"),
        _ => None,
    }
}

/// What the ServiceAccount lacks and what to do, in one sentence.
fn refusal(watch: &Watch, verb: &str) -> String {
    let resource = watch.kind.resource();
    match &watch.scope {
        None => format!(
            "forbidden: the operator's ServiceAccount may not {verb} {resource} at the cluster scope; \
             set COVERBRIDGE_NAMESPACES (chart value watchNamespaces) to the namespaces it may read, \
             or grant list and watch on {resource} in a ClusterRole"
        ),
        Some(namespace) => format!(
            "forbidden: the operator's ServiceAccount may not {verb} {resource} in namespace {namespace}; \
             grant list and watch on {resource} there (the chart's Role for watchNamespaces does), \
             or remove {namespace} from COVERBRIDGE_NAMESPACES"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn forbidden() -> watcher::Error {
        let status = Status::failure("coveragebindings is forbidden", "Forbidden").with_code(403);
        watcher::Error::InitialListFailed(kube::Error::Api(Box::new(status)))
    }

    fn down() -> watcher::Error {
        watcher::Error::WatchError(Box::new(Status::failure("too old", "Expired").with_code(410)))
    }

    type Item = Result<watcher::Event<()>, watcher::Error>;

    #[test]
    fn ready_once_every_cache_listed_and_settled_only_while_all_follow() {
        let health = CacheHealth::default();
        let bindings = health.register(Kind::Bindings, Some("team-a".into()));
        let mappings = health.register(Kind::Mappings, Some("team-a".into()));
        assert!(!health.ready_for("team-a") && !health.settled());
        let message = health.readiness().unwrap_err();
        assert!(message.contains("categorymappings.coverbridge.io in namespace team-a"), "{message}");

        for id in [bindings, mappings] {
            health.observe::<()>(id, &Ok(watcher::Event::Init));
            health.observe::<()>(id, &Ok(watcher::Event::InitDone));
        }
        assert!(health.ready_for("team-a") && health.settled() && health.readiness().is_ok());
        assert!(!health.ready_for("team-b"), "no cache covers team-b");

        // A cut watch: still usable (the store keeps its last full list), but not settled.
        let cut: Item = Err(down());
        health.observe(mappings, &cut);
        assert!(health.ready_for("team-a") && health.usable(Kind::Mappings, "team-a"));
        assert!(!health.settled());
        health.observe::<()>(mappings, &Ok(watcher::Event::Init));
        assert!(!health.settled());
        health.observe::<()>(mappings, &Ok(watcher::Event::InitDone));
        assert!(health.settled());
    }

    #[test]
    fn a_forbidden_watch_blocks_readiness_with_what_to_do() {
        let health = CacheHealth::default();
        let all = health.register(Kind::Bindings, None);
        let refused: Item = Err(forbidden());
        health.observe(all, &refused);
        let message = health.readiness().unwrap_err();
        assert!(
            message.contains("may not list coveragebindings.coverbridge.io at the cluster scope")
                && message.contains("COVERBRIDGE_NAMESPACES"),
            "{message}"
        );
        assert!(!health.ready_for("anywhere"));
        // Granted later: the next list clears it.
        health.observe::<()>(all, &Ok(watcher::Event::Init));
        health.observe::<()>(all, &Ok(watcher::Event::InitDone));
        assert!(health.readiness().is_ok() && health.ready_for("anywhere"));
    }
}
