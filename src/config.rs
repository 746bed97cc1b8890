//! Operator configuration: flags with environment-variable twins (DESIGN §1). Secrets are not
//! flags; they come from the environment or mounted files (see [`crate::secret`]).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::workmarket::PathStyle;

/// How coverbridge reaches WorkMarket and 1099Policy: the settings `run`, `plan` and `audit`
/// share, so a check in CI runs with exactly the operator's configuration.
#[derive(clap::Args, Clone, Debug)]
pub struct PlatformArgs {
    /// WorkMarket base URL.
    #[arg(long, env = "COVERBRIDGE_WORKMARKET_URL", default_value = "https://www.workmarket.com")]
    pub workmarket_url: String,

    /// WorkMarket path family: `api` for /api/v1/…, `employer` for /v1/employer/….
    #[arg(long, env = "COVERBRIDGE_WORKMARKET_PATH_STYLE", value_enum, default_value_t = PathStyle::Api)]
    pub workmarket_path_style: PathStyle,

    /// 1099Policy base URL.
    #[arg(long, env = "COVERBRIDGE_TEN99POLICY_URL", default_value = "https://api.1099policy.com")]
    pub ten99policy_url: String,

    /// Domain of proxy e-mail addresses (`<worker_id>@<domain>`) for workers WorkMarket has no
    /// e-mail for. Required when such a worker appears.
    #[arg(long, env = "COVERBRIDGE_PROXY_EMAIL_DOMAIN")]
    pub proxy_email_domain: Option<String>,

    /// 1099Policy entity (`en_…`) for bindings that name none.
    #[arg(long, env = "COVERBRIDGE_DEFAULT_ENTITY")]
    pub default_entity: Option<String>,

    /// Requests per second coverbridge allows itself against 1099Policy.
    #[arg(long, env = "COVERBRIDGE_TEN99POLICY_RPS", default_value_t = NonZeroU32::new(10).unwrap())]
    pub ten99policy_rps: NonZeroU32,

    /// Requests per second coverbridge allows itself against WorkMarket.
    #[arg(long, env = "COVERBRIDGE_WORKMARKET_RPS", default_value_t = NonZeroU32::new(10).unwrap())]
    pub workmarket_rps: NonZeroU32,

    /// How long 1099Policy's lists of category codes and of entities are trusted once read, e.g.
    /// `5m` (at least 30s). A binding held back by an unknown or unapproved code, or an unknown
    /// entity, is checked again after this long; a CategoryMapping change reads the codes at once.
    #[arg(long, env = "COVERBRIDGE_CATEGORY_CODES_TTL", default_value = "5m", value_parser = listings_ttl)]
    pub category_codes_ttl: Duration,
}

/// Settings of `coverbridge run`.
#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// How the platforms are reached.
    #[command(flatten)]
    pub platforms: PlatformArgs,

    /// Address the webhook receiver listens on.
    #[arg(long, env = "COVERBRIDGE_WEBHOOK_ADDR", default_value = "0.0.0.0:8080")]
    pub webhook_addr: SocketAddr,

    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "COVERBRIDGE_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,

    /// Namespaces to watch, comma-separated; all namespaces when unset.
    #[arg(long, env = "COVERBRIDGE_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,

    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// Name of the leader-election Lease.
    #[arg(long, env = "COVERBRIDGE_LEASE_NAME", default_value = "coverbridge")]
    pub lease_name: String,

    /// How often WorkMarket's change feed (list_updated) is swept for work orders whose
    /// webhook was lost, e.g. `5m`. At least 2 minutes, as WorkMarket asks.
    #[arg(long, env = "COVERBRIDGE_SWEEP_INTERVAL", default_value = "5m", value_parser = sweep_interval)]
    pub sweep_interval: Duration,

    /// How often every binding is compared with both APIs even when nothing signalled a change.
    #[arg(long, env = "COVERBRIDGE_RESYNC_INTERVAL", default_value = "15m", value_parser = duration)]
    pub resync_interval: Duration,

    /// Oldest 1099Policy webhook signature accepted, e.g. `300s`.
    #[arg(long, env = "COVERBRIDGE_WEBHOOK_TOLERANCE", default_value = "300s", value_parser = duration)]
    pub webhook_tolerance: Duration,

    /// YAML file with the auto-binding template (namespace, entity, coverage types, mapping,
    /// trigger and a selector on industry, client or label). Without it, no binding is created
    /// automatically.
    #[arg(long, env = "COVERBRIDGE_AUTOBIND_CONFIG")]
    pub auto_bind_config: Option<PathBuf>,

    /// How many bindings the leader reconciles at once. Each reconcile mostly waits on the two
    /// APIs and the Kubernetes API, so this bounds throughput until a rate limit does.
    #[arg(long, env = "COVERBRIDGE_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Watch Secrets labelled coverbridge.io/certificate=true, so a replaced bring-your-own
    /// certificate is picked up at once. Needs RBAC to list and watch Secrets; turn off (chart:
    /// rbac.secrets=false) when no binding uses spec.certificate.
    #[arg(long, env = "COVERBRIDGE_CERTIFICATE_SECRETS", default_value_t = true, action = clap::ArgAction::Set)]
    pub certificate_secrets: bool,
}

/// Parses a duration such as `90s`, `5m` or `1h`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration =
        text.trim().parse().map_err(|e| format!("{text:?} is not a duration such as 90s, 5m or 1h: {e}"))?;
    Duration::try_from(parsed).map_err(|_| format!("{text:?} is negative"))
}

fn listings_ttl(text: &str) -> Result<Duration, String> {
    let ttl = duration(text)?;
    if ttl < Duration::from_secs(30) {
        return Err(format!(
            "{text:?} is shorter than 30s; every held binding would read 1099Policy's lists again and again"
        ));
    }
    Ok(ttl)
}

fn sweep_interval(text: &str) -> Result<Duration, String> {
    let interval = duration(text)?;
    if interval < Duration::from_secs(120) {
        return Err(format!("{text:?} is shorter than 2m; WorkMarket asks for at least two minutes between polls"));
    }
    Ok(interval)
}

/// The environment variables secrets are read from (each also as `<NAME>_FILE`).
pub mod secrets {
    /// WorkMarket API token.
    pub const WORKMARKET_API_TOKEN: &str = "WORKMARKET_API_TOKEN";
    /// WorkMarket API secret.
    pub const WORKMARKET_API_SECRET: &str = "WORKMARKET_API_SECRET";
    /// 1099Policy API key.
    pub const TEN99POLICY_API_KEY: &str = "TEN99POLICY_API_KEY";
    /// 1099Policy webhook signing secret (`whsec_…`).
    pub const TEN99POLICY_WEBHOOK_SECRET: &str = "TEN99POLICY_WEBHOOK_SECRET";
    /// The token WorkMarket webhooks must carry.
    pub const WEBHOOK_TOKEN: &str = "COVERBRIDGE_WEBHOOK_TOKEN";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_friendly_units() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(duration("soon").unwrap_err().contains("soon"));
        assert!(sweep_interval("1m").unwrap_err().contains("2m"));
        assert!(listings_ttl("0s").unwrap_err().contains("30s"));
        assert_eq!(listings_ttl("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(sweep_interval("2m"), Ok(Duration::from_secs(120)));
    }
}
