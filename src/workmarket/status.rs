//! Work-order status codes: WorkMarket's internal codes (reference §4.2), as `/get`, list rows
//! and the webhook `${status}` variable report them.

use std::fmt;

/// A WorkMarket work-order status. `/get` reports `in_progress` for an assigned work order the
/// worker has checked into; webhooks report the raw `active` for the same state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WorkOrderStatus {
    /// Not yet sent to workers.
    Draft,
    /// Routed to workers; nobody assigned yet.
    Sent,
    /// Declined by every worker it was sent to.
    Declined,
    /// A worker accepted or was assigned ("Assigned" in the UI).
    Active,
    /// Assigned and started: checked in, or past its start without requiring check-in.
    InProgress,
    /// The worker submitted it ("Pending Approval").
    Complete,
    /// Approved and invoiced, awaiting payment.
    PaymentPending,
    /// Paid (`paid`): the worker's invoice was paid.
    Paid,
    /// Cancelled after assignment.
    Cancelled,
    /// Cancelled after assignment, with a cancellation payment still to be made.
    CancelledPayPending,
    /// Cancelled after assignment, with a cancellation payment made.
    CancelledWithPay,
    /// Voided before assignment.
    Void,
    /// Refunded (`refunded`) after payment.
    Refunded,
    /// Deleted (drafts only).
    Deleted,
    /// The worker abandoned it.
    Abandoned,
    /// Briefly, while approval is processed.
    Closed,
    /// A virtual status of sent work orders workers can still take.
    Available,
    /// A virtual status: a worker applied.
    Applied,
    /// A virtual status: a worker asked a question.
    SentOpenQuestion,
    /// A virtual status: a counteroffer is pending.
    SentOpenNegotiation,
    /// A pseudo status: the work order carries an alert label.
    Exception,
    /// A code this version does not know, kept verbatim.
    Other(String),
}

impl WorkOrderStatus {
    /// Reads a status code. Accepts WorkMarket's spellings of the same status (`in_progress`
    /// and `inprogress`, `paymentPending` and `payment_pending`) in any case.
    pub fn parse(code: &str) -> Self {
        let key: String =
            code.trim().chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect();
        match key.as_str() {
            "draft" => Self::Draft,
            "sent" => Self::Sent,
            "declined" => Self::Declined,
            "active" | "assigned" => Self::Active,
            "inprogress" => Self::InProgress,
            "complete" | "pendingapproval" => Self::Complete,
            "paymentpending" => Self::PaymentPending,
            "paid" => Self::Paid,
            "cancelled" | "canceled" => Self::Cancelled,
            "cancelledpaypending" => Self::CancelledPayPending,
            "cancelledwithpay" => Self::CancelledWithPay,
            "void" | "voided" => Self::Void,
            "refunded" => Self::Refunded,
            "deleted" => Self::Deleted,
            "abandoned" => Self::Abandoned,
            "closed" => Self::Closed,
            "available" => Self::Available,
            "applied" => Self::Applied,
            "sentopenquestion" => Self::SentOpenQuestion,
            "sentopennegotiation" => Self::SentOpenNegotiation,
            "exception" => Self::Exception,
            _ => Self::Other(code.trim().to_owned()),
        }
    }

    /// The code as `/get` reports it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Declined => "declined",
            Self::Active => "active",
            Self::InProgress => "in_progress",
            Self::Complete => "complete",
            Self::PaymentPending => "paymentPending",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
            Self::CancelledPayPending => "cancelledPayPending",
            Self::CancelledWithPay => "cancelledWithPay",
            Self::Void => "void",
            Self::Refunded => "refunded",
            Self::Deleted => "deleted",
            Self::Abandoned => "abandoned",
            Self::Closed => "closed",
            Self::Available => "available",
            Self::Applied => "applied",
            Self::SentOpenQuestion => "sent_open_question",
            Self::SentOpenNegotiation => "sent_open_negotiation",
            Self::Exception => "exception",
            Self::Other(code) => code,
        }
    }

    /// A worker is on it: assigned, started, submitted, approved or paid.
    pub fn has_worker(&self) -> bool {
        matches!(
            self,
            Self::Active | Self::InProgress | Self::Complete | Self::PaymentPending | Self::Paid | Self::Closed
        )
    }

    /// Work has begun or is over (in progress, submitted, approved or paid).
    pub fn is_started(&self) -> bool {
        self.has_worker() && *self != Self::Active
    }

    /// Called off: voided, cancelled in any form, deleted or abandoned.
    pub fn is_called_off(&self) -> bool {
        matches!(
            self,
            Self::Void
                | Self::Cancelled
                | Self::CancelledPayPending
                | Self::CancelledWithPay
                | Self::Deleted
                | Self::Abandoned
        )
    }
}

impl fmt::Display for WorkOrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in [
            "draft",
            "sent",
            "declined",
            "active",
            "in_progress",
            "complete",
            "paymentPending",
            "paid",
            "cancelled",
            "cancelledPayPending",
            "cancelledWithPay",
            "void",
            "refunded",
            "deleted",
            "abandoned",
            "closed",
            "available",
            "applied",
            "sent_open_question",
            "sent_open_negotiation",
            "exception",
        ] {
            let status = WorkOrderStatus::parse(code);
            assert!(!matches!(status, WorkOrderStatus::Other(_)), "{code}");
            assert_eq!(status.as_str(), code);
        }
    }

    #[test]
    fn spelling_variants_are_the_same_status() {
        assert_eq!(WorkOrderStatus::parse("inprogress"), WorkOrderStatus::InProgress);
        assert_eq!(WorkOrderStatus::parse("payment_pending"), WorkOrderStatus::PaymentPending);
        assert_eq!(WorkOrderStatus::parse("ACTIVE"), WorkOrderStatus::Active);
        assert_eq!(WorkOrderStatus::parse(" mystery "), WorkOrderStatus::Other("mystery".into()));
    }

    #[test]
    fn groups() {
        assert!(WorkOrderStatus::Active.has_worker());
        assert!(!WorkOrderStatus::Active.is_started());
        assert!(WorkOrderStatus::InProgress.is_started());
        assert!(!WorkOrderStatus::Sent.has_worker());
        assert!(WorkOrderStatus::CancelledWithPay.is_called_off());
        assert!(!WorkOrderStatus::Paid.is_called_off());
    }
}
