//! The local runtime: the reconcile core over an in-memory store, used by `coverbridge demo`.

mod store;

pub use store::{LoadError, Store};
