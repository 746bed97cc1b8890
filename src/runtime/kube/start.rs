//! `coverbridge run`: reads configuration and credentials, builds the clients and runs the
//! operator until SIGTERM or Ctrl-C.

use crate::config::{RunArgs, secrets};
use crate::connect::{Access, ConnectError, Platforms};
use crate::secret::{self, SecretError};
use crate::ten99policy::Verifier;
use crate::webhooks::Credentials;

use super::{Operator, RunError, Settings, Telemetry, Template, TemplateError};

/// Why `coverbridge run` could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The clients could not be built (a credential or base URL).
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A credential could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The auto-binding template is unusable.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// No Kubernetes configuration (in-cluster service account or kubeconfig) was found.
    #[error("no Kubernetes configuration: {0}")]
    Kubeconfig(#[from] kube::Error),
    /// The operator failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Runs the operator as configured by `args` and the environment.
pub async fn run(args: RunArgs) -> Result<(), StartError> {
    let webhook_secret = secret::from_env(secrets::TEN99POLICY_WEBHOOK_SECRET)?;
    let webhook_token = secret::from_env(secrets::WEBHOOK_TOKEN)?;
    if webhook_secret.is_none() {
        tracing::warn!(
            "TEN99POLICY_WEBHOOK_SECRET is not set: 1099Policy webhooks will be refused (polling still works)"
        );
    }
    if webhook_token.is_none() {
        tracing::warn!(
            "COVERBRIDGE_WEBHOOK_TOKEN is not set: WorkMarket webhooks will be refused (the sweep still works)"
        );
    }
    let auto_bind = args.auto_bind_config.as_deref().map(Template::load).transpose()?;

    let telemetry = Telemetry::new();
    let Platforms { workmarket, reconciler } =
        args.platforms.connect(Access::ReadWrite, Some(telemetry.metrics.http_observer()))?;
    let client = kube::Client::try_default().await?;
    let identity = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| format!("coverbridge-{}", std::process::id()));
    let settings = Settings {
        namespaces: args.namespaces.iter().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect(),
        webhook_addr: args.webhook_addr,
        metrics_addr: args.metrics_addr,
        lease_namespace: args.lease_namespace.clone(),
        lease_name: args.lease_name.clone(),
        identity,
        resync: args.resync_interval,
        sweep_interval: args.sweep_interval,
        credentials: Credentials {
            workmarket_token: webhook_token,
            ten99policy: webhook_secret.map(|s| Verifier::new(s).with_tolerance(args.webhook_tolerance)),
        },
        auto_bind,
        concurrency: args.concurrency,
        certificate_secrets: args.certificate_secrets,
    };
    Operator::new(client, reconciler, workmarket, settings, telemetry).run(terminated()).await?;
    Ok(())
}

/// Resolves on SIGTERM (what Kubernetes sends) or Ctrl-C.
async fn terminated() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
