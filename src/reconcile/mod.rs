//! The reconcile core: observe → decide → act → record, with no Kubernetes in it.

mod act;
mod adopt;
pub mod conditions;
mod error;
pub mod facts;
mod host;
pub mod keys;
pub mod mapping;
pub mod observe;
pub mod plan;
mod reconciler;
mod record;
pub mod steps;

pub use act::Outcome;
pub use error::{ErrorCategory, ReconcileError, Ten99Call, Ten99Read};
pub use host::{Host, HostError, Notice};
pub use reconciler::{Next, Reconciler, Settings};
use std::fmt;

use kube::ResourceExt;

/// Namespace and name of a namespaced object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// A key from its parts.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self { namespace: namespace.into(), name: name.into() }
    }

    /// The key of a stored object.
    pub fn of(object: &impl ResourceExt) -> Self {
        Self::new(object.namespace().unwrap_or_default(), object.name_any())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}
