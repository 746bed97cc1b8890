//! coverbridge's own clients pointed at the in-process sandboxes, for the demo, the tests and
//! the benchmark. Only in builds with the `sandbox` feature (the default); the sandbox crate
//! itself knows nothing of these clients.

use coverbridge_sandbox::{ten99policy, workmarket};

use crate::http::HttpClient;
use crate::secret::Secret;
use crate::ten99policy::{Ten99PolicyClient, Verifier};
use crate::workmarket::{PathStyle, WorkMarketClient};

/// A [`Ten99PolicyClient`] for a running 1099Policy sandbox.
pub trait Ten99PolicySandboxClient {
    /// A client for this sandbox with its API key.
    fn client(&self, http: HttpClient) -> Ten99PolicyClient;
    /// A verifier of the webhooks this sandbox signs for its configured webhook URL.
    fn verifier(&self) -> Verifier;
}

impl Ten99PolicySandboxClient for ten99policy::RunningSandbox {
    fn client(&self, http: HttpClient) -> Ten99PolicyClient {
        Ten99PolicyClient::new(&self.url, Secret::new(self.sandbox.api_key()), http)
            .expect("the sandbox URL is a valid base URL")
    }

    fn verifier(&self) -> Verifier {
        Verifier::new(Secret::new(self.sandbox.configured_webhook_secret().expose()))
    }
}

/// A [`WorkMarketClient`] for a running WorkMarket sandbox.
pub trait WorkMarketSandboxClient {
    /// A client for this sandbox with its API credentials, calling `path_style`'s paths.
    fn client(&self, path_style: PathStyle, http: HttpClient) -> WorkMarketClient;
}

impl WorkMarketSandboxClient for workmarket::RunningSandbox {
    fn client(&self, path_style: PathStyle, http: HttpClient) -> WorkMarketClient {
        let (token, secret) = self.credentials();
        WorkMarketClient::new(&self.url, path_style, Secret::new(token), Secret::new(secret), http)
    }
}
