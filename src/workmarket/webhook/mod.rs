//! Intake of WorkMarket webhooks: parsing and authenticating what WorkMarket delivers from the
//! template users paste (`examples/workmarket-webhook.json`). The HTTP endpoint itself lives
//! with the operator's webhook receiver.
//!
//! WorkMarket neither signs webhooks nor fixes their body: it sends whatever template the user
//! saved, with `${variables}` filled in. So the template carries a shared token (a header or
//! basic-auth credentials in the URL) and the few fields every event has; a delivery only says
//! "look at this work order again", and the receiver re-reads it from the API.

mod auth;
mod delivery;
mod event;

pub use auth::{AuthFailure, authenticate};
pub use delivery::{Delivery, DeliveryError, parse};
pub use event::WorkOrderEvent;

/// The template users paste into WorkMarket for every event they enable, changing only the
/// `event` value to the event's name.
pub const TEMPLATE: &str = include_str!("../../../examples/workmarket-webhook.json");

/// The events the README tells users to enable, by their names in WorkMarket's UI.
pub const EVENTS: [&str; 9] = [
    "Accepted",
    "Check In",
    "Completed",
    "Approved",
    "Paid",
    "Voided",
    "Cancel",
    "Reschedule Approved",
    "Budget Increase Approved",
];
