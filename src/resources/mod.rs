//! The custom resources users declare: their types, condition names and generated CRDs.
//!
//! API group `coverbridge.io`, version `v1alpha1`. CRD YAML is generated from these types by
//! `coverbridge crds` and never edited by hand.

mod binding;
mod conditions;
pub mod crds;
mod mapping;
mod steps;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use binding::*;
pub use conditions::ConditionType;
pub use mapping::*;
pub use steps::StepKind;

/// API group of every coverbridge resource.
pub const GROUP: &str = "coverbridge.io";
/// API version of every coverbridge resource.
pub const VERSION: &str = "v1alpha1";

/// A 1099Policy coverage type.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoverageType {
    /// General liability.
    #[serde(rename = "general")]
    General,
    /// Professional liability.
    #[serde(rename = "professional")]
    Professional,
    /// Workers' compensation.
    #[serde(rename = "workers-comp")]
    WorkersComp,
    /// Media liability (needs general).
    #[serde(rename = "media")]
    Media,
    /// Cyber liability (needs general).
    #[serde(rename = "cyber")]
    Cyber,
}

impl CoverageType {
    /// The name 1099Policy and the CRD use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::General => "general",
            Self::Professional => "professional",
            Self::WorkersComp => "workers-comp",
            Self::Media => "media",
            Self::Cyber => "cyber",
        }
    }
}
