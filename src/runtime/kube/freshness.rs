//! A reconcile never acts on a binding older than the last write this replica made to it.
//!
//! The controller reads bindings from its watch-fed cache, which can lag behind the status it
//! has just written (the new session id, say). A reconcile started from the lagging copy would
//! repeat the step just recorded: under the same idempotency key, so 1099Policy replays its first
//! answer and nothing is duplicated, but it is a wasted write against a rate-limited API and a
//! path only the key saves. So each replica remembers the resourceVersion of its last write per
//! binding and puts back a reconcile whose copy is older.
//!
//! Resource versions are opaque to clients, but the API server's are etcd revisions: decimal
//! integers that grow. They are compared only when both parse as such; otherwise, and after
//! [`TRUSTED_FOR`], the copy is taken as it is and the idempotency key is the safety net.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a write is waited for before the cache is believed anyway (a watch that is cut or
/// relisting catches up in seconds; the chance of acting twice is then the key's to absorb).
pub const TRUSTED_FOR: Duration = Duration::from_secs(30);

/// The last resourceVersion this replica wrote, per binding uid.
#[derive(Default)]
pub struct Freshness {
    written: Mutex<Writes>,
}

/// The writes, and when ones past [`TRUSTED_FOR`] were last dropped: a binding that is not
/// reconciled again after its last write (Bound, say) would otherwise be remembered for ever.
#[derive(Default)]
struct Writes {
    by_uid: HashMap<String, Written>,
    pruned: Option<Instant>,
}

struct Written {
    version: u64,
    at: Instant,
}

impl Freshness {
    /// Remembers that this replica's write to binding `uid` produced `resource_version`.
    pub fn wrote(&self, uid: &str, resource_version: &str) {
        let Ok(version) = resource_version.parse() else { return };
        let mut writes = self.lock();
        if writes.pruned.is_none_or(|at| at.elapsed() >= TRUSTED_FOR) {
            writes.by_uid.retain(|_, w| w.at.elapsed() < TRUSTED_FOR);
            writes.pruned = Some(Instant::now());
        }
        let entry = writes.by_uid.entry(uid.to_owned()).or_insert(Written { version, at: Instant::now() });
        if version >= entry.version {
            *entry = Written { version, at: Instant::now() };
        }
    }

    /// Whether a copy of binding `uid` at `resource_version` is older than this replica's last
    /// write to it. A copy that has caught up ends the wait, so the map holds only bindings with
    /// a write in flight.
    pub fn is_behind(&self, uid: &str, resource_version: Option<&str>) -> bool {
        let written = &mut self.lock().by_uid;
        let Some(last) = written.get(uid) else { return false };
        let copy = resource_version.and_then(|v| v.parse::<u64>().ok());
        let behind = copy.is_some_and(|copy| copy < last.version) && last.at.elapsed() < TRUSTED_FOR;
        if !behind {
            written.remove(uid);
        }
        behind
    }

    /// Forgets a binding that is gone.
    pub fn forget(&self, uid: &str) {
        self.lock().by_uid.remove(uid);
    }

    /// How many bindings have a write the cache has not shown yet.
    pub fn in_flight(&self) -> usize {
        self.lock().by_uid.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Writes> {
        self.written.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_older_than_the_last_write_is_behind_until_it_catches_up() {
        let freshness = Freshness::default();
        assert!(!freshness.is_behind("u1", Some("5")), "nothing written: any copy will do");
        freshness.wrote("u1", "10");
        freshness.wrote("u1", "8");
        assert!(freshness.is_behind("u1", Some("9")), "the later of two writes counts");
        assert!(freshness.is_behind("u1", Some("7")));
        assert!(!freshness.is_behind("u2", Some("1")), "per binding");
        assert!(!freshness.is_behind("u1", Some("10")), "caught up");
        assert_eq!(freshness.in_flight(), 0, "a copy that caught up ends the wait");
        assert!(!freshness.is_behind("u1", Some("9")), "and is not waited for again");
    }

    #[test]
    fn versions_that_are_not_numbers_are_not_compared() {
        let freshness = Freshness::default();
        freshness.wrote("u1", "abc");
        assert_eq!(freshness.in_flight(), 0);
        freshness.wrote("u1", "10");
        assert!(!freshness.is_behind("u1", Some("opaque")));
        freshness.wrote("u1", "10");
        assert!(!freshness.is_behind("u1", None));
        freshness.wrote("u1", "10");
        freshness.forget("u1");
        assert!(!freshness.is_behind("u1", Some("1")));
    }
}
