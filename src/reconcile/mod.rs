//! The reconcile core: observe → decide → act → record, with no Kubernetes in it.

mod act;
mod adopt;
pub mod conditions;
mod error;
pub mod facts;
pub mod forecast;
mod host;
pub mod keys;
mod listings;
pub mod mapping;
pub mod observe;
pub mod plan;
mod reconciler;
mod record;
pub mod steps;

pub use act::Outcome;
pub use error::{ErrorCategory, ReconcileError, Ten99Call, Ten99Read};
pub use host::{Host, HostError, Notice};
pub use reconciler::{DEFAULT_LISTINGS_TTL, Next, Reconciler, Settings};
// The core names bindings by the resources' key.
pub use crate::resources::ObjectKey;
