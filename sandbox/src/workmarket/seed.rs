//! The seed a fresh sandbox starts with, and the summary `coverbridge sandbox` prints.

use std::fmt::Write;

use jiff::ToSpan;

use super::PathStyle;
use super::WorkMarketSandbox;
use super::lifecycle::{insert_order, insert_worker};
use super::state::{NewWorkOrder, NewWorker, PricingSpec, SandboxAddress, State};
use crate::money::Cents;

/// The sandbox's API token.
pub const API_TOKEN: &str = "wm_sandbox_token";
/// The sandbox's API secret.
pub const API_SECRET: &str = "wm_sandbox_secret";

/// The company's owner and support contact.
pub(crate) const OWNER_ID: &str = "1000001";
pub(crate) const OWNER_FIRST_NAME: &str = "Dana";
pub(crate) const OWNER_LAST_NAME: &str = "Whitfield";
pub(crate) const OWNER_EMAIL: &str = "dana.whitfield@example.com";

fn address(line1: &str, city: &str, state: &str, postal_code: &str, country: &str) -> SandboxAddress {
    SandboxAddress {
        line1: line1.into(),
        city: city.into(),
        state: state.into(),
        postal_code: postal_code.into(),
        country: country.into(),
    }
}

fn worker(id: &str, first: &str, last: &str, email: Option<&str>, phone: &str, at: SandboxAddress) -> NewWorker {
    NewWorker {
        id: Some(id.into()),
        first_name: first.into(),
        last_name: last.into(),
        email: email.map(Into::into),
        phone: Some(phone.into()),
        address: at,
    }
}

/// Fills `state` with the seed: industries, a client, four workers and four sent work orders
/// whose window starts two days from now and ends three days from now.
pub(crate) fn seed(state: &mut State) {
    for (id, name) in [(1000, "Technology"), (1001, "Marketing"), (1002, "Construction")] {
        state.industries.insert(id, name.to_owned());
    }
    state.clients.insert(40211, "Bayside Retail Group".to_owned());
    let workers = [
        worker(
            "8823578",
            "Alex",
            "Nguyen",
            Some("alex.nguyen@example.com"),
            "+1 415 555 0101",
            address("100 Market St", "San Francisco", "California", "94105", "USA"),
        ),
        worker(
            "8823579",
            "Priya",
            "Raman",
            None,
            "+1 212 555 0148",
            address("350 5th Ave", "New York", "NY", "10118", "US"),
        ),
        worker(
            "8823580",
            "Jordan",
            "Lee",
            Some("jordan.lee@example.com"),
            "+1 512 555 0199",
            address("500 Congress Ave", "Austin", "Texas", "78701", "USA"),
        ),
        worker(
            "8823581",
            "Sam",
            "Ortiz",
            Some("sam.ortiz@example.com"),
            "+1 619 555 0123",
            address("600 B St", "San Diego", "CA", "92101", "US"),
        ),
    ];
    for new in workers {
        insert_worker(state, new).expect("the seed workers are valid");
    }
    let now = state.now();
    let start = now + 48.hours();
    let end = now + 72.hours();
    let order = |id: &str, title: &str, description: &str, client: Option<i64>, pricing, at| NewWorkOrder {
        id: Some(id.into()),
        description: description.into(),
        client_id: client,
        location: Some(at),
        window_start: Some(start),
        window_end: Some(end),
        ..NewWorkOrder::new(title, pricing)
    };
    let orders = [
        order(
            "6029116324",
            "Low Voltage Cabling",
            "Run and terminate Cat6 drops & patch them in.",
            Some(40211),
            PricingSpec::Flat { price: Cents(32500) },
            address("150 W San Carlos St", "San Jose", "CA", "95113", "USA"),
        ),
        order(
            "6029116325",
            "Retail Site Survey",
            "Survey the store floor and photograph every fixture.",
            None,
            PricingSpec::PerHour { rate: Cents(4550), max_hours: 8.0 },
            address("1 Penn Plaza", "New York", "NY", "10119", "USA"),
        ),
        order(
            "6029116326",
            "POS Terminal Install",
            "Install and test four point-of-sale terminals.",
            None,
            PricingSpec::Flat { price: Cents(18000) },
            address("700 Lavaca St", "Austin", "TX", "78701", "USA"),
        ),
        order(
            "6029116327",
            "Network Closet Repair",
            "Replace the failed switch and tidy the closet.",
            None,
            PricingSpec::Flat { price: Cents(41250) },
            address("1200 3rd Ave", "San Diego", "CA", "92101", "USA"),
        ),
    ];
    for new in orders {
        insert_order(state, new, now).expect("the seed work orders are valid");
    }
}

impl WorkMarketSandbox {
    /// What `coverbridge sandbox` prints for the sandbox served at `url`.
    pub fn summary(&self, url: &str) -> String {
        let state = self.lock();
        let mut out = String::new();
        let _ = writeln!(out, "WorkMarket sandbox: {url}");
        let _ = writeln!(
            out,
            "  API paths:   {url}{}/… and {url}{}/…   control: {url}/_sandbox/…",
            PathStyle::Api.prefix(),
            PathStyle::Employer.prefix()
        );
        let _ = writeln!(out, "  API token:   {}", state.api_token);
        let _ = writeln!(out, "  API secret:  {}", state.api_secret);
        let industries: Vec<String> = state.industries.iter().map(|(id, name)| format!("{id} {name}")).collect();
        let _ = writeln!(out, "  industries:  {}", or_none(industries.join(", ")));
        let _ = writeln!(out, "  workers:{}", if state.workers.is_empty() { " none" } else { "" });
        for w in state.workers.values() {
            let a = &w.address;
            let _ = writeln!(
                out,
                "    {} {} {} <{}> {} — {}, {}, {}",
                w.id,
                w.first_name,
                w.last_name,
                w.email.as_deref().unwrap_or("no e-mail"),
                w.phone.as_deref().unwrap_or("no phone"),
                a.city,
                a.state,
                a.country
            );
        }
        let _ = writeln!(out, "  work orders:{}", if state.orders.is_empty() { " none" } else { "" });
        for o in state.orders.values() {
            let amount = o.pricing.spend_limit().map(|c| c.to_string()).unwrap_or_default();
            let place = o
                .location
                .as_ref()
                .map(|a| format!("{} {} {}", a.city, a.state, a.country))
                .unwrap_or_else(|| "offsite".to_owned());
            let _ = writeln!(
                out,
                "    {} \"{}\" {} {} — {}, {}, window {} – {}",
                o.id,
                o.title,
                o.pricing.description(),
                amount,
                place,
                o.status.code(),
                o.window_start.strftime("%Y-%m-%d %H:%M UTC"),
                o.window_end.strftime("%Y-%m-%d %H:%M UTC"),
            );
        }
        drop(state);
        let webhooks = self.webhooks();
        match webhooks.first() {
            None => {
                let _ = writeln!(out, "  webhooks:    none");
            }
            Some(first) => {
                let events: Vec<&str> = webhooks.iter().map(|w| w.event.as_str()).collect();
                let _ =
                    writeln!(out, "  webhooks:    {} → {}", events.join(", "), super::webhooks::masked_url(&first.url));
            }
        }
        out
    }
}

fn or_none(text: String) -> String {
    if text.is_empty() { "none".to_owned() } else { text }
}
