//! Which bindings a work order or an external id (contractor, job, quote, session, policy,
//! assignment, certificate, invoice) belongs to, so a webhook finds its bindings without
//! scanning the fleet. Both runtimes keep one: the local store in step with its writes, the
//! operator's fleet index in step with its watchers.
//!
//! Compact, since it lives as long as the fleet: ids are indexed by a 64-bit hash and a binding
//! by a shared key, so an entry holds no strings. A hash can collide, so what it finds are
//! candidates: the local store checks them against the bindings; for the operator a collision
//! only wakes a binding that then finds nothing to do.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use crate::resources::CoverageBindingStatus;
use crate::resources::ObjectKey;

/// Where a binding is indexed: its work order, and the hashes of its external ids (sorted, each
/// once), which the store keeps beside the binding so it can be moved without decoding it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub work_order: Box<str>,
    pub ids: Box<[u64]>,
}

/// The bindings under one hash: nearly always one.
#[derive(Debug)]
enum Keys {
    One(Arc<ObjectKey>),
    Many(Vec<Arc<ObjectKey>>),
}

impl Keys {
    fn as_slice(&self) -> &[Arc<ObjectKey>] {
        match self {
            Keys::One(key) => std::slice::from_ref(key),
            Keys::Many(keys) => keys,
        }
    }
}

/// Candidate bindings by work order and by external id.
#[derive(Debug, Default)]
pub(crate) struct Index {
    hasher: RandomState,
    by_work_order: HashMap<u64, Keys>,
    by_external_id: HashMap<u64, Keys>,
}

fn link(map: &mut HashMap<u64, Keys>, hash: u64, key: &Arc<ObjectKey>) {
    match map.get_mut(&hash) {
        None => {
            map.insert(hash, Keys::One(key.clone()));
        }
        Some(keys) if keys.as_slice().contains(key) => {}
        Some(Keys::One(other)) => {
            let other = other.clone();
            map.insert(hash, Keys::Many(vec![other, key.clone()]));
        }
        Some(Keys::Many(keys)) => keys.push(key.clone()),
    }
}

fn unlink(map: &mut HashMap<u64, Keys>, hash: u64, key: &ObjectKey) {
    let Some(keys) = map.get_mut(&hash) else { return };
    match keys {
        Keys::One(one) if **one == *key => {
            map.remove(&hash);
        }
        Keys::One(_) => {}
        Keys::Many(many) => {
            many.retain(|k| **k != *key);
            match many.len() {
                0 => {
                    map.remove(&hash);
                }
                1 => *keys = Keys::One(many[0].clone()),
                _ => {}
            }
        }
    }
}

impl Index {
    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// Where a binding with `work_order` and `status` belongs.
    pub fn entry(&self, work_order: &str, status: Option<&CoverageBindingStatus>) -> Entry {
        let mut ids: Vec<u64> =
            status.into_iter().flat_map(CoverageBindingStatus::external_ids).map(|id| self.hash(id)).collect();
        ids.sort_unstable();
        ids.dedup();
        Entry { work_order: work_order.into(), ids: ids.into_boxed_slice() }
    }

    /// Moves `key` from `before` to `after` (`None`: not indexed).
    pub fn update(&mut self, key: &Arc<ObjectKey>, before: Option<&Entry>, after: Option<&Entry>) {
        let order = |e: Option<&Entry>| e.map(|e| self.hash(&e.work_order));
        let (old_order, new_order) = (order(before), order(after));
        let (old_ids, new_ids) = (before.map_or(&[][..], |e| &e.ids[..]), after.map_or(&[][..], |e| &e.ids[..]));
        if old_order != new_order {
            if let Some(hash) = old_order {
                unlink(&mut self.by_work_order, hash, key);
            }
            if let Some(hash) = new_order {
                link(&mut self.by_work_order, hash, key);
            }
        }
        for hash in old_ids.iter().filter(|h| !new_ids.contains(h)) {
            unlink(&mut self.by_external_id, *hash, key);
        }
        for hash in new_ids.iter().filter(|h| !old_ids.contains(h)) {
            link(&mut self.by_external_id, *hash, key);
        }
    }

    /// Bindings that may have `work_order_id` (check them).
    pub fn by_work_order(&self, work_order_id: &str) -> &[Arc<ObjectKey>] {
        self.by_work_order.get(&self.hash(work_order_id)).map_or(&[], Keys::as_slice)
    }

    /// Bindings whose status may hold `external_id` (check them).
    pub fn by_external_id(&self, external_id: &str) -> &[Arc<ObjectKey>] {
        self.by_external_id.get(&self.hash(external_id)).map_or(&[], Keys::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: &Index, work_order: &str, status: &CoverageBindingStatus) -> Entry {
        index.entry(work_order, Some(status))
    }

    fn names(keys: &[Arc<ObjectKey>]) -> Vec<&str> {
        keys.iter().map(|k| k.name.as_str()).collect()
    }

    #[test]
    fn follows_work_orders_and_external_ids_through_updates_and_removal() {
        let mut index = Index::default();
        let (a, b) = (Arc::new(ObjectKey::new("ns", "a")), Arc::new(ObjectKey::new("ns", "b")));
        let quoted = CoverageBindingStatus {
            contractor_id: Some("cn_1".into()),
            quote_id: Some("qt_a".into()),
            ..Default::default()
        };
        let a1 = entry(&index, "1", &quoted);
        let b1 =
            entry(&index, "1", &CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() });
        index.update(&a, None, Some(&a1));
        index.update(&b, None, Some(&b1));
        assert_eq!(names(index.by_work_order("1")), ["a", "b"]);
        assert_eq!(names(index.by_external_id("cn_1")), ["a", "b"], "one worker, two bindings");
        assert_eq!(names(index.by_external_id("qt_a")), ["a"]);

        // The quote is replaced, a policy appears, the work order changes.
        let bound = CoverageBindingStatus { quote_id: Some("qt_a2".into()), policy_id: Some("pl_a".into()), ..quoted };
        let a2 = entry(&index, "2", &bound);
        index.update(&a, Some(&a1), Some(&a2));
        assert!(index.by_external_id("qt_a").is_empty());
        assert_eq!(names(index.by_external_id("qt_a2")), ["a"]);
        assert_eq!(names(index.by_external_id("pl_a")), ["a"]);
        assert_eq!(names(index.by_work_order("1")), ["b"]);
        assert_eq!(names(index.by_work_order("2")), ["a"]);
        assert_eq!(names(index.by_external_id("cn_1")), ["a", "b"]);

        index.update(&b, Some(&b1), None);
        assert!(index.by_work_order("1").is_empty());
        assert_eq!(names(index.by_external_id("cn_1")), ["a"]);
        index.update(&a, Some(&a2), None);
        assert!(index.by_work_order.is_empty() && index.by_external_id.is_empty(), "nothing left behind");
        assert!(index.by_work_order("nope").is_empty() && index.by_external_id("nope").is_empty());
    }

    #[test]
    fn keys_sharing_a_hash_stay_apart() {
        let mut map = HashMap::new();
        let (a, b, c) = (
            Arc::new(ObjectKey::new("ns", "a")),
            Arc::new(ObjectKey::new("ns", "b")),
            Arc::new(ObjectKey::new("ns", "c")),
        );
        for key in [&a, &b, &c, &b] {
            link(&mut map, 7, key);
        }
        assert_eq!(names(map[&7].as_slice()), ["a", "b", "c"]);
        unlink(&mut map, 7, &b);
        unlink(&mut map, 7, &a);
        assert!(matches!(&map[&7], Keys::One(k) if k.name == "c"));
        unlink(&mut map, 7, &ObjectKey::new("ns", "z"));
        unlink(&mut map, 7, &c);
        assert!(map.is_empty());
    }
}
