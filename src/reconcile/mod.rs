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
// The core names bindings by the resources' key.
pub use crate::resources::ObjectKey;
