//! Work orders nothing covers: the ones WorkMarket's change feed shows assigned or in progress
//! that no CoverageBinding names — `coverbridge_work_orders_uncovered`. The view is built from the
//! feed as the sweep reads it, so it knows what changed since the operator started (and one
//! sweep interval before); `coverbridge audit` answers for any window.
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

    /// Takes in a row of the change feed: `covered` when a binding names the work order. A work
    /// order that newly needs coverage nobody gives it is logged once (when `auto_binding` is
    /// off; on, the auto-binder is about to make its binding).
    pub fn observe(&self, id: &str, status: &WorkOrderStatus, covered: bool, auto_binding: bool) {
        let key = self.key(id);
        let stage = Stage::of(status).filter(|_| !covered);
        let before = match stage {
            Some(stage) => self.lock().insert(key, stage),
            None => self.lock().remove(&key),
        };
        if let (Some(stage), false) = (stage, auto_binding)
            && before != Some(stage)
        {
            tracing::warn!(
                work_order = id,
                status = stage.label(),
                "work order is {} and no CoverageBinding covers it",
                if stage == Stage::InProgress { "in progress" } else { "assigned" }
            );
        }
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
        for i in 0..10_000u64 {
            let status = if i % 4 == 0 { WorkOrderStatus::InProgress } else { WorkOrderStatus::Active };
            view.observe(&(6_029_100_000 + i).to_string(), &status, i % 10 == 0, true);
        }
        // Every tenth has a binding; every fourth started (2 500, of which 500 are covered).
        assert_eq!(view.counts(), [(Stage::Assigned, 7_000), (Stage::InProgress, 2_000)]);
        assert_eq!(std::mem::size_of::<(u64, Stage)>(), 16, "an id and a stage, nothing more");

        view.covered("6029100001");
        view.observe("6029100002", &WorkOrderStatus::Complete, false, true);
        view.observe("6029100003", &WorkOrderStatus::Cancelled, false, true);
        view.observe("6029100004", &WorkOrderStatus::InProgress, true, true);
        assert_eq!(view.counts(), [(Stage::Assigned, 6_997), (Stage::InProgress, 1_999)]);

        for i in 0..10_000u64 {
            view.observe(&(6_029_100_000 + i).to_string(), &WorkOrderStatus::Paid, false, true);
        }
        assert_eq!(view.counts(), [(Stage::Assigned, 0), (Stage::InProgress, 0)], "nothing left behind");
    }

    #[test]
    fn ids_that_are_not_numbers_are_kept_apart_by_hash() {
        let view = Uncovered::default();
        view.observe("WO-A", &WorkOrderStatus::Active, false, false);
        view.observe("WO-B", &WorkOrderStatus::Active, false, false);
        assert_eq!(view.counts()[0], (Stage::Assigned, 2));
        view.covered("WO-A");
        assert_eq!(view.counts()[0], (Stage::Assigned, 1));
    }
}
