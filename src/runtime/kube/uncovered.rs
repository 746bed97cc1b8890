//! Work orders nothing covers: the ones WorkMarket lists as assigned or in progress that no
//! CoverageBinding names — `coverbridge_work_orders_uncovered`. The leader's sweep lists them
//! afresh each time, so a work order whose binding was deleted counts again and one that ended
//! stops counting; between sweeps a binding that appears takes its work order out at once. A
//! replica that does not lead reports none (the leader's count is the fleet's).
//!
//! It lives as long as the operator and a fleet can have tens of thousands of work orders, so it
//! keeps an id and a stage per work order and nothing else: 16 bytes an entry.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use crate::workmarket::WorkOrderStatus;

/// Where an uncovered work order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A worker is assigned (`active`).
    Assigned,
    /// The worker started (`in_progress`): work is going on uninsured.
    InProgress,
}

impl Stage {
    fn of(status: &WorkOrderStatus) -> Option<Self> {
        match status {
            WorkOrderStatus::Active => Some(Self::Assigned),
            WorkOrderStatus::InProgress => Some(Self::InProgress),
            _ => None,
        }
    }

    /// The metric's `status` label: WorkMarket's own status names.
    pub fn label(self) -> &'static str {
        match self {
            Self::Assigned => "active",
            Self::InProgress => "inProgress",
        }
    }
}

/// Assigned or started work orders without a binding, by id.
#[derive(Debug, Default)]
pub struct Uncovered {
    by_id: Mutex<HashMap<u64, Stage>>,
    hasher: RandomState,
}

impl Uncovered {
    /// Assignment numbers are decimal; anything else is kept by its hash (a collision can only
    /// merge two entries' counts, never lose coverage).
    fn key(&self, id: &str) -> u64 {
        id.parse().unwrap_or_else(|_| self.hasher.hash_one(id))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Stage>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the view with `listed` — work orders as WorkMarket lists them now — less those
    /// `covered` says a binding names. Returns the ones newly uncovered, each logged once (when
    /// `auto_binding` is off; on, they are about to be offered to it).
    pub fn replace<'a>(
        &self,
        listed: impl IntoIterator<Item = (&'a str, &'a WorkOrderStatus)>,
        covered: impl Fn(&str) -> bool,
        auto_binding: bool,
    ) -> Vec<String> {
        // Worked out before the view is locked: `covered` takes the fleet's lock, which is never
        // taken while holding this one. Then swapped in at once, so a scrape never reads a
        // half-built view (an empty one would restart every alert's `for`).
        let fresh: Vec<(&str, u64, Stage)> = listed
            .into_iter()
            .filter_map(|(id, status)| Some((id, self.key(id), Stage::of(status).filter(|_| !covered(id))?)))
            .collect();
        let mut by_id: HashMap<u64, Stage> = fresh.iter().map(|(_, key, stage)| (*key, *stage)).collect();
        by_id.shrink_to_fit();
        let before = std::mem::replace(&mut *self.lock(), by_id);
        let new: Vec<(&str, Stage)> = fresh
            .into_iter()
            .filter(|(_, key, stage)| before.get(key) != Some(stage))
            .map(|(id, _, s)| (id, s))
            .collect();
        if !auto_binding {
            for (id, stage) in &new {
                let doing = if *stage == Stage::InProgress { "in progress" } else { "assigned" };
                tracing::warn!(
                    work_order = id,
                    status = stage.label(),
                    "work order is {doing} and no CoverageBinding covers it"
                );
            }
        }
        new.into_iter().map(|(id, _)| id.to_owned()).collect()
    }

    /// Forgets every work order: this replica no longer sweeps.
    pub fn clear(&self) {
        *self.lock() = HashMap::new();
    }

    /// A binding names `id` now.
    pub fn covered(&self, id: &str) {
        let key = self.key(id);
        self.lock().remove(&key);
    }

    /// How many are uncovered, assigned and in progress.
    pub fn counts(&self) -> [(Stage, usize); 2] {
        let by_id = self.lock();
        let started = by_id.values().filter(|s| **s == Stage::InProgress).count();
        [(Stage::Assigned, by_id.len() - started), (Stage::InProgress, started)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_of_ten_thousand_work_orders_is_counted_in_sixteen_bytes_each() {
        let view = Uncovered::default();
        let listed: Vec<(String, WorkOrderStatus)> = (0..10_000u64)
            .map(|i| {
                let status = if i % 4 == 0 { WorkOrderStatus::InProgress } else { WorkOrderStatus::Active };
                ((6_029_100_000 + i).to_string(), status)
            })
            .collect();
        let rows = || listed.iter().map(|(id, status)| (id.as_str(), status));
        // Every tenth has a binding; every fourth started (2 500, of which 500 are covered).
        let covered = |id: &str| id.ends_with('0');
        let new = view.replace(rows(), covered, true);
        assert_eq!(new.len(), 9_000, "all new the first time");
        assert_eq!(view.counts(), [(Stage::Assigned, 7_000), (Stage::InProgress, 2_000)]);
        assert_eq!(std::mem::size_of::<(u64, Stage)>(), 16, "an id and a stage, nothing more");
        assert!(view.lock().capacity() < 2 * 9_000, "sized to what it holds");

        view.covered("6029100001");
        assert_eq!(view.counts()[0], (Stage::Assigned, 6_999), "a new binding counts at once");
        // The next sweep: the same work orders, so nothing is new, and the binding stays counted.
        assert!(view.replace(rows(), |id| covered(id) || id == "6029100001", true).is_empty());
        assert_eq!(view.counts()[0], (Stage::Assigned, 6_999));
        // Its binding is deleted: the next sweep counts the work order again, as new.
        assert_eq!(view.replace(rows(), covered, true), ["6029100001"]);

        assert!(view.replace(std::iter::empty(), covered, true).is_empty(), "all ended");
        assert_eq!(view.counts(), [(Stage::Assigned, 0), (Stage::InProgress, 0)], "nothing left behind");
        view.replace(rows(), covered, true);
        view.clear();
        assert_eq!(view.counts(), [(Stage::Assigned, 0), (Stage::InProgress, 0)]);
    }

    #[test]
    fn ids_that_are_not_numbers_are_kept_apart_by_hash() {
        let view = Uncovered::default();
        let active = WorkOrderStatus::Active;
        view.replace([("WO-A", &active), ("WO-B", &active)], |_| false, false);
        assert_eq!(view.counts()[0], (Stage::Assigned, 2));
        view.covered("WO-A");
        assert_eq!(view.counts()[0], (Stage::Assigned, 1));
    }
}
