//! Insurance terms that the 1099Policy and WorkMarket clients and the custom resources all speak:
//! coverage types, policy and certificate states, how work pays. Kept apart from both so the
//! clients know nothing of Kubernetes and the resources nothing of HTTP.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A 1099Policy coverage type.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoverageType {
    /// General liability (`general`).
    #[serde(rename = "general")]
    General,
    /// Professional liability (`professional`).
    #[serde(rename = "professional")]
    Professional,
    /// Workers' compensation (`workers-comp`).
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

/// State of the 1099Policy policy covering the work order: active, cancelled or expired.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStatus {
    /// In force (`active`).
    Active,
    /// Cancelled before its end.
    Cancelled,
    /// Ran past its expiration date.
    Expired,
}

/// Review state of the bring-your-own certificate: pending, processing, approved, flagged,
/// denied or error.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    /// Uploaded, not yet reviewed.
    Pending,
    /// Being reviewed (`processing`): usually a minute or two, at worst about two hours.
    Processing,
    /// Meets the insurance requirement.
    Approved,
    /// Needs manual review.
    Flagged,
    /// Does not meet the insurance requirement.
    Denied,
    /// 1099Policy could not process the file.
    Error,
}

/// How the work order pays, in 1099Policy's terms: flatfee, hourly, unit or blended.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WageType {
    /// A fixed price for the whole work order.
    Flatfee,
    /// A rate per hour.
    Hourly,
    /// A price per unit.
    Unit,
    /// An hourly rate that changes after a number of hours.
    Blended,
}
