//! The values of the webhook `${variables}` when an event fires (reference §6.4): all strings,
//! money as plain decimals, dates in the company's format, `status` the raw internal code.

use jiff::Timestamp;

use super::render::decimal;
use super::seed::{OWNER_EMAIL, OWNER_FIRST_NAME, OWNER_ID, OWNER_LAST_NAME};
use super::state::{Order, PricingSpec, State};
use super::webhooks::Values;

/// Variables every event has, for `order` at `now`.
pub(crate) fn common(state: &State, order: &Order, now: Timestamp) -> Values {
    let date = |at: Timestamp| state.date_format.render(at);
    let money = |amount: crate::money::Cents| decimal(amount);
    let count = |n: f64| n.to_string();
    let mut values = Values::from([
        ("assignment_id", order.id.clone()),
        ("status", order.status.code().to_owned()),
        ("start_date_time", date(order.window_start)),
        ("end_date_time", date(order.window_end)),
        ("pricing_type", order.pricing.enum_name().to_owned()),
        ("resolution", order.resolution.clone().unwrap_or_default()),
        ("expense_reimbursement", "0.00".to_owned()),
        ("bonus", "0.00".to_owned()),
        ("total_cost", order.total_cost.map(money).unwrap_or_default()),
        ("invoice_id", order.paid_on.map(|_| format!("INV-{}", order.id)).unwrap_or_default()),
        ("owner_id", OWNER_ID.to_owned()),
        ("owner_email", OWNER_EMAIL.to_owned()),
        ("client_name", order.client_id.and_then(|id| state.clients.get(&id).cloned()).unwrap_or_default()),
        ("client_id", order.client_id.map(|id| id.to_string()).unwrap_or_default()),
        ("project_id", order.project_id.map(|id| id.to_string()).unwrap_or_default()),
        ("now", date(now)),
        ("support_contact_first_name", OWNER_FIRST_NAME.to_owned()),
        ("support_contact_last_name", OWNER_LAST_NAME.to_owned()),
        ("support_contact_email", OWNER_EMAIL.to_owned()),
    ]);
    let mut set = |name: &'static str, value: String| {
        values.insert(name, value);
    };
    match order.pricing {
        PricingSpec::Flat { price } => set("pricing_flat_price", money(price)),
        PricingSpec::PerHour { rate, max_hours } => {
            set("pricing_per_hour_price", money(rate));
            set("pricing_max_number_of_hours", count(max_hours));
        }
        PricingSpec::PerUnit { price, max_units } => {
            set("pricing_per_unit_price", money(price));
            set("pricing_max_number_of_units", count(max_units));
        }
        PricingSpec::BlendedPerHour { initial_rate, initial_hours, additional_rate, max_additional_hours } => {
            set("pricing_per_hour_price", money(initial_rate));
            set("pricing_max_number_of_hours", count(initial_hours));
            set("pricing_additional_per_hour_price", money(additional_rate));
            set("pricing_max_additional_number_of_hours", count(max_additional_hours));
        }
        PricingSpec::BlendedPerUnit { initial_price, initial_units, .. } => {
            set("pricing_per_unit_price", money(initial_price));
            set("pricing_max_number_of_units", count(initial_units));
        }
        PricingSpec::Internal => {}
    }
    values
}

/// The worker variables (Accepted and Counteroffer Requested only).
pub(crate) fn worker(state: &State, order: &Order) -> Values {
    let Some(worker) = order.worker_id.as_ref().and_then(|id| state.workers.get(id)) else {
        return Values::new();
    };
    let phone = worker.phone.clone().unwrap_or_default();
    Values::from([
        ("resource_id", worker.id.clone()),
        ("resource_first_name", worker.first_name.clone()),
        ("resource_last_name", worker.last_name.clone()),
        ("resource_email", worker.email.clone().unwrap_or_default()),
        ("resource_phone", phone.clone()),
        ("resource_mobile", phone),
        ("resource_address1", worker.address.line1.clone()),
        ("resource_city", worker.address.city.clone()),
        ("resource_state", worker.address.state.clone()),
        ("resource_postal_code", worker.address.postal_code.clone()),
        ("resource_country", worker.address.country.clone()),
        ("resource_company_name", format!("{} {}", worker.first_name, worker.last_name)),
    ])
}
