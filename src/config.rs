//! Operator configuration: flags with environment-variable twins (DESIGN §1). Secrets are not
//! flags; they come from the environment or mounted files (see [`crate::secret`]).

use std::net::SocketAddr;

pub use crate::workmarket::PathStyle;

/// Settings of `coverbridge run`.
#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// WorkMarket base URL.
    #[arg(long, env = "COVERBRIDGE_WORKMARKET_URL", default_value = "https://www.workmarket.com")]
    pub workmarket_url: String,

    /// WorkMarket path family: `api` for /api/v1/…, `employer` for /v1/employer/….
    #[arg(long, env = "COVERBRIDGE_WORKMARKET_PATH_STYLE", value_enum, default_value_t = PathStyle::Api)]
    pub workmarket_path_style: PathStyle,

    /// 1099Policy base URL.
    #[arg(long, env = "COVERBRIDGE_TEN99POLICY_URL", default_value = "https://api.1099policy.com")]
    pub ten99policy_url: String,

    /// Address the webhook receiver listens on.
    #[arg(long, env = "COVERBRIDGE_WEBHOOK_ADDR", default_value = "0.0.0.0:8080")]
    pub webhook_addr: SocketAddr,

    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "COVERBRIDGE_METRICS_ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_addr: SocketAddr,

    /// Domain of proxy e-mail addresses (`<worker_id>@<domain>`) for workers WorkMarket has no
    /// e-mail for. Required when such a worker appears.
    #[arg(long, env = "COVERBRIDGE_PROXY_EMAIL_DOMAIN")]
    pub proxy_email_domain: Option<String>,

    /// Namespaces to watch, comma-separated; all namespaces when unset.
    #[arg(long, env = "COVERBRIDGE_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,

    /// 1099Policy entity (`en_…`) for bindings that name none.
    #[arg(long, env = "COVERBRIDGE_DEFAULT_ENTITY")]
    pub default_entity: Option<String>,

    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
}
