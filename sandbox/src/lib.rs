//! Faithful local simulators of WorkMarket and 1099Policy (DESIGN §3), served by
//! `coverbridge-sandbox` (and `coverbridge sandbox` in default builds) and used in-process by
//! coverbridge's tests and demo.
//!
//! The crate depends on nothing of the operator's: its wire types are its own, written from the
//! API references, so the operator's clients are tested against an independent implementation
//! (`tests/sandbox_wire.rs` in the operator crate). The operator image is built without it.

pub mod harness;
pub mod money;
pub mod secret;
pub mod ten99policy;
pub mod workmarket;

use std::net::SocketAddr;

use crate::secret::Secret;
use ten99policy::{Ten99PolicySandbox, Ten99PolicySandboxConfig};
use workmarket::WorkMarketSandboxConfig;

/// Settings of `coverbridge-sandbox` (and `coverbridge sandbox`).
#[derive(clap::Args, Clone, Debug)]
pub struct SandboxArgs {
    /// Where to serve the WorkMarket simulator (use port 0 for any free port).
    #[arg(long, env = "COVERBRIDGE_SANDBOX_WORKMARKET_ADDR", default_value = "127.0.0.1:8481")]
    pub workmarket_addr: SocketAddr,

    /// Where to serve the 1099Policy simulator (use port 0 for any free port).
    #[arg(long, env = "COVERBRIDGE_SANDBOX_TEN99POLICY_ADDR", default_value = "127.0.0.1:8482")]
    pub ten99policy_addr: SocketAddr,

    /// Deliver WorkMarket webhooks (the shipped template, every event the README lists) here,
    /// e.g. http://127.0.0.1:8080/webhooks/workmarket.
    #[arg(long, env = "COVERBRIDGE_SANDBOX_WORKMARKET_WEBHOOK_URL")]
    pub workmarket_webhook_url: Option<String>,

    /// Deliver signed 1099Policy webhooks here, e.g. http://127.0.0.1:8080/webhooks/1099policy.
    #[arg(long, env = "COVERBRIDGE_SANDBOX_TEN99POLICY_WEBHOOK_URL")]
    pub ten99policy_webhook_url: Option<String>,

    /// Token WorkMarket webhooks carry (as `Authorization: Bearer`); match the operator's
    /// COVERBRIDGE_WEBHOOK_TOKEN.
    #[arg(long, env = "COVERBRIDGE_SANDBOX_WEBHOOK_TOKEN", default_value = "sandbox-webhook-token")]
    pub webhook_token: String,

    /// Secret 1099Policy webhooks are signed with; match the operator's
    /// TEN99POLICY_WEBHOOK_SECRET.
    #[arg(long, env = "COVERBRIDGE_SANDBOX_WEBHOOK_SECRET", default_value = ten99policy::SANDBOX_WEBHOOK_SECRET)]
    pub webhook_secret: String,

    /// Start without the seed (no entity, codes, workers or work orders).
    #[arg(long)]
    pub empty: bool,
}

/// Serves both simulators until interrupted, after printing where and with what credentials.
pub async fn run(args: SandboxArgs) -> std::io::Result<()> {
    let (_workmarket, workmarket_summary) = workmarket::serve(
        WorkMarketSandboxConfig {
            seed: !args.empty,
            webhook_url: args.workmarket_webhook_url.clone(),
            webhook_token: Some(args.webhook_token.clone()),
            ..WorkMarketSandboxConfig::default()
        },
        args.workmarket_addr,
    )
    .await?;
    let ten99policy = Ten99PolicySandbox::new(Ten99PolicySandboxConfig {
        seed: !args.empty,
        webhook_url: args.ten99policy_webhook_url.clone(),
        webhook_secret: Some(Secret::new(args.webhook_secret.clone())),
        ..Ten99PolicySandboxConfig::default()
    })
    .start_on(args.ten99policy_addr)
    .await?;
    println!("{}\n{}", workmarket_summary.trim_end(), ten99policy.summary().trim_end());
    println!("\nServing until Ctrl-C.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
