//! The HTTP plumbing both API clients share: connection pooling and per-request timeouts
//! (reqwest), a client-side token-bucket rate limit (governor), and retries of transient
//! failures with exponential backoff and full jitter that honour `Retry-After`.
//!
//! This layer knows nothing about either API's bodies. It retries what any HTTP service means as
//! "try again" (no answer, 429, 5xx) and hands every final answer, success or not, to the
//! client, which decodes it into its own typed error.

mod backoff;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

pub use backoff::RetryPolicy;

/// How an API client talks HTTP.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Limit on one attempt, from sending the request to reading the whole body.
    pub timeout: Duration,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Client-side rate limit, in requests per second (a token bucket of that size).
    pub requests_per_second: NonZeroU32,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            requests_per_second: NonZeroU32::new(10).expect("10 is not zero"),
            retry: RetryPolicy::default(),
        }
    }
}

/// A final HTTP answer: status, headers and the whole body.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code, error or not; the caller decides what it means.
    pub status: StatusCode,
    /// Headers, e.g. `Retry-After`.
    pub headers: HeaderMap,
    /// The complete body.
    pub body: Bytes,
}

impl Response {
    /// The server's `Retry-After`, in delta-seconds or as an HTTP date.
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }
}

/// No HTTP answer was received. Never carries headers or bodies, so never a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The attempt exceeded its timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be established.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The connection broke before the whole answer arrived (reset, closed mid-body).
    #[error("connection lost before the answer was complete: {0}")]
    Interrupted(String),
    /// The request could not be built (a bug, not a network condition).
    #[error("invalid request: {0}")]
    Request(String),
    /// The client is read-only and refused to send a request that could change something.
    #[error("refused to send {method} {path}: this client only reads (coverbridge plan and audit make no writes)")]
    ReadOnly {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
}

impl TransportError {
    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Request(_) | Self::ReadOnly { .. })
    }
}

/// Whether an HTTP status means "try again later".
pub fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Told about every attempt: API name, method, path and status (`None` when no answer came).
pub type Observer = Arc<dyn Fn(&'static str, &reqwest::Method, &str, Option<u16>) + Send + Sync>;

/// A pooled, rate-limited HTTP client with retries. Cheap to clone; clones share the pool and
/// the rate limit.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    limiter: Arc<DefaultDirectRateLimiter>,
    settings: HttpSettings,
    observer: Option<Observer>,
    read_only: Option<ReadOnly>,
}

/// A client that only reads: GET and HEAD go out, and POSTs to paths ending in one of
/// `posts_allowed` (a token exchange); anything else is refused before it is sent.
#[derive(Clone, Copy, Debug)]
struct ReadOnly {
    posts_allowed: &'static [&'static str],
}

impl ReadOnly {
    fn allows(&self, method: &reqwest::Method, path: &str) -> bool {
        matches!(*method, reqwest::Method::GET | reqwest::Method::HEAD)
            || (*method == reqwest::Method::POST && self.posts_allowed.iter().any(|p| path.ends_with(p)))
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with its own connection pool and rate limit.
    pub fn new(settings: HttpSettings) -> Self {
        let inner = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("coverbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        let limiter = RateLimiter::direct(Quota::per_second(settings.requests_per_second));
        Self { inner, limiter: Arc::new(limiter), settings, observer: None, read_only: None }
    }

    /// The same client, refusing before sending anything but GET and HEAD, and POST to paths
    /// ending in one of `posts_allowed`. What `coverbridge plan` and `audit` are built on.
    pub fn read_only(mut self, posts_allowed: &'static [&'static str]) -> Self {
        self.read_only = Some(ReadOnly { posts_allowed });
        self
    }

    /// The same client, reporting every attempt to `observer` (metrics).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends the request `build` makes, retrying transient failures. `build` runs once per
    /// attempt, so every attempt carries the same headers — and the same idempotency key.
    /// Returns the final answer whatever its status; `Err` only when no answer arrived.
    pub async fn send(
        &self,
        api: &'static str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, TransportError> {
        let policy = &self.settings.retry;
        let mut attempt = 0;
        loop {
            self.limiter.until_ready().await;
            let request =
                build(&self.inner).build().map_err(|e| TransportError::Request(error_chain(&e.without_url())))?;
            let (method, path) = (request.method().clone(), request.url().path().to_owned());
            if let Some(read_only) = self.read_only
                && !read_only.allows(&method, &path)
            {
                tracing::warn!(api, %method, path, "a read-only client refused to send a write");
                return Err(TransportError::ReadOnly { method: method.to_string(), path });
            }
            let outcome = self.attempt(request).await;
            let wait = match &outcome {
                Ok(response) if is_retryable_status(response.status) => {
                    Some(policy.delay(attempt).max(response.retry_after().unwrap_or_default()))
                }
                Err(error) if error.is_retryable() => Some(policy.delay(attempt)),
                _ => None,
            };
            match &outcome {
                Ok(r) => {
                    tracing::debug!(api, %method, path, status = r.status.as_u16(), attempt, "http call")
                }
                Err(e) => {
                    tracing::debug!(api, %method, path, error = %e, attempt, "http call failed")
                }
            }
            if let Some(observer) = &self.observer {
                observer(api, &method, &path, outcome.as_ref().ok().map(|r| r.status.as_u16()));
            }
            attempt += 1;
            match wait {
                Some(wait) if attempt < policy.max_attempts && wait <= policy.max_wait => {
                    tokio::time::sleep(wait).await;
                }
                _ => return outcome,
            }
        }
    }

    async fn attempt(&self, request: reqwest::Request) -> Result<Response, TransportError> {
        let response = self.inner.execute(request).await.map_err(|e| self.classify(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.classify(e))?;
        Ok(Response { status, headers, body })
    }

    fn classify(&self, error: reqwest::Error) -> TransportError {
        let (timeout, connect, builder) = (error.is_timeout(), error.is_connect(), error.is_builder());
        // URLs carry no secrets here, but dropping them keeps messages short and uniform.
        let message = error_chain(&error.without_url());
        if timeout {
            TransportError::Timeout(self.settings.timeout)
        } else if connect {
            TransportError::Connect(message)
        } else if builder {
            TransportError::Request(message)
        } else {
            TransportError::Interrupted(message)
        }
    }
}

/// The error and its causes on one line (reqwest's own message alone says only "error sending
/// request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Parses `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value).ok()?;
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or_default())
}

#[cfg(test)]
mod tests;
