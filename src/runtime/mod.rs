//! The runtimes that drive the reconcile core: `kube` (the operator, over the Kubernetes API)
//! and `local` (an in-memory store, for the demo and tests).

mod backoff;
mod index;
pub mod kube;
pub mod local;

pub use backoff::ReconcileBackoff;
