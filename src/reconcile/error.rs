//! Why a reconcile failed, with a stable category that doubles as the `Synced` condition's
//! reason, the Event reason and a metric label.

use std::fmt;

use super::host::HostError;
use crate::resources::StepKind;
use crate::ten99policy::Ten99PolicyError;
use crate::workmarket::WorkMarketError;

/// A failed reconcile.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Reading the work order failed.
    #[error("{0}")]
    WorkMarket(#[from] WorkMarketError),
    /// A 1099Policy call failed.
    #[error("{call}: {error}")]
    Ten99Policy {
        /// The write or read that failed.
        call: Ten99Call,
        /// What 1099Policy said.
        error: Ten99PolicyError,
    },
    /// The runtime could not read or write what the core needed.
    #[error("{0}")]
    Host(#[from] HostError),
}

/// A 1099Policy call the core makes: one of its writes, or a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ten99Call {
    /// A step's write.
    Write(StepKind),
    /// One of the reads, named by what it reads.
    Read(Ten99Read),
}

/// The reads the core makes of 1099Policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ten99Read {
    /// A policy by id.
    Policy,
    /// The policies bought on a quote.
    PoliciesOfQuote,
    /// A quote by id.
    Quote,
    /// An application session by id.
    Session,
    /// An assignment by id.
    Assignment,
    /// An uploaded certificate by id.
    Certificate,
    /// Contractors by e-mail.
    ContractorsByEmail,
    /// The job category codes.
    CategoryCodes,
    /// An entity by id.
    Entity,
    /// The newest objects of a kind, to find what a lost create made.
    Recent(StepKind),
}

impl fmt::Display for Ten99Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Write(kind) => write!(f, "{kind}"),
            Self::Read(Ten99Read::Policy) => f.write_str("read policy"),
            Self::Read(Ten99Read::PoliciesOfQuote) => f.write_str("list policies"),
            Self::Read(Ten99Read::Quote) => f.write_str("read quote"),
            Self::Read(Ten99Read::Session) => f.write_str("read session"),
            Self::Read(Ten99Read::Assignment) => f.write_str("read assignment"),
            Self::Read(Ten99Read::Certificate) => f.write_str("read certificate"),
            Self::Read(Ten99Read::ContractorsByEmail) => f.write_str("find contractor"),
            Self::Read(Ten99Read::CategoryCodes) => f.write_str("list category codes"),
            Self::Read(Ten99Read::Entity) => f.write_str("read entity"),
            Self::Read(Ten99Read::Recent(kind)) => write!(f, "look for the {kind} an earlier attempt made"),
        }
    }
}

/// The kind of a failure, in words people and dashboards share: the `Synced` reason, the Event
/// reason and the `result` label of `coverbridge_reconciles_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// WorkMarket did not answer, or answered with a transient error.
    WorkMarketUnavailable,
    /// WorkMarket refused the request.
    WorkMarketRejected,
    /// 1099Policy did not answer, or answered with a transient error.
    Ten99PolicyUnavailable,
    /// 1099Policy refused the request.
    Ten99PolicyRejected,
    /// The operator's ServiceAccount lacks a permission.
    Forbidden,
    /// The operator's caches are still listing; nothing was decided.
    CachesSyncing,
    /// The Kubernetes API (or the local store) failed.
    RuntimeError,
}

impl ErrorCategory {
    /// The PascalCase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkMarketUnavailable => "WorkMarketUnavailable",
            Self::WorkMarketRejected => "WorkMarketRejected",
            Self::Ten99PolicyUnavailable => "Ten99PolicyUnavailable",
            Self::Ten99PolicyRejected => "Ten99PolicyRejected",
            Self::Forbidden => "Forbidden",
            Self::CachesSyncing => "CachesSyncing",
            Self::RuntimeError => "RuntimeError",
        }
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ReconcileError {
    /// The failure's category.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::WorkMarket(e) if e.is_retryable() => ErrorCategory::WorkMarketUnavailable,
            Self::WorkMarket(_) => ErrorCategory::WorkMarketRejected,
            Self::Ten99Policy { error, .. } if error.is_retryable() => ErrorCategory::Ten99PolicyUnavailable,
            Self::Ten99Policy { .. } => ErrorCategory::Ten99PolicyRejected,
            Self::Host(HostError::Forbidden { .. }) => ErrorCategory::Forbidden,
            Self::Host(HostError::NotReady { .. }) => ErrorCategory::CachesSyncing,
            Self::Host(_) => ErrorCategory::RuntimeError,
        }
    }

    /// Whether trying again soon may succeed without a person acting.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WorkMarket(e) => e.is_retryable(),
            Self::Ten99Policy { error, .. } => error.is_retryable(),
            Self::Host(e) => e.is_retryable(),
        }
    }

    /// Whether the failure only means "not yet": a cache still listing. Such a failure is not
    /// recorded in status nor announced; the runtime simply looks again shortly.
    pub fn is_not_ready(&self) -> bool {
        matches!(self, Self::Host(HostError::NotReady { .. }))
    }

    /// The error of a failed write of `kind`.
    pub(crate) fn writing(kind: StepKind) -> impl FnOnce(Ten99PolicyError) -> Self {
        move |error| Self::Ten99Policy { call: Ten99Call::Write(kind), error }
    }

    /// The error of a failed read.
    pub(crate) fn reading(read: Ten99Read) -> impl FnOnce(Ten99PolicyError) -> Self {
        move |error| Self::Ten99Policy { call: Ten99Call::Read(read), error }
    }
}
