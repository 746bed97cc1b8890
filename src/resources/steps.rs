//! The kinds of external write a binding's reconcile makes. Status records failed create
//! attempts by kind, idempotency keys and error messages name it, metrics label by it.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One kind of 1099Policy write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Create the contractor.
    Contractor,
    /// Upload the worker's own certificate.
    Certificate,
    /// Create the job.
    Job,
    /// Update the job's terms.
    JobUpdate,
    /// Create the quote.
    Quote,
    /// Start the insurance application.
    Session,
    /// Create the assignment.
    Assignment,
    /// Extend the assignment.
    AssignmentExtend,
    /// Cancel the assignment.
    AssignmentCancel,
    /// Expire the application.
    SessionExpire,
    /// Record the invoice.
    Invoice,
}

impl StepKind {
    /// The stable name, as in status and idempotency keys (changing it would change every key).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contractor => "contractor",
            Self::Certificate => "certificate",
            Self::Job => "job",
            Self::JobUpdate => "job-update",
            Self::Quote => "quote",
            Self::Session => "session",
            Self::Assignment => "assignment",
            Self::AssignmentExtend => "assignment-extend",
            Self::AssignmentCancel => "assignment-cancel",
            Self::SessionExpire => "session-expire",
            Self::Invoice => "invoice",
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_name_is_the_stable_name() {
        for kind in [StepKind::Contractor, StepKind::JobUpdate, StepKind::AssignmentExtend, StepKind::SessionExpire] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
