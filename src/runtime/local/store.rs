//! An in-memory store of coverbridge resources with the API server's bookkeeping: uid,
//! creationTimestamp, `metadata.generation` bumped only by spec changes, finalizers and
//! deletionTimestamp, and a status subresource that never touches the spec. Bindings are
//! indexed by work order and external id as they change, so webhooks find theirs without a scan.
//!
//! Like the API server, the store keeps each binding serialized (JSON) and hands out decoded
//! copies: a decoded binding takes about twice the memory, which counts at fleet scale. So, as
//! from the API server, times come back with whole seconds.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::ObjectMeta;

use crate::resources::ObjectKey;
pub use crate::resources::manifest::LoadError;
use crate::resources::manifest::{self, Manifest};
use crate::resources::{
    CategoryMapping, CategoryMappingStatus, CoverageBinding, CoverageBindingSpec, CoverageBindingStatus,
};
use crate::runtime::index::{Entry, Index};

/// Told about every binding status written, with the store's write lock held: it must be quick
/// and must not call back into the store.
pub type StatusObserver = Arc<dyn Fn(&ObjectKey, &CoverageBindingStatus) + Send + Sync>;

/// The resources of one local run. Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct Store {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    bindings: BTreeMap<ObjectKey, Slot>,
    index: Index,
    mappings: BTreeMap<ObjectKey, CategoryMapping>,
    secrets: BTreeMap<ObjectKey, BTreeMap<String, Vec<u8>>>,
    next_uid: u64,
    observer: Option<StatusObserver>,
}

/// A stored binding: `metadata`, `spec` and `status` each as JSON (a finalizer or a status
/// write touches only its own part), where the index holds it, and the shared key the index
/// refers to it by.
struct Slot {
    key: Arc<ObjectKey>,
    metadata: Box<[u8]>,
    spec: Box<[u8]>,
    status: Option<Box<[u8]>>,
    entry: Entry,
}

/// The JSON of `value`, in an allocation of its exact size (copied rather than shrunk in place,
/// which would leave the grown buffer's tail as a sliver between kept objects).
fn encode(value: &impl serde::Serialize) -> Box<[u8]> {
    Box::from(serde_json::to_vec(value).expect("resources serialize").as_slice())
}

fn decode<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
    serde_json::from_slice(json).expect("the store reads back what it wrote")
}

impl Slot {
    fn metadata(&self) -> ObjectMeta {
        decode(&self.metadata)
    }

    fn status(&self) -> Option<CoverageBindingStatus> {
        self.status.as_deref().map(decode)
    }

    fn binding(&self) -> CoverageBinding {
        CoverageBinding { metadata: self.metadata(), spec: decode(&self.spec), status: self.status() }
    }
}

/// What a YAML stream applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Keys of the CoverageBindings in the stream.
    pub bindings: Vec<ObjectKey>,
    /// Keys of the CategoryMappings in the stream.
    pub mappings: Vec<ObjectKey>,
    /// Keys of the Secrets in the stream.
    pub secrets: Vec<ObjectKey>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies every document of a YAML stream (CoverageBinding, CategoryMapping, Secret),
    /// placing namespace-less objects in `namespace`. Returns the keys of the bindings applied.
    pub fn load_yaml(&self, yaml: &str, namespace: &str) -> Result<Vec<ObjectKey>, LoadError> {
        self.load(yaml, namespace).map(|applied| applied.bindings)
    }

    /// [`Store::load_yaml`], reporting every kind applied.
    pub fn load(&self, yaml: &str, namespace: &str) -> Result<Applied, LoadError> {
        let mut applied = Applied::default();
        for manifest in manifest::parse(yaml, namespace)? {
            match manifest {
                Manifest::Binding(binding) => applied.bindings.push(self.apply_binding(*binding, namespace)),
                Manifest::Mapping(mapping) => applied.mappings.push(self.apply_mapping(*mapping, namespace)),
                Manifest::Secret(key, data) => {
                    self.write().secrets.insert(key.clone(), data);
                    applied.secrets.push(key);
                }
                Manifest::Other { kind, index } => {
                    let message = format!("kind: expected CoverageBinding, CategoryMapping or Secret, got {kind:?}");
                    return Err(LoadError { index, message });
                }
            }
        }
        Ok(applied)
    }

    /// Creates or updates a binding's metadata and spec, keeping its status.
    pub fn apply_binding(&self, mut binding: CoverageBinding, namespace: &str) -> ObjectKey {
        let mut inner = self.write();
        let inner = &mut *inner;
        let key = key_of(&binding.metadata, namespace);
        let uid = inner.mint_uid();
        let existing = inner.bindings.remove(&key);
        let old = existing.as_ref().map(Slot::metadata);
        admit(&mut binding.metadata, old.as_ref(), &key, uid);
        // Specs are compared as stored, as the API server compares them.
        let spec = encode(&binding.spec);
        if let (Some(old), Some(slot)) = (&old, &existing) {
            let changed = slot.spec != spec;
            binding.metadata.generation = old.generation.map(|g| if changed { g + 1 } else { g });
        }
        let status = existing.as_ref().and_then(|s| s.status.clone());
        let shared = existing.as_ref().map_or_else(|| Arc::new(key.clone()), |s| s.key.clone());
        let ids = existing.as_ref().map(|s| s.entry.ids.clone()).unwrap_or_default();
        let entry = Entry { work_order: binding.spec.work_order_id.as_str().into(), ids };
        inner.index.update(&shared, existing.as_ref().map(|s| &s.entry), Some(&entry));
        let slot = Slot { key: shared, metadata: encode(&binding.metadata), spec, status, entry };
        inner.bindings.insert(key.clone(), slot);
        key
    }

    /// Creates or updates a mapping's metadata and spec, keeping its status.
    pub fn apply_mapping(&self, mut mapping: CategoryMapping, namespace: &str) -> ObjectKey {
        let mut inner = self.write();
        let key = key_of(&mapping.metadata, namespace);
        let existing = inner.mappings.get(&key).cloned();
        let uid = inner.mint_uid();
        admit(&mut mapping.metadata, existing.as_ref().map(|m| &m.metadata), &key, uid);
        match existing {
            Some(old) => {
                let changed = old.spec != mapping.spec;
                mapping.metadata.generation = old.metadata.generation.map(|g| if changed { g + 1 } else { g });
                mapping.status = old.status;
            }
            None => mapping.status = None,
        }
        inner.mappings.insert(key.clone(), mapping);
        key
    }

    /// The binding at `key`, with its status; `None` when there is none.
    pub fn binding(&self, key: &ObjectKey) -> Option<CoverageBinding> {
        self.read().bindings.get(key).map(Slot::binding)
    }

    /// Every binding, in key order. Decodes the fleet: prefer [`Store::keys`],
    /// [`Store::keys_where`] or [`Store::count_where`] where they do.
    pub fn bindings(&self) -> Vec<CoverageBinding> {
        self.read().bindings.values().map(Slot::binding).collect()
    }

    /// How many bindings there are.
    pub fn binding_count(&self) -> usize {
        self.read().bindings.len()
    }

    /// The key of every binding, in key order.
    pub fn keys(&self) -> Vec<ObjectKey> {
        self.read().bindings.keys().cloned().collect()
    }

    /// The keys of the bindings `filter` selects by key and spec, in key order, one spec decoded
    /// at a time.
    pub fn keys_where(&self, mut filter: impl FnMut(&ObjectKey, &CoverageBindingSpec) -> bool) -> Vec<ObjectKey> {
        self.read().bindings.iter().filter(|(k, s)| filter(k, &decode(&s.spec))).map(|(k, _)| k.clone()).collect()
    }

    /// How many bindings `filter` selects by key and spec, one spec decoded at a time.
    pub fn count_where(&self, mut filter: impl FnMut(&ObjectKey, &CoverageBindingSpec) -> bool) -> usize {
        self.read().bindings.iter().filter(|(k, s)| filter(k, &decode(&s.spec))).count()
    }

    /// Bindings whose `spec.workOrderId` is `work_order_id`, from the index.
    pub fn by_work_order(&self, work_order_id: &str) -> Vec<ObjectKey> {
        let inner = self.read();
        let candidates = inner.index.by_work_order(work_order_id).iter();
        candidates
            .filter(|key| inner.bindings.get(key).is_some_and(|s| &*s.entry.work_order == work_order_id))
            .map(|key| ObjectKey::clone(key))
            .collect()
    }

    /// Bindings whose status holds `external_id`, from the index.
    pub fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey> {
        let inner = self.read();
        let holds = |s: &Slot| s.status().is_some_and(|st| st.external_ids().any(|id| id == external_id));
        let candidates = inner.index.by_external_id(external_id).iter();
        candidates.filter(|key| inner.bindings.get(key).is_some_and(holds)).map(|key| ObjectKey::clone(key)).collect()
    }

    /// Calls `observer` with every binding status written from now on (see [`StatusObserver`]).
    pub fn observe_status(&self, observer: StatusObserver) {
        self.write().observer = Some(observer);
    }

    /// The mapping at `key`, with its status; `None` when there is none.
    pub fn mapping(&self, key: &ObjectKey) -> Option<CategoryMapping> {
        self.read().mappings.get(key).cloned()
    }

    /// Every mapping, in key order.
    pub fn mappings(&self) -> Vec<CategoryMapping> {
        self.read().mappings.values().cloned().collect()
    }

    /// One value of a Secret.
    pub fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Option<Vec<u8>> {
        let secret_key = ObjectKey::new(namespace, name);
        self.read().secrets.get(&secret_key).and_then(|data| data.get(key).cloned())
    }

    /// Replaces a binding's status (the status subresource). `false` when the binding is gone.
    pub fn set_binding_status(&self, key: &ObjectKey, status: CoverageBindingStatus) -> bool {
        let mut inner = self.write();
        let inner = &mut *inner;
        let Some(slot) = inner.bindings.get_mut(key) else { return false };
        let entry = inner.index.entry(&slot.entry.work_order, Some(&status));
        inner.index.update(&slot.key, Some(&slot.entry), Some(&entry));
        slot.entry = entry;
        slot.status = Some(encode(&status));
        if let Some(observer) = &inner.observer {
            observer(key, &status);
        }
        true
    }

    /// Replaces a mapping's status. `false` when the mapping is gone.
    pub fn set_mapping_status(&self, key: &ObjectKey, status: CategoryMappingStatus) -> bool {
        match self.write().mappings.get_mut(key) {
            Some(mapping) => {
                mapping.status = Some(status);
                true
            }
            None => false,
        }
    }

    /// Adds a finalizer to a binding (idempotent).
    pub fn add_finalizer(&self, key: &ObjectKey, finalizer: &str) {
        let mut inner = self.write();
        let Some(slot) = inner.bindings.get_mut(key) else { return };
        let mut metadata = slot.metadata();
        let finalizers = metadata.finalizers.get_or_insert_with(Vec::new);
        if !finalizers.iter().any(|f| f == finalizer) {
            finalizers.push(finalizer.to_owned());
            slot.metadata = encode(&metadata);
        }
    }

    /// Removes a finalizer; a binding marked for deletion goes once none is left.
    pub fn remove_finalizer(&self, key: &ObjectKey, finalizer: &str) {
        let mut inner = self.write();
        let Some(slot) = inner.bindings.get_mut(key) else {
            return;
        };
        let mut metadata = slot.metadata();
        if let Some(finalizers) = metadata.finalizers.as_mut() {
            finalizers.retain(|f| f != finalizer);
        }
        let done = metadata.finalizers.as_ref().is_none_or(Vec::is_empty);
        if done && metadata.deletion_timestamp.is_some() {
            inner.remove_binding(key);
        } else {
            slot.metadata = encode(&metadata);
        }
    }

    /// Deletes a binding as the API server does: at once without finalizers, otherwise by
    /// setting deletionTimestamp and waiting for them to be removed.
    pub fn delete_binding(&self, key: &ObjectKey) {
        let mut inner = self.write();
        let Some(slot) = inner.bindings.get_mut(key) else {
            return;
        };
        let mut metadata = slot.metadata();
        if metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
            inner.remove_binding(key);
        } else if metadata.deletion_timestamp.is_none() {
            metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
            slot.metadata = encode(&metadata);
        }
    }
}

impl Inner {
    fn remove_binding(&mut self, key: &ObjectKey) {
        if let Some(slot) = self.bindings.remove(key) {
            self.index.update(&slot.key, Some(&slot.entry), None);
        }
    }

    fn mint_uid(&mut self) -> String {
        self.next_uid += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_uid)
    }
}

fn key_of(metadata: &ObjectMeta, namespace: &str) -> ObjectKey {
    ObjectKey::new(metadata.namespace.as_deref().unwrap_or(namespace), metadata.name.as_deref().unwrap_or_default())
}

/// Fills in what the API server owns: namespace, uid, creationTimestamp, generation.
fn admit(metadata: &mut ObjectMeta, existing: Option<&ObjectMeta>, key: &ObjectKey, fresh_uid: String) {
    metadata.namespace = Some(key.namespace.clone());
    match existing {
        Some(old) => {
            metadata.uid = old.uid.clone();
            metadata.creation_timestamp = old.creation_timestamp.clone();
            metadata.finalizers = old.finalizers.clone();
            metadata.deletion_timestamp = old.deletion_timestamp.clone();
        }
        None => {
            metadata.uid = Some(fresh_uid);
            metadata.creation_timestamp = Some(Time(jiff::Timestamp::now()));
            metadata.generation = Some(1);
        }
    }
}

/// Deserializes a manifest into its type, naming the field on failure.
#[cfg(test)]
mod tests {
    use super::*;

    const BINDING: &str = r#"
apiVersion: coverbridge.io/v1alpha1
kind: CoverageBinding
metadata: {name: b1}
spec: {workOrderId: "1", coverageTypes: [general]}
---
apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: other}
data: {pdf: JVBERi0=}
stringData: {note: hello}
"#;

    #[test]
    fn loads_manifests_with_server_side_metadata() {
        let store = Store::new();
        let keys = store.load_yaml(BINDING, "demo").unwrap();
        assert_eq!(keys, [ObjectKey::new("demo", "b1")]);
        let binding = store.binding(&keys[0]).unwrap();
        assert_eq!(binding.metadata.generation, Some(1));
        assert!(binding.metadata.uid.is_some() && binding.metadata.creation_timestamp.is_some());
        assert_eq!(store.secret_value("other", "s1", "pdf").unwrap(), b"%PDF-");
        assert_eq!(store.secret_value("other", "s1", "note").unwrap(), b"hello");
    }

    #[test]
    fn a_kind_the_store_does_not_hold_is_refused_naming_its_document() {
        let yaml = format!("{BINDING}---\nkind: Deployment\nmetadata: {{name: d}}\n");
        let error = Store::new().load_yaml(&yaml, "demo").unwrap_err();
        assert_eq!(error.index, 3, "after the binding and the Secret: {error}");
        assert!(error.message.contains("got \"Deployment\""), "{error}");
    }

    #[test]
    fn generation_moves_with_spec_changes_only_and_status_survives_updates() {
        let store = Store::new();
        let key = store.load_yaml(BINDING, "demo").unwrap().remove(0);
        let uid = store.binding(&key).unwrap().metadata.uid;
        store.set_binding_status(&key, CoverageBindingStatus { observed_generation: Some(1), ..Default::default() });
        store.load_yaml(BINDING, "demo").unwrap();
        let same = store.binding(&key).unwrap();
        assert_eq!((same.metadata.generation, same.metadata.uid.clone()), (Some(1), uid.clone()));
        assert_eq!(same.status.unwrap().observed_generation, Some(1));
        store.load_yaml(&BINDING.replace("[general]", "[general, cyber]"), "demo").unwrap();
        let changed = store.binding(&key).unwrap();
        assert_eq!((changed.metadata.generation, changed.metadata.uid), (Some(2), uid));
    }

    #[test]
    fn reapplying_times_with_fractions_is_no_spec_change() {
        // Stored specs keep times to the second; the same manifest again must not look changed.
        let invoice = "[general], invoice: {grossPay: 12500, paycycleStart: \"2026-01-05T00:00:00.5Z\", paycycleEnd: \"2026-01-11T00:00:00Z\"}";
        let manifest = BINDING.replace("[general]", invoice);
        let store = Store::new();
        let key = store.load_yaml(&manifest, "demo").unwrap().remove(0);
        store.load_yaml(&manifest, "demo").unwrap();
        assert_eq!(store.binding(&key).unwrap().metadata.generation, Some(1));
    }

    #[test]
    fn deletion_waits_for_finalizers() {
        let store = Store::new();
        let key = store.load_yaml(BINDING, "demo").unwrap().remove(0);
        store.add_finalizer(&key, "coverbridge.io/cleanup");
        store.delete_binding(&key);
        assert!(store.binding(&key).unwrap().metadata.deletion_timestamp.is_some());
        store.remove_finalizer(&key, "coverbridge.io/cleanup");
        assert!(store.binding(&key).is_none());
    }

    #[test]
    fn the_index_follows_applies_status_writes_and_deletions() {
        let store = Store::new();
        let key = store.load_yaml(BINDING, "demo").unwrap().remove(0);
        assert_eq!(store.by_work_order("1"), std::slice::from_ref(&key));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        store.observe_status(Arc::new(move |key: &ObjectKey, status: &CoverageBindingStatus| {
            log.lock().unwrap().push((key.name.clone(), status.quote_id.clone()))
        }));
        let status = CoverageBindingStatus { quote_id: Some("qt_1".into()), ..Default::default() };
        assert!(store.set_binding_status(&key, status));
        assert_eq!(store.by_external_id("qt_1"), std::slice::from_ref(&key));
        assert_eq!(*seen.lock().unwrap(), [("b1".to_owned(), Some("qt_1".to_owned()))]);
        assert_eq!(store.keys(), std::slice::from_ref(&key));
        assert_eq!(store.keys_where(|_, spec| spec.work_order_id == "1"), std::slice::from_ref(&key));
        assert_eq!((store.binding_count(), store.count_where(|_, spec| spec.work_order_id == "2")), (1, 0));

        store.add_finalizer(&key, "f");
        store.delete_binding(&key);
        assert_eq!(store.by_work_order("1"), std::slice::from_ref(&key), "still there until its finalizer goes");
        store.remove_finalizer(&key, "f");
        assert!(store.by_work_order("1").is_empty() && store.by_external_id("qt_1").is_empty());
        assert!(!store.set_binding_status(&key, CoverageBindingStatus::default()));
    }

    #[test]
    fn bad_manifests_name_document_and_field() {
        let store = Store::new();
        let bad = BINDING.replace("[general]", "[flood]");
        let error = store.load_yaml(&bad, "demo").unwrap_err();
        assert_eq!(error.index, 1);
        assert!(error.message.contains("spec.coverageTypes[0]") && error.message.contains("flood"), "{error}");
        let error = store.load_yaml("kind: ConfigMap\nmetadata: {name: x}\n", "demo").unwrap_err();
        assert!(error.message.starts_with("kind:"), "{error}");
    }
}
