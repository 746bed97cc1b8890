//! `coverbridge run`: reads configuration and credentials, builds the clients and runs the
//! operator until SIGTERM or Ctrl-C.

use crate::config::{RunArgs, secrets};
use crate::http::{HttpClient, HttpSettings};
use crate::reconcile::{Reconciler, Settings as CoreSettings};
use crate::secret::{self, Secret, SecretError};
use crate::ten99policy::{Ten99PolicyClient, Verifier};
use crate::webhooks::Credentials;
use crate::workmarket::WorkMarketClient;

use super::{Operator, RunError, Settings, Telemetry, Template, TemplateError};

/// Why `coverbridge run` could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A required credential is not set.
    #[error("{0} is not set; provide it as an environment variable or as {0}_FILE (a mounted Secret file)")]
    MissingSecret(&'static str),
    /// A credential could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The auto-binding template is unusable.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A base URL is unusable.
    #[error("{0}")]
    Config(String),
    /// No Kubernetes configuration (in-cluster service account or kubeconfig) was found.
    #[error("no Kubernetes configuration: {0}")]
    Kubeconfig(#[from] kube::Error),
    /// The operator failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

fn required(name: &'static str) -> Result<Secret, StartError> {
    secret::from_env(name)?.ok_or(StartError::MissingSecret(name))
}

/// Runs the operator as configured by `args` and the environment.
pub async fn run(args: RunArgs) -> Result<(), StartError> {
    let workmarket_token = required(secrets::WORKMARKET_API_TOKEN)?;
    let workmarket_secret = required(secrets::WORKMARKET_API_SECRET)?;
    let api_key = required(secrets::TEN99POLICY_API_KEY)?;
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
    let http = |rps| {
        HttpClient::new(HttpSettings { requests_per_second: rps, ..HttpSettings::default() })
            .with_observer(telemetry.metrics.http_observer())
    };
    let workmarket = WorkMarketClient::new(
        args.workmarket_url.clone(),
        args.workmarket_path_style,
        workmarket_token,
        workmarket_secret,
        http(args.workmarket_rps),
    );
    let ten99policy = Ten99PolicyClient::new(&args.ten99policy_url, api_key, http(args.ten99policy_rps))
        .map_err(|e| StartError::Config(e.to_string()))?;
    let core = CoreSettings {
        default_entity: args.default_entity.clone(),
        proxy_email_domain: args.proxy_email_domain.clone(),
        ..CoreSettings::default()
    };
    let reconciler = Reconciler::new(workmarket.clone(), ten99policy, core);
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
