//! 1099Policy: the typed client coverbridge uses for everything it says to 1099Policy, webhook
//! signature verification and event parsing.
//!
//! Map: [`client`] (one method per call), [`request`] and [`model`] (bodies sent and objects
//! received), [`error`] (typed errors), [`time`] (epoch seconds), [`idempotency`] (keys),
//! [`decode`] (tolerant decoding of the API's quirks), [`webhook`] (signatures), [`events`].

pub mod client;
pub mod decode;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod model;
pub mod request;
pub mod time;
pub mod webhook;

pub use client::{InvalidBaseUrl, Ten99PolicyClient};
pub use decode::Metadata;
pub use error::{ErrorCode, NO_MATCHING_POLICY_MESSAGE, Ten99PolicyError};
pub use events::{Event, EventType};
pub use idempotency::IdempotencyKey;
pub use model::*;
pub use request::*;
pub use time::EpochSeconds;
pub use webhook::{SIGNATURE_HEADER, Verifier, WebhookError};

/// Default base URL of the real service.
pub const DEFAULT_BASE_URL: &str = "https://api.1099policy.com";
