//! The audit's judgement of one work order, pure: how it is covered and whether that covered the
//! work from its start to its end.

use jiff::Timestamp;
use serde::Serialize;

use crate::resources::{CertificateStatus, PolicyStatus};
use crate::workmarket::WorkOrderStatus;

/// A stretch of time; an open end is unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Term {
    /// When it starts.
    pub start: Option<Timestamp>,
    /// When it ends.
    pub end: Option<Timestamp>,
}

/// What 1099Policy shows covering a work order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Cover {
    /// A policy bought for this work order's job.
    Policy {
        /// `pl_…`.
        id: String,
        /// Its status now.
        status: PolicyStatus,
        /// Its effective and expiration dates.
        term: Term,
    },
    /// An assignment of the job under a policy the contractor already held.
    Assignment {
        /// `an_…`.
        id: String,
        /// The policy it falls under, and that policy's status when known.
        policy: Option<(String, Option<PolicyStatus>)>,
        /// The assignment's own dates.
        term: Term,
        /// Cancelled before it started.
        cancelled: bool,
    },
    /// The worker's own certificate, reviewed by 1099Policy.
    Certificate {
        /// `ci_…`.
        id: String,
        /// Its review state.
        status: CertificateStatus,
    },
    /// Nothing.
    None,
}

/// The audit's word on one work order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Coverage in force from before the work started until after it ended.
    CoveredWholeWindow,
    /// Coverage came, but after the work had started.
    CoveredLate,
    /// No coverage, or none in force for the work (cancelled, denied, ended early).
    NotCovered,
    /// The work order was called off; nothing needed covering.
    Cancelled,
}

impl Verdict {
    /// How the table and CSV say it.
    pub fn words(self) -> &'static str {
        match self {
            Self::CoveredWholeWindow => "covered for the whole window",
            Self::CoveredLate => "covered late",
            Self::NotCovered => "not covered",
            Self::Cancelled => "cancelled",
        }
    }
}

impl Cover {
    /// How it is covered, in the audit's words.
    pub fn how(&self) -> &'static str {
        match self {
            Self::Policy { .. } => "policy",
            Self::Assignment { .. } => "assignment under policy",
            Self::Certificate { status: CertificateStatus::Approved, .. } => "approved certificate",
            Self::Certificate { .. } => "certificate not approved",
            Self::None => "not covered",
        }
    }
}

/// The verdict on work in `status` scheduled over `work` with `cover`.
pub fn verdict(status: &WorkOrderStatus, work: Term, cover: &Cover) -> Verdict {
    if status.is_called_off() {
        return Verdict::Cancelled;
    }
    match cover {
        Cover::None => Verdict::NotCovered,
        Cover::Certificate { status, .. } => {
            if *status == CertificateStatus::Approved {
                Verdict::CoveredWholeWindow
            } else {
                Verdict::NotCovered
            }
        }
        Cover::Policy { status: PolicyStatus::Cancelled, .. } => Verdict::NotCovered,
        Cover::Policy { term, .. } => spans(*term, work),
        Cover::Assignment { cancelled: true, .. } => Verdict::NotCovered,
        Cover::Assignment { policy: Some((_, Some(PolicyStatus::Cancelled))), .. } => Verdict::NotCovered,
        Cover::Assignment { term, .. } => spans(*term, work),
    }
}

/// Whether a term covers the work: from its start (else late) to its end (else not at all for
/// the rest of it). An unknown end on either side is not held against the coverage.
fn spans(term: Term, work: Term) -> Verdict {
    let ended_early = matches!((term.end, work.end), (Some(cover), Some(work)) if cover < work);
    let started_late = matches!((term.start, work.start), (Some(cover), Some(work)) if cover > work);
    match (ended_early, started_late) {
        (true, _) => Verdict::NotCovered,
        (false, true) => Verdict::CoveredLate,
        (false, false) => Verdict::CoveredWholeWindow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Option<Timestamp> {
        Some(Timestamp::from_second(1_800_000_000 + hours * 3600).unwrap())
    }

    fn term(start: i64, end: i64) -> Term {
        Term { start: at(start), end: at(end) }
    }

    fn policy(status: PolicyStatus, term: Term) -> Cover {
        Cover::Policy { id: "pl_1".into(), status, term }
    }

    #[test]
    fn coverage_is_judged_against_the_work_window() {
        let work = term(10, 20);
        let active = WorkOrderStatus::Active;
        assert_eq!(verdict(&active, work, &policy(PolicyStatus::Active, term(9, 30))), Verdict::CoveredWholeWindow);
        assert_eq!(verdict(&active, work, &policy(PolicyStatus::Active, term(10, 20))), Verdict::CoveredWholeWindow);
        assert_eq!(verdict(&active, work, &policy(PolicyStatus::Active, term(12, 30))), Verdict::CoveredLate);
        assert_eq!(verdict(&active, work, &policy(PolicyStatus::Expired, term(9, 15))), Verdict::NotCovered);
        assert_eq!(verdict(&active, work, &policy(PolicyStatus::Expired, term(9, 25))), Verdict::CoveredWholeWindow);
        assert_eq!(verdict(&active, work, &policy(PolicyStatus::Cancelled, term(9, 30))), Verdict::NotCovered);
        assert_eq!(verdict(&active, work, &Cover::None), Verdict::NotCovered);
        let open = Term { start: None, end: None };
        assert_eq!(verdict(&active, open, &policy(PolicyStatus::Active, term(9, 30))), Verdict::CoveredWholeWindow);
    }

    #[test]
    fn assignments_certificates_and_called_off_work() {
        let work = term(10, 20);
        let assignment = |cancelled, policy_status| Cover::Assignment {
            id: "an_1".into(),
            policy: Some(("pl_1".into(), policy_status)),
            term: term(9, 21),
            cancelled,
        };
        let paid = WorkOrderStatus::Paid;
        assert_eq!(verdict(&paid, work, &assignment(false, Some(PolicyStatus::Active))), Verdict::CoveredWholeWindow);
        assert_eq!(verdict(&paid, work, &assignment(true, Some(PolicyStatus::Active))), Verdict::NotCovered);
        assert_eq!(verdict(&paid, work, &assignment(false, Some(PolicyStatus::Cancelled))), Verdict::NotCovered);
        assert_eq!(verdict(&paid, work, &assignment(false, None)), Verdict::CoveredWholeWindow);
        let certificate = |status| Cover::Certificate { id: "ci_1".into(), status };
        assert_eq!(verdict(&paid, work, &certificate(CertificateStatus::Approved)), Verdict::CoveredWholeWindow);
        assert_eq!(verdict(&paid, work, &certificate(CertificateStatus::Flagged)), Verdict::NotCovered);
        assert_eq!(certificate(CertificateStatus::Flagged).how(), "certificate not approved");
        for called_off in [WorkOrderStatus::Cancelled, WorkOrderStatus::Void] {
            assert_eq!(verdict(&called_off, work, &Cover::None), Verdict::Cancelled);
        }
    }
}
