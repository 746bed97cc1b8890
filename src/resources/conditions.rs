//! The condition types a CoverageBinding or CategoryMapping reports. The names are part of the
//! contract (DESIGN §1): dashboards, alerts and `kubectl wait` depend on them.

use std::fmt;

/// A condition type, as it appears in `status.conditions[].type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConditionType {
    /// True iff the phase is Bound or Completed.
    Ready,
    /// The last reconcile succeeded; False carries the error category and the API's message.
    Synced,
    /// A policy or assignment covering the work order is in force.
    Insured,
    /// The bring-your-own certificate passed review.
    CertificateValid,
    /// The work order is in progress and nothing covers it.
    WorkStartedUninsured,
    /// No job category code could be chosen for the work order.
    CategoryUnmapped,
    /// The worker's e-mail belongs to a 1099Policy contractor for someone else.
    ContractorConflict,
    /// A value 1099Policy requires for the contractor is missing.
    ContractorIncomplete,
    /// WorkMarket shows a different worker than spec.workerId.
    WorkerMismatch,
    /// The coverage start was moved to the earliest date 1099Policy accepts.
    EffectiveDateClamped,
}

impl ConditionType {
    /// Every condition type, in a stable order.
    pub const ALL: [ConditionType; 10] = [
        Self::Ready,
        Self::Synced,
        Self::Insured,
        Self::CertificateValid,
        Self::WorkStartedUninsured,
        Self::CategoryUnmapped,
        Self::ContractorConflict,
        Self::ContractorIncomplete,
        Self::WorkerMismatch,
        Self::EffectiveDateClamped,
    ];

    /// The type's name in `status.conditions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::Synced => "Synced",
            Self::Insured => "Insured",
            Self::CertificateValid => "CertificateValid",
            Self::WorkStartedUninsured => "WorkStartedUninsured",
            Self::CategoryUnmapped => "CategoryUnmapped",
            Self::ContractorConflict => "ContractorConflict",
            Self::ContractorIncomplete => "ContractorIncomplete",
            Self::WorkerMismatch => "WorkerMismatch",
            Self::EffectiveDateClamped => "EffectiveDateClamped",
        }
    }
}

impl fmt::Display for ConditionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
