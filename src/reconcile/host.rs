//! The port through which the core reaches its runtime: status, finalizer, Secrets, mappings
//! and events. The Kubernetes runtime implements it over the API server; the local runtime over
//! an in-memory store.

use std::future::Future;

use crate::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus};

/// Something the runtime could not do. The message never carries secret values.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HostError(pub String);

/// A notable moment for people watching the binding (a Kubernetes Event, a demo line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Warning (something a person should look at) or Normal.
    pub warning: bool,
    /// Stable PascalCase reason.
    pub reason: String,
    /// What happened.
    pub message: String,
}

impl Notice {
    /// A Normal notice.
    pub fn normal(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { warning: false, reason: reason.into(), message: message.into() }
    }

    /// A Warning notice.
    pub fn warning(reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self { warning: true, reason: reason.into(), message: message.into() }
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

    /// A CategoryMapping; `Ok(None)` when it does not exist.
    fn mapping(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<CategoryMapping>, HostError>> + Send;

    /// Tells people watching the binding.
    fn notify(&self, binding: &CoverageBinding, notice: Notice) -> impl Future<Output = ()> + Send;
}
