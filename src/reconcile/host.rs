//! The port through which the core reaches its runtime: status, finalizer, Secrets, mappings
//! and events. The Kubernetes runtime implements it over the API server; the local runtime over
//! an in-memory store.

use std::future::Future;
use std::sync::Arc;

use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus};

/// The runtime's own error, kept whole so its kind (a Kubernetes status, say) is not lost.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Something the runtime could not do. Messages never carry secret values.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    /// A cache the answer depends on has not listed its objects yet, so the answer is not
    /// known: not "missing". The runtime retries shortly; nothing is recorded or announced.
    #[error("the {cache} cache has not synced yet")]
    NotReady {
        /// Which cache, e.g. `CategoryMapping`.
        cache: &'static str,
    },
    /// The runtime's identity may not do this; a person must grant it.
    #[error("{action} is forbidden: the operator's ServiceAccount may not {permission}; {remedy}")]
    Forbidden {
        /// What was being done.
        action: String,
        /// The verb, resource and scope that are missing, e.g. `patch coveragebindings/status in
        /// namespace team-a`.
        permission: String,
        /// What to change.
        remedy: &'static str,
    },
    /// The binding went away while it was being reconciled.
    #[error("{0} no longer exists")]
    Gone(String),
    /// Anything else; it may pass by itself.
    #[error("{action}: {cause}")]
    Failed {
        /// What was being done.
        action: String,
        /// The runtime's error.
        #[source]
        cause: Cause,
    },
}

impl HostError {
    /// Whether trying again soon may succeed without a person acting.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Forbidden { .. })
    }
}

/// A notable moment for people watching the binding (a Kubernetes Event, a demo line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Warning (something a person should look at) or Normal.
    pub warning: bool,
    /// Stable PascalCase reason.
    pub reason: String,
    /// Human-readable text, the Event's message.
    pub message: String,
    /// When set, the notice is told at most once per binding and this value, however many
    /// replicas or retries arrive at it: the creation of an object, keyed by the object's id,
    /// is reported once even when a new leader finds it again through an idempotent replay.
    pub once_for: Option<String>,
}

impl Notice {
    /// A Normal notice.
    pub fn normal(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { warning: false, reason: reason.into(), message: message.into(), once_for: None }
    }

    /// A Warning notice.
    pub fn warning(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { warning: true, reason: reason.into(), message: message.into(), once_for: None }
    }

    /// The same notice, told only once for `id` (see [`Notice::once_for`]).
    pub fn once_for(self, id: impl Into<String>) -> Self {
        Self { once_for: Some(id.into()), ..self }
    }
}

/// What the core needs from its runtime.
pub trait Host: Send + Sync {
    /// Called before every external write; the first call for a binding must make sure its
    /// cleanup will run on deletion (the Kubernetes runtime adds its finalizer).
    fn before_write(&self, binding: &CoverageBinding) -> impl Future<Output = Result<(), HostError>> + Send;

    /// Persists the binding's status. The core calls it after each external write, before the
    /// next, so every new external id is recorded as soon as it exists.
    fn save_status(
        &self,
        binding: &CoverageBinding,
        status: &CoverageBindingStatus,
    ) -> impl Future<Output = Result<(), HostError>> + Send;

    /// One value of a Secret in the binding's namespace; `Ok(None)` when the Secret or key is
    /// missing.
    fn secret_value(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, HostError>> + Send;

    /// A CategoryMapping; `Ok(None)` only when it is known not to exist, and
    /// [`HostError::NotReady`] while that cannot be known yet.
    fn mapping(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<CategoryMapping>, HostError>> + Send;

    /// Tells people watching the binding.
    fn notify(&self, binding: &CoverageBinding, notice: Notice) -> impl Future<Output = ()> + Send;
}
