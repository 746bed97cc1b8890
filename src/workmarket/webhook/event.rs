//! What a WorkMarket webhook event means for coverage.

use std::fmt;

/// The meaning of a WorkMarket webhook event. There is no "assigned" event apart from Accepted,
/// and no "in progress" event apart from Check In (reference §6.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WorkOrderEvent {
    /// Accepted: a worker accepted or was assigned.
    Assigned,
    /// Check In: the worker started.
    InProgress,
    /// Voided (before assignment) or Cancel (after).
    Cancelled,
    /// Completed (submitted) or Approved (for payment).
    Completed,
    /// Paid (`workPay`): the invoice was paid.
    Paid,
    /// Reschedule Approved: the schedule changed.
    Rescheduled,
    /// Budget Increase Approved: the price changed.
    Repriced,
    /// Any other event, by the name the template gave.
    Other(String),
}

impl WorkOrderEvent {
    /// The meaning of an event name as the user typed it into the template: WorkMarket's UI name
    /// (`Check In`) or internal code (`workCheckIn`), in any case, with spaces, underscores or
    /// hyphens or none (`check_in`, `CheckIn`).
    pub fn from_name(name: &str) -> Self {
        let key: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
        let key = key.strip_prefix("work").unwrap_or(&key);
        match key {
            "accepted" | "accept" => Self::Assigned,
            "checkin" => Self::InProgress,
            "voided" | "void" | "cancel" | "cancelled" | "canceled" => Self::Cancelled,
            "completed" | "complete" | "approved" | "approve" => Self::Completed,
            "paid" | "pay" => Self::Paid,
            "rescheduleapproved" | "rescheduleapprove" => Self::Rescheduled,
            "budgetincreaseapproved" | "budgetincreaseapprove" => Self::Repriced,
            _ => Self::Other(name.trim().to_owned()),
        }
    }

    /// A stable lowercase name, for logs and metric labels.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
            Self::Paid => "paid",
            Self::Rescheduled => "rescheduled",
            Self::Repriced => "repriced",
            Self::Other(_) => "other",
        }
    }
}

impl fmt::Display for WorkOrderEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(name) => write!(f, "other ({name})"),
            known => f.write_str(known.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_event_has_its_meaning() {
        use WorkOrderEvent::*;
        for (name, meaning) in [
            ("Accepted", Assigned),
            ("Check In", InProgress),
            ("Voided", Cancelled),
            ("Cancel", Cancelled),
            ("Completed", Completed),
            ("Approved", Completed),
            ("Paid", Paid),
            ("Reschedule Approved", Rescheduled),
            ("Budget Increase Approved", Repriced),
        ] {
            assert_eq!(WorkOrderEvent::from_name(name), meaning, "{name}");
        }
        assert_eq!(super::super::EVENTS.map(|e| WorkOrderEvent::from_name(e).as_str() != "other"), [true; 9]);
    }

    #[test]
    fn names_match_loosely() {
        use WorkOrderEvent::*;
        for (name, meaning) in [
            ("check_in", InProgress),
            ("CheckIn", InProgress),
            ("CHECK-IN", InProgress),
            ("  accepted ", Assigned),
            ("workCheckIn", InProgress),
            ("budget_increase_approved", Repriced),
            ("RescheduleApproved", Rescheduled),
        ] {
            assert_eq!(WorkOrderEvent::from_name(name), meaning, "{name}");
        }
    }

    #[test]
    fn everything_else_is_other_by_name() {
        assert_eq!(WorkOrderEvent::from_name("Note Added"), WorkOrderEvent::Other("Note Added".into()));
        assert_eq!(WorkOrderEvent::from_name("Check Out"), WorkOrderEvent::Other("Check Out".into()));
        assert_eq!(WorkOrderEvent::from_name("Reschedule Requested").as_str(), "other");
    }
}
