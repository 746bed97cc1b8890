//! The operator's caches of bindings and mappings, one set per watched scope, read through
//! their health: a lookup in a cache that has not listed yet is "not known yet", never "does
//! not exist".

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use super::cached::CachedBinding;
use super::health::{CacheHealth, Kind};
use crate::reconcile::HostError;
use crate::resources::{CategoryMapping, CoverageBindingSpec};

/// The caches of one watched scope.
#[derive(Clone)]
pub struct ScopeStores {
    /// `None`: all namespaces.
    pub namespace: Option<String>,
    /// Watch cache of the scope's CoverageBindings.
    pub bindings: Store<CachedBinding>,
    /// Watch cache of the scope's CategoryMappings.
    pub mappings: Store<CategoryMapping>,
}

/// Every scope's caches and their health.
pub struct Caches {
    scopes: Vec<ScopeStores>,
    /// How far each cache can be believed.
    pub health: Arc<CacheHealth>,
}

impl Caches {
    /// The caches of `scopes`, followed by `health`.
    pub fn new(scopes: Vec<ScopeStores>, health: Arc<CacheHealth>) -> Self {
        Self { scopes, health }
    }

    /// The mapping `namespace/name`: `Ok(None)` only when the cache has listed and it is not
    /// there.
    pub fn mapping(&self, namespace: &str, name: &str) -> Result<Option<Arc<CategoryMapping>>, HostError> {
        if !self.health.usable(Kind::Mappings, namespace) {
            return Err(HostError::NotReady { cache: "CategoryMapping" });
        }
        let key = ObjectRef::new(name).within(namespace);
        Ok(self.scopes.iter().find_map(|scope| scope.mappings.get(&key)))
    }

    /// The bindings in `namespace` whose spec `uses` selects.
    pub fn bindings_in(
        &self,
        namespace: &str,
        uses: impl Fn(&CoverageBindingSpec) -> bool,
    ) -> Vec<ObjectRef<CachedBinding>> {
        self.binding_stores()
            .flat_map(|store| store.state())
            .filter(|b| b.namespace().as_deref() == Some(namespace) && uses(&b.spec()))
            .map(|b| ObjectRef::from_obj(b.as_ref()))
            .collect()
    }

    /// Every binding cache.
    pub fn binding_stores(&self) -> impl Iterator<Item = &Store<CachedBinding>> {
        self.scopes.iter().map(|scope| &scope.bindings)
    }
}
