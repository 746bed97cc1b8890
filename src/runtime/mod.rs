//! The runtimes that drive the reconcile core: `local` (in-memory, for the demo and tests) and,
//! later, `kube` (the operator).

pub mod local;
