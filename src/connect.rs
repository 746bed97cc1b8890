//! The two API clients and the core's settings, as `run`, `plan` and `audit` configure them:
//! settings from flags, credentials from the environment or `<NAME>_FILE`. `plan` and `audit`
//! get clients that refuse to send anything but reads.

use crate::config::{PlatformArgs, secrets};
use crate::http::{HttpClient, HttpSettings, Observer};
use crate::reconcile::{Reconciler, Settings};
use crate::secret::{self, Secret, SecretError};
use crate::ten99policy::Ten99PolicyClient;
use crate::workmarket::WorkMarketClient;

/// Whether the clients may change anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The operator: reads and writes.
    ReadWrite,
    /// `plan` and `audit`: GET only, and WorkMarket's token exchange (a POST that changes
    /// nothing); any other request is refused inside the client before it is sent.
    ReadOnly,
}

/// WorkMarket's token exchange, the one POST a read-only client sends.
const TOKEN_EXCHANGE: &[&str] = &["/authorization/request"];

/// Why the clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A required credential is not set.
    #[error("{0} is not set; provide it as an environment variable or as {0}_FILE (a mounted Secret file)")]
    MissingSecret(&'static str),
    /// A credential could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A base URL is unusable.
    #[error("{0}")]
    Config(String),
}

/// A credential that must be there.
pub fn required(name: &'static str) -> Result<Secret, ConnectError> {
    secret::from_env(name)?.ok_or(ConnectError::MissingSecret(name))
}

/// Both clients and the reconciler over them.
#[derive(Clone)]
pub struct Platforms {
    /// WorkMarket's client, which the sweep and auto-binding use beside the reconciler.
    pub workmarket: WorkMarketClient,
    /// The core, over both clients.
    pub reconciler: Reconciler,
}

impl PlatformArgs {
    /// The core's settings these flags give.
    pub fn core_settings(&self) -> Settings {
        Settings {
            default_entity: self.default_entity.clone(),
            proxy_email_domain: self.proxy_email_domain.clone(),
            listings_ttl: self.category_codes_ttl,
            ..Settings::default()
        }
    }

    /// The clients (with their credentials from the environment) and the reconciler, every
    /// request reported to `observer` when given.
    pub fn connect(&self, access: Access, observer: Option<Observer>) -> Result<Platforms, ConnectError> {
        // Read-only, each client allows only its own harmless POSTs: WorkMarket's token exchange.
        let http = |rps, posts_allowed: &'static [&'static str]| {
            let client = HttpClient::new(HttpSettings { requests_per_second: rps, ..HttpSettings::default() });
            let client = match &observer {
                Some(observer) => client.with_observer(observer.clone()),
                None => client,
            };
            match access {
                Access::ReadWrite => client,
                Access::ReadOnly => client.read_only(posts_allowed),
            }
        };
        let workmarket = WorkMarketClient::new(
            self.workmarket_url.clone(),
            self.workmarket_path_style,
            required(secrets::WORKMARKET_API_TOKEN)?,
            required(secrets::WORKMARKET_API_SECRET)?,
            http(self.workmarket_rps, TOKEN_EXCHANGE),
        );
        let api_key = required(secrets::TEN99POLICY_API_KEY)?;
        let ten99policy = Ten99PolicyClient::new(&self.ten99policy_url, api_key, http(self.ten99policy_rps, &[]))
            .map_err(|e| ConnectError::Config(format!("COVERBRIDGE_TEN99POLICY_URL: {e}")))?;
        let reconciler = Reconciler::new(workmarket.clone(), ten99policy, self.core_settings());
        Ok(Platforms { workmarket, reconciler })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        platforms: PlatformArgs,
    }

    #[test]
    fn the_flags_defaults_are_the_cores() {
        let flags = Flags::try_parse_from(["coverbridge"]).unwrap();
        let (from_flags, core) = (flags.platforms.core_settings(), Settings::default());
        assert_eq!(from_flags.listings_ttl, core.listings_ttl, "COVERBRIDGE_CATEGORY_CODES_TTL's default");
        assert_eq!((from_flags.default_entity, from_flags.proxy_email_domain), (None, None));
    }
}
