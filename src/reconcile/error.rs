//! Why a reconcile failed, with a stable category that doubles as the `Synced` condition's
//! reason, the Event reason and a metric label.

use super::host::HostError;
use crate::ten99policy::Ten99PolicyError;
use crate::workmarket::WorkMarketError;

/// A failed reconcile.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Reading the work order failed.
    #[error("{0}")]
    WorkMarket(#[from] WorkMarketError),
    /// A 1099Policy call failed.
    #[error("{step}: {error}")]
    Ten99Policy {
        /// The step or read that failed.
        step: &'static str,
        /// What 1099Policy said.
        error: Ten99PolicyError,
    },
    /// The runtime could not read or write what the core needed.
    #[error("{0}")]
    Host(#[from] HostError),
}

impl ReconcileError {
    /// Stable PascalCase category.
    pub fn category(&self) -> &'static str {
        match self {
            Self::WorkMarket(e) if e.is_retryable() => "WorkMarketUnavailable",
            Self::WorkMarket(_) => "WorkMarketRejected",
            Self::Ten99Policy { error, .. } if error.is_retryable() => "Ten99PolicyUnavailable",
            Self::Ten99Policy { .. } => "Ten99PolicyRejected",
            Self::Host(_) => "RuntimeError",
        }
    }

    /// Whether trying again soon may succeed without a person acting.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WorkMarket(e) => e.is_retryable(),
            Self::Ten99Policy { error, .. } => error.is_retryable(),
            Self::Host(_) => true,
        }
    }

    pub(crate) fn ten99(step: &'static str) -> impl FnOnce(Ten99PolicyError) -> Self {
        move |error| Self::Ten99Policy { step, error }
    }
}
