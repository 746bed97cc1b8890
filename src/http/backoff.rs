//! Retry timing: exponential backoff with full jitter.
//!
//! Full jitter ("sleep = random(0, min(cap, base · 2^attempt))", from the AWS Architecture Blog's
//! "Exponential Backoff and Jitter") spreads retries of many clients best. The backoff crates at
//! hand add jitter on top of the delay (backon) or clamp it to the base (exponential-backoff),
//! so the one-line formula lives here.

use std::time::Duration;

/// When and how often to retry a transient failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Upper bound of the first retry's delay; doubles with every attempt.
    pub base_delay: Duration,
    /// Upper bound of any computed delay.
    pub max_delay: Duration,
    /// Longest wait this client accepts in-process, `Retry-After` included. A server asking for
    /// more gets its answer handed back to the caller, who can requeue instead of blocking.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The ceiling of the delay after attempt `attempt` (0-based): `min(max_delay, base · 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// A delay drawn uniformly from `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(fastrand::u64(0..=ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let ceilings: Vec<u64> = (0..6).map(|a| policy.ceiling(a).as_millis() as u64).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.ceiling(200), Duration::from_secs(1), "huge attempt numbers do not overflow");
    }

    #[test]
    fn delay_is_full_jitter_within_the_ceiling() {
        let policy = RetryPolicy::default();
        let delays: Vec<Duration> = (0..2000).map(|_| policy.delay(3)).collect();
        assert!(delays.iter().all(|d| *d <= policy.ceiling(3)));
        // Full jitter reaches both ends of the range, unlike "delay + jitter" schemes.
        assert!(delays.iter().any(|d| *d < policy.ceiling(3) / 10));
        assert!(delays.iter().any(|d| *d > policy.ceiling(3) * 9 / 10));
    }
}
