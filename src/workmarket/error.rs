//! What can go wrong talking to WorkMarket, split by what the caller should do about it.
//!
//! Messages end up in Kubernetes conditions and Events, so they say what happened in words a
//! person can act on. None ever carries a credential or an access token: they are built from
//! WorkMarket's own error messages and from field names, never from requests.

use std::time::Duration;

use crate::http::TransportError;

/// A failed WorkMarket call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WorkMarketError {
    /// No answer arrived (connection refused, timeout, connection dropped), even after retries.
    #[error("WorkMarket did not answer: {0}")]
    Transport(TransportError),
    /// WorkMarket refused the API token and secret, or the access token even after renewing it.
    #[error("WorkMarket refused the API credentials: {message}")]
    Unauthorized {
        /// What WorkMarket said, with what coverbridge was doing.
        message: String,
    },
    /// The API user lacks a permission (WorkMarket requires the admin role for API calls).
    #[error("WorkMarket API user is not allowed to do this (it needs the admin role): {message}")]
    Forbidden {
        /// What WorkMarket said.
        message: String,
    },
    /// The work order does not exist, or this API user cannot see it. WorkMarket does not tell
    /// the two apart.
    #[error("WorkMarket work order {id} does not exist or is not visible to this API user ({message})")]
    NotFound {
        /// The assignment number asked for.
        id: String,
        /// What WorkMarket said.
        message: String,
    },
    /// WorkMarket's rate limit was reached, even after the retries the shared HTTP layer made.
    #[error("WorkMarket rate limit reached: {message}")]
    RateLimited {
        /// How long WorkMarket asked to wait (`Retry-After` or `X-Rate-Limit-Reset`), if it said.
        retry_after: Option<Duration>,
        /// What WorkMarket said.
        message: String,
    },
    /// WorkMarket failed on its side (5xx), even after retries.
    #[error("WorkMarket server error {code}: {message}")]
    Server {
        /// HTTP status, or the status inside an HTTP 200 envelope.
        code: u16,
        /// What WorkMarket said.
        message: String,
    },
    /// WorkMarket answered that the request is wrong (a 4xx, or an error inside an HTTP 200).
    /// Repeating it will not help.
    #[error("WorkMarket rejected the request ({}): {message}", describe_code(*.http_status, *.code))]
    Rejected {
        /// HTTP status of the answer.
        http_status: u16,
        /// Status WorkMarket reported: the HTTP status, or `meta.status_code` inside a 200.
        code: u16,
        /// What WorkMarket said.
        message: String,
    },
    /// The answer could not be understood: not JSON, or a field of the wrong shape or a
    /// malformed amount. Never guessed around.
    #[error("WorkMarket answer has an invalid {field}: {reason}")]
    Invalid {
        /// The field, as a dotted path such as `response.pricing.flat_price`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn describe_code(http_status: u16, code: u16) -> String {
    match (http_status, code) {
        (200, code) => format!("status {code} inside an HTTP 200 answer"),
        (404, _) => "HTTP 404: no such endpoint; check the base URL and path style".to_owned(),
        (http, _) => format!("HTTP {http}"),
    }
}

impl WorkMarketError {
    /// Whether trying the same call again later may succeed: no answer, 429 or 5xx. Everything
    /// else needs a person (or different input) to change something first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(error) => error.is_retryable(),
            Self::RateLimited { .. } | Self::Server { .. } => true,
            Self::Unauthorized { .. }
            | Self::Forbidden { .. }
            | Self::NotFound { .. }
            | Self::Rejected { .. }
            | Self::Invalid { .. } => false,
        }
    }

    /// How long WorkMarket asked to wait before trying again, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A stable PascalCase name of the kind of failure, for condition reasons and metric labels.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Transport(_) => "WorkMarketUnreachable",
            Self::Unauthorized { .. } => "WorkMarketUnauthorized",
            Self::Forbidden { .. } => "WorkMarketForbidden",
            Self::NotFound { .. } => "WorkOrderNotFound",
            Self::RateLimited { .. } => "WorkMarketRateLimited",
            Self::Server { .. } => "WorkMarketServerError",
            Self::Rejected { .. } => "WorkMarketRejected",
            Self::Invalid { .. } => "WorkMarketInvalidAnswer",
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), reason: reason.into() }
    }
}

impl From<TransportError> for WorkMarketError {
    fn from(error: TransportError) -> Self {
        Self::Transport(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_only_when_waiting_can_help() {
        let retryable = [
            WorkMarketError::Transport(TransportError::Timeout(Duration::from_secs(1))),
            WorkMarketError::RateLimited { retry_after: None, message: "Rate limit reached".into() },
            WorkMarketError::Server { code: 503, message: "x".into() },
        ];
        let terminal = [
            WorkMarketError::Transport(TransportError::Request("bad url".into())),
            WorkMarketError::Unauthorized { message: "x".into() },
            WorkMarketError::Forbidden { message: "x".into() },
            WorkMarketError::NotFound { id: "1".into(), message: "x".into() },
            WorkMarketError::Rejected { http_status: 400, code: 400, message: "x".into() },
            WorkMarketError::invalid("response.id", "missing"),
        ];
        assert!(retryable.iter().all(WorkMarketError::is_retryable));
        assert!(!terminal.iter().any(WorkMarketError::is_retryable));
    }

    #[test]
    fn messages_say_what_happened() {
        let inside = WorkMarketError::Rejected { http_status: 200, code: 400, message: "id is required".into() };
        assert_eq!(
            inside.to_string(),
            "WorkMarket rejected the request (status 400 inside an HTTP 200 answer): id is required"
        );
        let missing_endpoint = WorkMarketError::Rejected { http_status: 404, code: 404, message: "Not Found".into() };
        assert!(missing_endpoint.to_string().contains("path style"));
        let not_found = WorkMarketError::NotFound {
            id: "42".into(),
            message: "User not authorized to modify assignment 42.".into(),
        };
        assert!(not_found.to_string().starts_with("WorkMarket work order 42 does not exist"));
        assert_eq!(not_found.reason(), "WorkOrderNotFound");
    }
}
