//! The builders every suite shares: both sandboxes delivering webhooks to one receiver, HTTP
//! settings fast enough for fault tests, and binding manifests.

use std::num::NonZeroU32;
use std::time::Duration;

use coverbridge::http::{HttpClient, HttpSettings, RetryPolicy};
use coverbridge_sandbox::ten99policy::{RunningSandbox as Ten99Running, Ten99PolicySandbox, Ten99PolicySandboxConfig};
use coverbridge_sandbox::workmarket::{RunningSandbox as WmRunning, WorkMarketSandbox, WorkMarketSandboxConfig};

/// HTTP settings with retries in milliseconds and no rate limit to speak of, so fault tests stay
/// fast; otherwise as the operator runs (three attempts, a bounded wait).
pub fn fast_http() -> HttpClient {
    HttpClient::new(HttpSettings {
        timeout: Duration::from_secs(5),
        requests_per_second: NonZeroU32::new(10_000).unwrap(),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
            max_wait: Duration::from_secs(2),
        },
        ..HttpSettings::default()
    })
}

/// Both sandboxes, started from `workmarket` and `ten99policy`, delivering their webhooks to
/// `receiver_url` (`/webhooks/workmarket` and `/webhooks/1099policy` under it).
pub async fn start(
    receiver_url: &str,
    workmarket: WorkMarketSandboxConfig,
    ten99policy: Ten99PolicySandboxConfig,
) -> (WmRunning, Ten99Running) {
    let workmarket = WorkMarketSandbox::new(WorkMarketSandboxConfig {
        webhook_url: Some(format!("{receiver_url}/webhooks/workmarket")),
        ..workmarket
    })
    .start()
    .await
    .unwrap();
    let ten99policy = Ten99PolicySandbox::new(Ten99PolicySandboxConfig {
        webhook_url: Some(format!("{receiver_url}/webhooks/1099policy")),
        ..ten99policy
    })
    .start()
    .await
    .unwrap();
    (workmarket, ten99policy)
}

/// The seeded sandboxes, WorkMarket's webhooks carrying `token`.
pub async fn seeded(receiver_url: &str, token: &str) -> (WmRunning, Ten99Running) {
    let workmarket =
        WorkMarketSandboxConfig { webhook_token: Some(token.into()), ..WorkMarketSandboxConfig::default() };
    start(receiver_url, workmarket, Ten99PolicySandboxConfig::default()).await
}

/// A CoverageBinding manifest (YAML, as `kubectl apply` takes it) for `work_order`, with the
/// seeded entity and job category, and `extra` spec lines (indented by two spaces).
pub fn manifest(name: &str, work_order: &str, extra: &str) -> String {
    format!(
        "apiVersion: coverbridge.io/v1alpha1\nkind: CoverageBinding\nmetadata: {{name: {name}}}\nspec:\n  workOrderId: \"{work_order}\"\n  coverageTypes: [general]\n  entity: en_Ah3tqYn\n  categoryCode: jc_MTqpkbkp6G\n{extra}"
    )
}

/// `coverbridge <subcommand>` (the binary under test) configured through the environment only,
/// as CI runs it: the sandboxes' URLs and test credentials, nothing inherited.
pub fn coverbridge(subcommand: &str, workmarket: &WmRunning, ten99policy: &Ten99Running) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_coverbridge"));
    command
        .arg(subcommand)
        .env_clear()
        .env("WORKMARKET_API_TOKEN", coverbridge_sandbox::workmarket::API_TOKEN)
        .env("WORKMARKET_API_SECRET", coverbridge_sandbox::workmarket::API_SECRET)
        .env("TEN99POLICY_API_KEY", ten99policy.sandbox.api_key())
        .env("COVERBRIDGE_WORKMARKET_URL", &workmarket.url)
        .env("COVERBRIDGE_TEN99POLICY_URL", &ten99policy.url);
    command
}
