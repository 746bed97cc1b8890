//! Which bindings a work order or an external id (contractor, job, quote, session, policy,
//! assignment, certificate, invoice) belongs to, kept in step with the store, so a webhook finds
//! its bindings without scanning the fleet. The same idea as the Kubernetes runtime's fleet
//! index, fed by the store's writes instead of a watcher.

use std::collections::HashMap;

use crate::reconcile::ObjectKey;
use crate::resources::CoverageBinding;
use crate::webhooks::external_ids;

/// Where one binding is indexed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entry {
    work_order: String,
    external_ids: Vec<String>,
}

/// Bindings by work order and by external id.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: HashMap<ObjectKey, Entry>,
    by_work_order: HashMap<String, Vec<ObjectKey>>,
    by_external_id: HashMap<String, Vec<ObjectKey>>,
}

fn link(map: &mut HashMap<String, Vec<ObjectKey>>, id: &str, key: &ObjectKey) {
    match map.get_mut(id) {
        Some(keys) => {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        None => {
            map.insert(id.to_owned(), vec![key.clone()]);
        }
    }
}

fn unlink(map: &mut HashMap<String, Vec<ObjectKey>>, id: &str, key: &ObjectKey) {
    if let Some(keys) = map.get_mut(id) {
        keys.retain(|k| k != key);
        if keys.is_empty() {
            map.remove(id);
        }
    }
}

impl Index {
    /// Indexes `binding` as it is now (replacing what was indexed for its key).
    pub fn insert(&mut self, key: &ObjectKey, binding: &CoverageBinding) {
        let work_order = &binding.spec.work_order_id;
        let ids = || binding.status.iter().flat_map(external_ids);
        if let Some(entry) = self.entries.get(key)
            && entry.work_order == *work_order
            && entry.external_ids.iter().map(String::as_str).eq(ids())
        {
            return;
        }
        let entry = Entry { work_order: work_order.clone(), external_ids: ids().map(str::to_owned).collect() };
        match self.entries.insert(key.clone(), entry.clone()) {
            Some(old) => {
                if old.work_order != entry.work_order {
                    unlink(&mut self.by_work_order, &old.work_order, key);
                }
                for id in old.external_ids.iter().filter(|id| !entry.external_ids.contains(id)) {
                    unlink(&mut self.by_external_id, id, key);
                }
            }
            None => {}
        }
        link(&mut self.by_work_order, &entry.work_order, key);
        for id in &entry.external_ids {
            link(&mut self.by_external_id, id, key);
        }
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: &ObjectKey) {
        let Some(entry) = self.entries.remove(key) else { return };
        unlink(&mut self.by_work_order, &entry.work_order, key);
        for id in &entry.external_ids {
            unlink(&mut self.by_external_id, id, key);
        }
    }

    /// Bindings of `work_order_id`.
    pub fn by_work_order(&self, work_order_id: &str) -> Vec<ObjectKey> {
        self.by_work_order.get(work_order_id).cloned().unwrap_or_default()
    }

    /// Bindings whose status holds `external_id`.
    pub fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey> {
        self.by_external_id.get(external_id).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CoverageBindingSpec, CoverageBindingStatus};

    fn binding(work_order: &str, status: CoverageBindingStatus) -> CoverageBinding {
        let spec: CoverageBindingSpec =
            serde_json::from_value(serde_json::json!({"workOrderId": work_order, "coverageTypes": ["general"]}))
                .unwrap();
        let mut binding = CoverageBinding::new("b", spec);
        binding.status = Some(status);
        binding
    }

    #[test]
    fn follows_work_orders_and_external_ids_through_updates_and_removal() {
        let mut index = Index::default();
        let (a, b) = (ObjectKey::new("ns", "a"), ObjectKey::new("ns", "b"));
        let quoted = CoverageBindingStatus {
            contractor_id: Some("cn_1".into()),
            quote_id: Some("qt_a".into()),
            ..Default::default()
        };
        index.insert(&a, &binding("1", quoted.clone()));
        index.insert(
            &b,
            &binding("1", CoverageBindingStatus { contractor_id: Some("cn_1".into()), ..Default::default() }),
        );
        assert_eq!(index.by_work_order("1"), [a.clone(), b.clone()]);
        assert_eq!(index.by_external_id("cn_1"), [a.clone(), b.clone()], "one worker, two bindings");
        assert_eq!(index.by_external_id("qt_a"), [a.clone()]);

        // The quote is replaced, a policy appears, the work order changes.
        let bound = CoverageBindingStatus { quote_id: Some("qt_a2".into()), policy_id: Some("pl_a".into()), ..quoted };
        index.insert(&a, &binding("2", bound));
        assert!(index.by_external_id("qt_a").is_empty());
        assert_eq!(index.by_external_id("qt_a2"), [a.clone()]);
        assert_eq!(index.by_external_id("pl_a"), [a.clone()]);
        assert_eq!(index.by_work_order("1"), [b.clone()]);
        assert_eq!(index.by_work_order("2"), [a.clone()]);
        assert_eq!(index.by_external_id("cn_1"), [a.clone(), b.clone()]);

        index.remove(&b);
        assert!(index.by_work_order("1").is_empty());
        assert_eq!(index.by_external_id("cn_1"), [a]);
        assert!(index.by_work_order("nope").is_empty() && index.by_external_id("nope").is_empty());
    }
}
