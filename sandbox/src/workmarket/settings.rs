//! The sandbox's run-time knobs: its clock, access tokens, the API user's role, representation
//! quirks and webhook templates. Each has a control route (see [`super::control`]).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::state::{DateFormat, Quirks};
use super::webhooks::{DeliveryRecord, WebhookTemplate};
use super::{SandboxError, WorkMarketSandbox};

/// Sandbox settings that can change at run time.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Settings {
    /// Whether the API user has the admin role (without it every call is 403).
    pub api_user_admin: bool,
    /// Representation quirks.
    pub quirks: Quirks,
    /// How webhook dates render.
    pub webhook_date_format: DateFormat,
}

impl WorkMarketSandbox {
    /// The settings in force.
    pub fn settings(&self) -> Settings {
        let state = self.lock();
        Settings {
            api_user_admin: state.api_user_admin,
            quirks: state.quirks.clone(),
            webhook_date_format: state.date_format,
        }
    }

    /// Applies `settings`.
    pub fn apply_settings(&self, settings: Settings) {
        let mut state = self.lock();
        state.api_user_admin = settings.api_user_admin;
        state.quirks = settings.quirks;
        state.date_format = settings.webhook_date_format;
    }

    /// Moves the sandbox clock forward (for `list_updated` cursors and start times). Refuses
    /// to move it past the end of time.
    pub fn advance_clock(&self, by: Duration) -> Result<(), SandboxError> {
        let too_far = || SandboxError::Invalid("the clock cannot move that far".into());
        let by = SignedDuration::try_from(by).map_err(|_| too_far())?;
        let mut state = self.lock();
        let offset = state.clock_offset.checked_add(by).ok_or_else(too_far)?;
        Timestamp::now().checked_add(offset).map_err(|_| too_far())?;
        state.clock_offset = offset;
        Ok(())
    }

    /// The sandbox clock.
    pub fn now(&self) -> Timestamp {
        self.lock().now()
    }

    /// Makes every access token invalid, as if they had expired.
    pub fn revoke_access_tokens(&self) {
        self.lock().access_tokens.clear();
    }

    /// Whether the API user has the admin role; without it every call is 403.
    pub fn set_api_user_admin(&self, admin: bool) {
        self.lock().api_user_admin = admin;
    }

    /// Switches representation quirks.
    pub fn set_quirks(&self, quirks: Quirks) {
        self.lock().quirks = quirks;
    }

    /// The quirks in force.
    pub fn quirks(&self) -> Quirks {
        self.lock().quirks.clone()
    }

    /// How webhook dates render.
    pub fn set_webhook_date_format(&self, format: DateFormat) {
        self.lock().date_format = format;
    }

    /// Saves a webhook template, as WorkMarket's settings page does (with its checks).
    pub fn add_webhook(&self, template: WebhookTemplate) -> Result<(), SandboxError> {
        self.inner.webhooks.register(template).map_err(SandboxError::Invalid)
    }

    /// The saved webhook templates.
    pub fn webhooks(&self) -> Vec<WebhookTemplate> {
        self.inner.webhooks.templates()
    }

    /// Deletes every webhook template.
    pub fn clear_webhooks(&self) {
        self.inner.webhooks.clear();
    }

    /// Every webhook sent or meant to be sent, in order.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.inner.webhooks.records()
    }

    /// Waits until every queued webhook was delivered or failed.
    pub async fn flush_webhooks(&self) {
        self.inner.webhooks.flush().await;
    }
}
