//! WorkMarket's token exchange and the access-token cache.
//!
//! The API token and secret are exchanged at `…/authorization/request` for an access token
//! (not standard OAuth2: no grant type, no expiry). WorkMarket does not say how long access
//! tokens live, so the client keeps one until a call answers HTTP 401, then gets a new one once.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tokio::sync::Mutex;

use super::WorkMarketError;
use super::envelope::decode;
use crate::http::HttpClient;
use crate::secret::Secret;

/// The API token and secret from WorkMarket's settings page.
#[derive(Debug)]
pub(crate) struct Credentials {
    pub token: Secret,
    pub secret: Secret,
}

/// An access token, and which exchange produced it.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub value: Secret,
    generation: u64,
}

/// The current access token, shared by every call of one client.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    // A tokio mutex, held across the exchange, so concurrent first calls share one exchange.
    slot: Mutex<Option<AccessToken>>,
    exchanges: AtomicU64,
}

impl TokenCache {
    /// The cached token, or a new one from `exchange`.
    pub async fn get_or_exchange<F, Fut>(&self, exchange: F) -> Result<AccessToken, WorkMarketError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret, WorkMarketError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref() {
            return Ok(token.clone());
        }
        let value = exchange().await?;
        let token = AccessToken { value, generation: self.exchanges.fetch_add(1, Ordering::Relaxed) + 1 };
        *slot = Some(token.clone());
        Ok(token)
    }

    /// Drops `token` because WorkMarket refused it. A token another call already replaced stays,
    /// so concurrent 401s cause one new exchange, not one each.
    pub async fn forget(&self, token: &AccessToken) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| t.generation == token.generation) {
            *slot = None;
        }
    }
}

/// Exchanges the API token and secret for an access token, as a form body (not the query
/// string, so they stay out of access logs).
pub(crate) async fn exchange(
    http: &HttpClient,
    url: &str,
    credentials: &Credentials,
) -> Result<Secret, WorkMarketError> {
    let form = [("token", credentials.token.expose()), ("secret", credentials.secret.expose())];
    let response = http.send(super::API_NAME, |client| client.post(url).form(&form)).await?;
    let reply = decode(&response).map_err(|error| match error {
        WorkMarketError::Unauthorized { message } => WorkMarketError::Unauthorized {
            message: format!(
                "the API token and secret were refused ({message}); check WORKMARKET_API_TOKEN and WORKMARKET_API_SECRET"
            ),
        },
        other => other,
    })?;
    match reply.body.get("access_token") {
        Some(Value::String(token)) if !token.is_empty() => {
            tracing::debug!("obtained a WorkMarket access token");
            Ok(Secret::new(token.clone()))
        }
        _ => Err(WorkMarketError::invalid("response.access_token", "missing from the token exchange answer")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    #[tokio::test]
    async fn one_exchange_until_forgotten_and_stale_forgets_are_ignored() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let exchange = || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok(Secret::new(format!("token-{n}")))
        };
        let first = cache.get_or_exchange(exchange).await.unwrap();
        let again = cache.get_or_exchange(exchange).await.unwrap();
        assert_eq!(again.value.expose(), "token-0");
        cache.forget(&first).await;
        let renewed = cache.get_or_exchange(exchange).await.unwrap();
        assert_eq!(renewed.value.expose(), "token-1");
        // A second call that also saw token-0 refused must not throw away token-1.
        cache.forget(&first).await;
        let kept = cache.get_or_exchange(exchange).await.unwrap();
        assert_eq!(kept.value.expose(), "token-1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_exchange_caches_nothing() {
        let cache = TokenCache::default();
        let failed =
            cache.get_or_exchange(|| async { Err(WorkMarketError::Unauthorized { message: "no".into() }) }).await;
        assert!(failed.is_err());
        let token = cache.get_or_exchange(|| async { Ok(Secret::new("t")) }).await.unwrap();
        assert_eq!(token.value.expose(), "t");
        assert!(!format!("{token:?}").contains("\"t\""));
    }
}
