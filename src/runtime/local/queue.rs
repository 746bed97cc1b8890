//! A work queue of bindings: each key at most once, due at the earliest time anyone asked for.
//!
//! Keys come out in due order from an ordered set, so taking one costs O(log n) however many
//! bindings wait. A key taken with [`Queue::lease_due_within`] is *leased* until its [`Lease`]
//! is dropped: pushes meanwhile are kept, but the key is not handed out again until the lease
//! ends, so several workers can drain one queue and no binding is reconciled twice at once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::resources::ObjectKey;
use crate::runtime::ReconcileBackoff;

/// How long a binding waits after an error only a person can fix.
pub const TERMINAL_BACKOFF: Duration = Duration::from_secs(300);

/// Quicker than the operator's: the demo and tests should not sit out long retries.
const BACKOFF: ReconcileBackoff = ReconcileBackoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(60),
    floor: Duration::from_millis(50),
    terminal: TERMINAL_BACKOFF,
};

/// Keys with due times, plus each key's run of failures for backoff.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// When each queued key is due.
    due: HashMap<Arc<ObjectKey>, Instant>,
    /// The same entries, in due order (sharing the keys).
    order: BTreeSet<(Instant, Arc<ObjectKey>)>,
    /// Keys being worked on under a lease.
    leased: HashSet<ObjectKey>,
    failures: HashMap<ObjectKey, u32>,
}

impl State {
    /// The first queued key that is not leased, with its due time.
    fn next(&self) -> Option<(Instant, &Arc<ObjectKey>)> {
        self.order.iter().find(|(_, key)| !self.leased.contains(&**key)).map(|(at, key)| (*at, key))
    }

    fn remove(&mut self, key: &Arc<ObjectKey>) {
        if let Some(at) = self.due.remove(key) {
            self.order.remove(&(at, key.clone()));
        }
    }
}

/// The right to work on one key; the key can be handed out again once this is dropped.
pub struct Lease {
    queue: Arc<Queue>,
    key: ObjectKey,
}

impl Lease {
    /// The leased key.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.leased.remove(&self.key);
        let queued = state.due.contains_key(&self.key);
        drop(state);
        if queued {
            // Pushed while leased: another worker may take it now.
            self.queue.wake.notify_one();
        }
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `key` to run after `after`, unless it is already due sooner.
    pub fn push(&self, key: ObjectKey, after: Duration) {
        let at = Instant::now() + after;
        let mut state = self.lock();
        let key = match state.due.get_key_value(&key).map(|(k, due)| (k.clone(), *due)) {
            Some((_, due)) if due <= at => return,
            Some((shared, due)) => {
                state.order.remove(&(due, shared.clone()));
                shared
            }
            None => Arc::new(key),
        };
        state.order.insert((at, key.clone()));
        state.due.insert(key, at);
        drop(state);
        self.wake.notify_one();
    }

    /// Whether `key` is queued.
    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.lock().due.contains_key(key)
    }

    /// How many keys are queued (due or not) and how many are leased.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.due.len(), state.leased.len())
    }

    /// Whether no key is queued or leased.
    pub fn is_idle(&self) -> bool {
        self.counts() == (0, 0)
    }

    /// The next key, waiting until one is due.
    pub async fn pop(&self) -> ObjectKey {
        loop {
            if let Some(key) = self.pop_due_within(Duration::from_secs(3600)).await {
                return key;
            }
        }
    }

    /// The next key that falls due within `horizon` from now (pushes arriving meanwhile count),
    /// waiting until it is due; `None` when none does. Leased keys are skipped until their
    /// lease ends.
    pub async fn pop_due_within(&self, horizon: Duration) -> Option<ObjectKey> {
        self.take_due_within(horizon, false).await
    }

    /// [`Queue::pop_due_within`], leasing the key: it is not handed out again, even if pushed,
    /// until the returned [`Lease`] is dropped.
    pub async fn lease_due_within(self: &Arc<Self>, horizon: Duration) -> Option<Lease> {
        let key = self.take_due_within(horizon, true).await?;
        Some(Lease { queue: self.clone(), key })
    }

    async fn take_due_within(&self, horizon: Duration, lease: bool) -> Option<ObjectKey> {
        let deadline = Instant::now() + horizon;
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            // Registered before looking, so a push between the look and the wait is not missed.
            notified.as_mut().enable();
            let wait_until = {
                let mut state = self.lock();
                let now = Instant::now();
                match state.next().map(|(at, key)| (at, key.clone())) {
                    Some((at, key)) if at <= now => {
                        state.remove(&key);
                        let key = Arc::unwrap_or_clone(key);
                        if lease {
                            state.leased.insert(key.clone());
                        }
                        return Some(key);
                    }
                    Some((at, _)) if at <= deadline => at,
                    _ if now >= deadline => return None,
                    _ => deadline,
                }
            };
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(wait_until) => {}
            }
        }
    }

    /// The wait before retrying `key` after another failure: exponential with full jitter for
    /// transient errors, a fixed long wait for terminal ones.
    pub fn backoff(&self, key: &ObjectKey, retryable: bool) -> Duration {
        let mut state = self.lock();
        let failures = state.failures.entry(key.clone()).or_default();
        *failures += 1;
        BACKOFF.delay(*failures, retryable)
    }

    /// Resets `key`'s failure run after a success.
    pub fn forget_failures(&self, key: &ObjectKey) {
        let mut state = self.lock();
        if !state.failures.is_empty() {
            state.failures.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new("ns", name)
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_deduplicated_and_come_out_by_due_time() {
        let queue = Queue::default();
        queue.push(key("late"), Duration::from_secs(10));
        queue.push(key("soon"), Duration::from_secs(1));
        queue.push(key("soon"), Duration::from_secs(5));
        queue.push(key("late"), Duration::from_secs(3));
        assert_eq!(queue.counts(), (2, 0));
        assert_eq!(queue.pop().await, key("soon"));
        assert_eq!(queue.pop().await, key("late"));
        assert!(!queue.contains(&key("late")));
        assert_eq!(queue.pop_due_within(Duration::from_secs(60)).await, None);
        assert!(queue.is_idle());
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_due_within_the_horizon_returns_none() {
        let queue = Queue::default();
        queue.push(key("far"), Duration::from_secs(600));
        assert_eq!(queue.pop_due_within(Duration::from_secs(60)).await, None);
        assert!(queue.contains(&key("far")));
    }

    #[tokio::test(start_paused = true)]
    async fn many_keys_come_out_in_due_order() {
        let queue = Queue::default();
        for i in (0..200u64).rev() {
            queue.push(key(&format!("k{i:03}")), Duration::from_millis(i * 10));
        }
        for i in 0..200u64 {
            assert_eq!(queue.pop().await, key(&format!("k{i:03}")));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_leased_key_is_not_handed_out_again_until_the_lease_ends() {
        let queue = Arc::new(Queue::default());
        queue.push(key("a"), Duration::ZERO);
        queue.push(key("b"), Duration::from_millis(1));
        let lease = queue.lease_due_within(Duration::from_secs(1)).await.unwrap();
        assert_eq!(lease.key(), &key("a"));
        // Pushed again while being worked on: kept, but another worker gets b, then nothing.
        queue.push(key("a"), Duration::ZERO);
        assert_eq!(queue.counts(), (2, 1));
        let other = queue.lease_due_within(Duration::from_secs(1)).await.unwrap();
        assert_eq!(other.key(), &key("b"));
        drop(other);
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.lease_due_within(Duration::from_secs(60)).await.map(|l| l.key().clone()) }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiting.is_finished(), "a is still leased");
        drop(lease);
        assert_eq!(waiting.await.unwrap(), Some(key("a")), "released: a comes out once more");
        assert!(queue.is_idle());
    }

    #[test]
    fn backoff_grows_for_transient_errors_and_is_long_for_terminal_ones() {
        let queue = Queue::default();
        assert!(queue.backoff(&key("a"), true) <= Duration::from_millis(500));
        for _ in 0..20 {
            assert!(queue.backoff(&key("a"), true) <= Duration::from_secs(60));
        }
        assert_eq!(queue.backoff(&key("b"), false), TERMINAL_BACKOFF);
        queue.forget_failures(&key("a"));
        assert!(queue.backoff(&key("a"), true) <= Duration::from_millis(500));
    }
}
