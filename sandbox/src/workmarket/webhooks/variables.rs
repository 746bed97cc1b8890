//! WorkMarket's webhook events and which `${variables}` each one has (reference §6.2, §6.4).

/// Variables every event has.
pub(crate) const EVERY_EVENT: &[&str] = &[
    "assignment_id",
    "status",
    "start_date_time",
    "end_date_time",
    "pricing_type",
    "pricing_flat_price",
    "pricing_per_hour_price",
    "pricing_max_number_of_hours",
    "pricing_per_unit_price",
    "pricing_max_number_of_units",
    "pricing_additional_per_hour_price",
    "pricing_max_additional_number_of_hours",
    "resolution",
    "hours_worked",
    "units_completed",
    "expense_reimbursement",
    "bonus",
    "total_cost",
    "invoice_id",
    "statement_id",
    "owner_id",
    "owner_email",
    "client_name",
    "client_id",
    "client_customer_id",
    "project_id",
    "project_name",
    "now",
    "override_price",
    "support_contact_first_name",
    "support_contact_last_name",
    "support_contact_email",
];

/// The worker variables, only on Accepted and Counteroffer Requested.
pub(crate) const WORKER: &[&str] = &[
    "resource_id",
    "resource_uuid",
    "resource_first_name",
    "resource_last_name",
    "resource_email",
    "resource_phone",
    "resource_mobile",
    "resource_address1",
    "resource_address2",
    "resource_city",
    "resource_state",
    "resource_postal_code",
    "resource_country",
    "resource_overview",
    "resource_company_name",
    "resource_company_id",
    "resource_company_uuid",
];

const CHECK_IN: &[&str] = &["check_in_out_id", "checked_in_on"];
const CHECK_OUT: &[&str] = &["check_in_out_id", "checked_in_on", "checked_out_on", "note"];
const LABEL: &[&str] = &["label_name", "label_id", "is_negotiation", "note"];
const NOTE: &[&str] = &["note"];
const ATTACHMENT_ADDED: &[&str] = &[
    "file_name",
    "file_description",
    "file_uuid",
    "file_data",
    "file_data_base64",
    "file_data_binary",
    "file_data_byte_length",
];
const ATTACHMENT_REMOVED: &[&str] = &["file_name", "file_description", "file_uuid"];
const NEGOTIATION: &[&str] = &["negotiation_id"];
const NEGOTIATION_NOTE: &[&str] = &["negotiation_id", "note"];
const NEGOTIATION_AMOUNT: &[&str] = &["negotiation_id", "amount"];
const NEGOTIATION_NOTE_AMOUNT: &[&str] = &["negotiation_id", "note", "amount"];
const RESCHEDULE_REQUESTED: &[&str] = &["negotiation_id", "note", "proposed_start_date_time", "proposed_end_date_time"];
const BUDGET_INCREASE_REQUESTED: &[&str] = &[
    "negotiation_id",
    "note",
    "proposed_flat_price",
    "proposed_max_initial_number_of_hours",
    "proposed_max_additional_number_of_hours",
    "proposed_max_number_of_units",
];
const COUNTEROFFER_REQUESTED: &[&str] = &[
    "negotiation_id",
    "note",
    "proposed_flat_price",
    "proposed_max_initial_number_of_hours",
    "proposed_max_additional_number_of_hours",
    "proposed_max_number_of_units",
    "proposed_start_date_time",
    "proposed_end_date_time",
    "proposed_expense_reimbursement_amount",
];

/// The events that carry the worker variables.
const WITH_WORKER: &[&str] = &["Accepted", "Counteroffer Requested"];

/// Every event by its UI name, with the variables only it has (besides the worker's).
const EVENTS: &[(&str, &[&str])] = &[
    ("Created", &[]),
    ("Sent", &[]),
    ("Accepted", &[]),
    ("Confirm", &[]),
    ("Check In", CHECK_IN),
    ("Check Out", CHECK_OUT),
    ("Completed", &[]),
    ("Approved", &[]),
    ("Paid", &[]),
    ("Voided", &[]),
    ("Cancel", &[]),
    ("Custom Fields Updated", &[]),
    ("Attachment Added", ATTACHMENT_ADDED),
    ("Attachment Removed", ATTACHMENT_REMOVED),
    ("Note Added", NOTE),
    ("Label Added", LABEL),
    ("Label Removed", LABEL),
    ("Counteroffer Requested", COUNTEROFFER_REQUESTED),
    ("Counteroffer Approved", NEGOTIATION),
    ("Counteroffer Declined", NEGOTIATION_NOTE),
    ("Reschedule Requested", RESCHEDULE_REQUESTED),
    ("Reschedule Approved", NEGOTIATION),
    ("Reschedule Declined", NEGOTIATION_NOTE),
    ("Budget Increase Added", NEGOTIATION_NOTE),
    ("Budget Increase Requested", BUDGET_INCREASE_REQUESTED),
    ("Budget Increase Approved", NEGOTIATION),
    ("Budget Increase Declined", NEGOTIATION_NOTE),
    ("Expense Reimbursement Added", NEGOTIATION_NOTE),
    ("Expense Reimbursement Requested", NEGOTIATION_NOTE_AMOUNT),
    ("Expense Reimbursement Approved", NEGOTIATION_AMOUNT),
    ("Expense Reimbursement Declined", NEGOTIATION_NOTE),
    ("Bonus Added", NEGOTIATION_NOTE),
    ("Bonus Requested", NEGOTIATION_NOTE_AMOUNT),
    ("Bonus Approved", NEGOTIATION_AMOUNT),
    ("Bonus Declined", NEGOTIATION_NOTE),
];

/// The UI name of an event, matched case-insensitively; `None` for names WorkMarket lacks.
pub(crate) fn event_name(name: &str) -> Option<&'static str> {
    EVENTS.iter().find(|(known, _)| known.eq_ignore_ascii_case(name.trim())).map(|(known, _)| *known)
}

/// Whether `variable` exists for any event.
pub(crate) fn is_known(variable: &str) -> bool {
    EVERY_EVENT.contains(&variable)
        || WORKER.contains(&variable)
        || EVENTS.iter().any(|(_, vars)| vars.contains(&variable))
}

/// Whether `event` has `variable`, so a template using it may be saved for that event.
pub(crate) fn is_eligible(event: &str, variable: &str) -> bool {
    EVERY_EVENT.contains(&variable)
        || (WITH_WORKER.contains(&event) && WORKER.contains(&variable))
        || EVENTS.iter().any(|(name, vars)| *name == event && vars.contains(&variable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_variables_only_on_accepted_and_counteroffer_requested() {
        let with_worker: Vec<&str> =
            EVENTS.iter().filter(|(name, _)| is_eligible(name, "resource_email")).map(|(name, _)| *name).collect();
        assert_eq!(with_worker, ["Accepted", "Counteroffer Requested"]);
    }

    #[test]
    fn names_and_variables() {
        assert_eq!(event_name("check in"), Some("Check In"));
        assert_eq!(event_name("Checked In"), None);
        assert!(is_known("checked_in_on"));
        assert!(!is_eligible("Paid", "checked_in_on"));
        assert!(is_eligible("Paid", "assignment_id"));
        assert!(!is_known("bogus"));
    }
}
