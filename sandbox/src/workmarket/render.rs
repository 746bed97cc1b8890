//! Work orders as WorkMarket's API shows them: `/get` details (reference §4.4, §5.1) and list
//! rows (§4.5). Text is HTML-escaped; `spend_limit`, `total_cost` and `budget_increases` are
//! strings, pricing amounts numbers, dates Unix seconds (`paid_on` milliseconds, WorkMarket's
//! bug, unless the quirk is off).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::seed::{OWNER_EMAIL, OWNER_FIRST_NAME, OWNER_ID, OWNER_LAST_NAME};
use super::state::{Order, PricingSpec, SandboxAddress, State, Status};
use crate::money::Cents;

/// A decimal string, "325.00".
pub(crate) fn decimal(amount: Cents) -> String {
    let sign = if amount.get() < 0 { "-" } else { "" };
    let abs = amount.get().unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A JSON number, 325.0 (WorkMarket's Java doubles).
fn number(amount: Cents) -> Value {
    json!(amount.get() as f64 / 100.0)
}

fn html(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

/// Java's `Date.toString()` in UTC, as the `*_date` fields show.
fn java_date(at: Timestamp) -> String {
    at.strftime("%a %b %d %H:%M:%S UTC %Y").to_string()
}

fn time_zone(location: Option<&SandboxAddress>) -> &'static str {
    let state = location.map(|l| l.state.to_ascii_lowercase()).unwrap_or_default();
    match state.as_str() {
        "ca" | "california" | "wa" | "washington" | "or" | "oregon" | "nv" | "nevada" => "America/Los_Angeles",
        "tx" | "texas" | "il" | "illinois" | "mn" | "minnesota" => "America/Chicago",
        "co" | "colorado" | "az" | "arizona" | "ut" | "utah" => "America/Denver",
        _ => "America/New_York",
    }
}

fn pricing(order: &Order) -> Value {
    let spend_limit = order.pricing.spend_limit();
    let increases = match (spend_limit, order.original_spend_limit) {
        (Some(now), Some(then)) => Cents(now.get().saturating_sub(then.get())),
        _ => Cents(0),
    };
    let mut pricing = json!({
        "type": order.pricing.description(),
        "spend_limit": spend_limit.map(decimal).unwrap_or_else(|| "Internal".to_owned()),
        // One decimal place, as WorkMarket formats it.
        "budget_increases": format!("{:.1}", increases.get() as f64 / 100.0),
        "expense_reimbursements": "0.00",
        "bonuses": "0.00",
        "additional_expenses": "0.00",
    });
    let fields = &mut pricing;
    match order.pricing {
        PricingSpec::Flat { price } => fields["flat_price"] = number(price),
        PricingSpec::PerHour { rate, max_hours } => {
            fields["per_hour_price"] = number(rate);
            fields["max_number_of_hours"] = json!(max_hours);
        }
        PricingSpec::PerUnit { price, max_units } => {
            fields["per_unit_price"] = number(price);
            fields["max_number_of_units"] = json!(max_units);
        }
        PricingSpec::BlendedPerHour { initial_rate, initial_hours, additional_rate, max_additional_hours } => {
            fields["initial_per_hour_price"] = number(initial_rate);
            fields["initial_number_of_hours"] = json!(initial_hours);
            fields["additional_per_hour_price"] = number(additional_rate);
            fields["max_blended_number_of_hours"] = json!(max_additional_hours);
        }
        PricingSpec::BlendedPerUnit { initial_price, initial_units, additional_price, max_additional_units } => {
            fields["initial_per_unit_price"] = number(initial_price);
            fields["initial_number_of_units"] = json!(initial_units);
            fields["additional_per_unit_price"] = number(additional_price);
            fields["max_blended_number_of_units"] = json!(max_additional_units);
        }
        PricingSpec::Internal => {}
    }
    pricing
}

fn location(order: &Order) -> Value {
    match &order.location {
        None => Value::Null,
        Some(address) => json!({
            "id": 7000 + order.id.len() as i64,
            "name": format!("{} site", address.city),
            "location_number": "",
            "instructions": "",
            "address_1": address.line1,
            "address_2": "",
            "city": address.city,
            "state": address.state,
            "zip": address.postal_code,
            "country": address.country,
            "latitude": "0.0",
            "longitude": "0.0",
        }),
    }
}

fn active_resource(state: &State, order: &Order) -> Value {
    let Some(worker) = order.worker_id.as_ref().and_then(|id| state.workers.get(id)) else {
        return Value::Null;
    };
    let (line1, line2) =
        if state.quirks.address_without_underscore { ("address1", "address2") } else { ("address_1", "address_2") };
    let mut address = json!({
        "city": worker.address.city,
        "state": worker.address.state,
        "zip": worker.address.postal_code,
        "country": worker.address.country,
    });
    address[line1] = json!(worker.address.line1);
    address[line2] = json!("");
    let phones: Vec<Value> = worker
        .phone
        .iter()
        .map(|phone| {
            // "+1 415 555 0101" → country code "1", number "415 555 0101".
            let (code, number) = phone.strip_prefix('+').and_then(|p| p.split_once(' ')).unwrap_or(("", phone));
            json!({"country_code": code, "phone": number, "extension": "", "type": "MOBILE"})
        })
        .collect();
    let check_in_out: Vec<Value> = order
        .checked_in_on
        .iter()
        .map(|at| {
            json!({"check_in_out_id": order.check_in_id, "checked_in_on": at.as_second(),
                   "checked_out_on": null, "created_on": at.as_second(),
                   "modified_on": at.as_second(), "note": ""})
        })
        .collect();
    json!({
        "id": worker.id,
        "uuid": format!("00000000-0000-4000-8000-{:0>12}", worker.id),
        "first_name": worker.first_name,
        "last_name": worker.last_name,
        "company_name": format!("{} {}", worker.first_name, worker.last_name),
        "email": worker.email.clone().unwrap_or_default(),
        "profile_picture": "",
        "profile_picture_large": "",
        "rating": 98,
        "number_of_ratings": 41,
        "confirmed_onsite": false,
        "confirmed_date": null,
        "phone_numbers": phones,
        "address": address,
        "check_in_out": check_in_out,
    })
}

/// The `response` of `GET …/assignments/get`.
pub(crate) fn details(state: &State, order: &Order, now: Timestamp) -> Value {
    let paid_on =
        order.paid_on.map(|at| if state.quirks.paid_on_seconds { at.as_second() } else { at.as_millisecond() });
    let history: Vec<Value> = order
        .history
        .iter()
        .map(|(at, text)| json!({"date": at.as_second(), "text": text, "set_by": "Dana Whitfield"}))
        .collect();
    let labels: Vec<Value> = order
        .labels
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"id": 500 + i, "code": name.to_ascii_lowercase().replace(' ', "_"),
                   "description": html(name), "note": "", "colorRgb": "336699",
                   "userResolvable": true})
        })
        .collect();
    json!({
        "id": order.id,
        "title": html(&order.title),
        "description": html(&order.description),
        "instructions": "",
        "desired_skills": "",
        "short_url": format!("https://wm.co/{}", order.id),
        "industry": state.industries.get(&order.industry_id),
        "status": order.reported_status(now),
        "substatuses": [],
        "labels": labels,
        "project": order.project_id,
        "client": order.client_id,
        "internal_owner": OWNER_ID,
        "internal_owner_details": {"first_name": OWNER_FIRST_NAME, "last_name": OWNER_LAST_NAME},
        "support_contact": {"id": OWNER_ID, "first_name": OWNER_FIRST_NAME,
                            "last_name": OWNER_LAST_NAME, "email": OWNER_EMAIL, "phone_numbers": []},
        "sent_worker_count": if order.status == Status::Draft { 0 } else { 1 },
        "required_attachments": 0,
        "resolution": order.resolution.clone().unwrap_or_default(),
        "invoice_number": order.paid_on.map(|_| format!("INV-{}", order.id)),
        "created_on": order.created_on.as_second(),
        "last_modified_on": order.last_modified_on.as_second(),
        "assignment_window_start": order.window_start.as_second(),
        "assignment_window_end": order.window_end.as_second(),
        "assignment_window_start_date": java_date(order.window_start),
        // WorkMarket's "EXISTING BUG": the end date shows the start.
        "assignment_window_end_date": java_date(order.window_start),
        "scheduled_time": null,
        "scheduled_time_date": null,
        "time_zone": time_zone(order.location.as_ref()),
        "location": location(order),
        "location_offsite": order.location.is_none(),
        "pricing": pricing(order),
        "payment": {
            "max_spend_limit": order.pricing.spend_limit().map(decimal),
            "actual_spend_limit": order.pricing.spend_limit().map(decimal),
            "buyer_fee": "0.00",
            "total_cost": order.total_cost.map(decimal),
            "hours_worked": null,
            "paid_on": paid_on,
            "payment_due_on": order.paid_on.map(|at| at.as_second()),
        },
        "active_resource": active_resource(state, order),
        "attachments": [],
        "history": history,
        "notes": [],
        "custom_fields": [],
        "pending_offers": [],
        "declined_resources": [],
        "questions": [],
    })
}

/// A row of `list` and `list_updated`.
pub(crate) fn row(state: &State, order: &Order, now: Timestamp) -> Value {
    let worker = order.worker_id.as_ref().and_then(|id| state.workers.get(id));
    let modified_status = match order.reported_status(now) {
        "in_progress" => "In Progress",
        _ if order.status == Status::Active => "Assigned",
        _ => order.status.display(),
    };
    let location = order.location.clone().unwrap_or_default();
    json!({
        "id": order.id,
        "title": html(&order.title),
        "project_id": order.project_id,
        "project_name": order.project_id.map(|id| format!("Project {id}")),
        "scheduled_start": order.window_start.as_second(),
        "scheduled_end": order.window_end.as_second(),
        "city": location.city,
        "state": location.state,
        "postal_code": location.postal_code,
        "location_id": order.location.as_ref().map(|_| 7000 + order.id.len() as i64),
        "spend_limit": order.pricing.spend_limit().map(decimal).unwrap_or_else(|| "Internal".to_owned()),
        "status": order.status.code(),
        "modified_status": modified_status,
        "labels": [],
        "substatuses": [],
        "internal_owner": format!("{OWNER_FIRST_NAME} {OWNER_LAST_NAME}"),
        "client": order.client_id.and_then(|id| state.clients.get(&id)),
        "client_id": order.client_id,
        "invoice_number": order.paid_on.map(|_| format!("INV-{}", order.id)),
        "paid_date": order.paid_on.map(|at| at.as_second()),
        "total_cost": decimal(order.total_cost.or(order.pricing.spend_limit()).unwrap_or_default()),
        "resource_company_name": worker.map(|w| format!("{} {}", w.first_name, w.last_name)),
        "resource_user_number": worker.map(|w| w.id.clone()),
        "resource_full_name": worker.map(|w| format!("{} {}", w.first_name, w.last_name)),
        "last_modified_on": order.last_modified_on.as_second(),
        "modifier_first_name": &OWNER_FIRST_NAME[..1],
        "modifier_last_name": OWNER_LAST_NAME,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(Cents(32500)), "325.00");
        assert_eq!(decimal(Cents(5)), "0.05");
        assert_eq!(decimal(Cents(-310)), "-3.10");
    }

    #[test]
    fn html_escapes_like_workmarket() {
        assert_eq!(html("A & B <c> \"d\""), "A &amp; B &lt;c&gt; &quot;d&quot;");
    }
}
