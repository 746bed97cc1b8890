//! How long a binding waits after a failed reconcile, in either runtime: exponential with full
//! jitter for errors that can pass, a fixed long wait for errors only a person can fix, so a
//! broken binding does not hammer either API.

use std::time::Duration;

use crate::http::RetryPolicy;

/// Waits after failed reconciles.
#[derive(Clone, Copy, Debug)]
pub struct ReconcileBackoff {
    /// Upper bound of the first retry's wait; doubles with every failure.
    pub base: Duration,
    /// Upper bound of any retry's wait.
    pub max: Duration,
    /// Shortest wait, so that jitter never retries at once.
    pub floor: Duration,
    /// The wait after an error that is not retryable.
    pub terminal: Duration,
}

impl ReconcileBackoff {
    /// The wait after the `failures`-th failure in a row (from 1).
    pub fn delay(&self, failures: u32, retryable: bool) -> Duration {
        if !retryable {
            return self.terminal;
        }
        let policy = RetryPolicy { base_delay: self.base, max_delay: self.max, ..RetryPolicy::default() };
        policy.delay(failures.saturating_sub(1)).max(self.floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: ReconcileBackoff = ReconcileBackoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(8),
        floor: Duration::from_millis(100),
        terminal: Duration::from_secs(600),
    };

    #[test]
    fn terminal_errors_wait_long_and_others_grow_within_their_bounds() {
        assert_eq!(BACKOFF.delay(1, false), Duration::from_secs(600));
        for failures in 1..=10 {
            let ceiling = (BACKOFF.base * 2u32.pow(failures - 1)).min(BACKOFF.max);
            for _ in 0..200 {
                let delay = BACKOFF.delay(failures, true);
                assert!(delay >= BACKOFF.floor && delay <= ceiling.max(BACKOFF.floor), "{failures}: {delay:?}");
            }
        }
    }
}
