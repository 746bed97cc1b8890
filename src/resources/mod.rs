//! The custom resources users declare: their types, condition names and generated CRDs.
//!
//! API group `coverbridge.io`, version `v1alpha1`. CRD YAML is generated from these types by
//! `coverbridge crds` and never edited by hand.

mod binding;
mod conditions;
pub mod crds;
mod key;
pub mod manifest;
mod mapping;
mod steps;

pub use binding::*;
pub use conditions::ConditionType;
pub use key::ObjectKey;
pub use mapping::*;
pub use steps::StepKind;

// The insurance terms the resources speak are the clients' too; they live with neither.
pub use crate::insurance::{CertificateStatus, CoverageType, PolicyStatus, WageType};

/// API group of every coverbridge resource.
pub const GROUP: &str = "coverbridge.io";
/// API version of every coverbridge resource.
pub const VERSION: &str = "v1alpha1";
