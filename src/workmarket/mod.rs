//! WorkMarket: the API client, its typed work order, and the intake of WorkMarket webhooks.
//!
//! `reference/workmarket-api.md` is the truth this follows, quirks included: a proprietary token
//! exchange, two equivalent path families, errors inside HTTP 200 answers, HTML-escaped text,
//! money as decimal strings (or numbers), and webhooks whose body is whatever template the user
//! typed into WorkMarket.
//!
//! - [`WorkMarketClient`]: `get_assignment`, `list_updated`, `list_industries`, `list_statuses`.
//! - [`WorkOrder`] and its parts; [`WorkOrderStatus`].
//! - [`pricing::wage`]: WorkMarket pricing → 1099Policy wage.
//! - [`geo`]: states and countries → 2-letter codes.
//! - [`webhook`]: parsing and authenticating deliveries of `examples/workmarket-webhook.json`.
//! - [`decode_envelope`]: the `{meta, response}` reply decoder the client uses (public for fuzzing).

mod auth;
mod client;
mod envelope;
mod error;
mod fields;
pub mod geo;
mod model;
mod paths;
pub mod pricing;
mod status;
pub mod webhook;

pub use client::{Industry, Listed, StatusName, Updated, UpdatedAssignments, WorkMarketClient};
pub use envelope::decode_envelope;
pub use error::WorkMarketError;
pub use model::{Address, Label, Location, Payment, Phone, Schedule, WorkOrder, Worker};
pub use paths::PathStyle;
pub use pricing::{Pricing, PricingError, PricingType, wage};
pub use status::WorkOrderStatus;

/// WorkMarket's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://www.workmarket.com";

/// The name the shared HTTP layer logs calls under.
const API_NAME: &str = "workmarket";
