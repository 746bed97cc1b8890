//! A work queue of bindings: each key at most once, due at the earliest time anyone asked for.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::http::RetryPolicy;
use crate::reconcile::ObjectKey;

/// How long a binding waits after an error only a person can fix.
pub const TERMINAL_BACKOFF: Duration = Duration::from_secs(300);

/// Keys with due times, plus each key's run of failures for backoff.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    due: BTreeMap<ObjectKey, Instant>,
    failures: HashMap<ObjectKey, u32>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `key` to run after `after`, unless it is already due sooner.
    pub fn push(&self, key: ObjectKey, after: Duration) {
        let at = Instant::now() + after;
        let mut state = self.lock();
        let due = state.due.entry(key).or_insert(at);
        *due = (*due).min(at);
        drop(state);
        self.wake.notify_one();
    }

    /// Whether `key` is queued.
    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.lock().due.contains_key(key)
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
    /// waiting until it is due; `None` when none does.
    pub async fn pop_due_within(&self, horizon: Duration) -> Option<ObjectKey> {
        let deadline = Instant::now() + horizon;
        loop {
            let notified = self.wake.notified();
            let wait_until = {
                let mut state = self.lock();
                let next = state.due.iter().min_by_key(|(_, at)| **at).map(|(k, at)| (k.clone(), *at));
                match next {
                    Some((key, at)) if at <= Instant::now() => {
                        state.due.remove(&key);
                        return Some(key);
                    }
                    Some((_, at)) if at <= deadline => at,
                    _ if Instant::now() >= deadline => return None,
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
        if !retryable {
            return TERMINAL_BACKOFF;
        }
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        policy.delay(*failures - 1).max(Duration::from_millis(50))
    }

    /// Resets `key`'s failure run after a success.
    pub fn forget_failures(&self, key: &ObjectKey) {
        self.lock().failures.remove(key);
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
        assert_eq!(queue.pop().await, key("soon"));
        assert_eq!(queue.pop().await, key("late"));
        assert!(!queue.contains(&key("late")));
        assert_eq!(queue.pop_due_within(Duration::from_secs(60)).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_due_within_the_horizon_returns_none() {
        let queue = Queue::default();
        queue.push(key("far"), Duration::from_secs(600));
        assert_eq!(queue.pop_due_within(Duration::from_secs(60)).await, None);
        assert!(queue.contains(&key("far")));
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
