//! What can go wrong talking to 1099Policy, in terms a person can act on: the messages end up
//! in Kubernetes conditions.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::http::{Response, TransportError, is_retryable_status};

/// The message 1099Policy answers an assignment with when the contractor holds no policy that
/// covers the job (reference §8 item 6). It comes without a dedicated error code.
pub const NO_MATCHING_POLICY_MESSAGE: &str = "No matching policy found for assignment.";

/// A failed call to 1099Policy.
#[derive(Debug, thiserror::Error)]
pub enum Ten99PolicyError {
    /// 1099Policy answered with an error status.
    #[error("1099Policy answered {status} {code}: {message}")]
    Api {
        /// HTTP status of the error answer, e.g. 400 or 404.
        status: StatusCode,
        /// The `error_code`, typed.
        code: ErrorCode,
        /// The `message`, made readable (field maps joined as `field: problem`).
        message: String,
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// No answer arrived (timeout, refused or broken connection), after retries.
    #[error("1099Policy could not be reached: {0}")]
    Transport(#[from] TransportError),
    /// A successful answer did not have the expected shape.
    #[error("1099Policy answered {status} with a {what} that could not be read: {detail}")]
    Decode {
        /// HTTP status of the answer.
        status: StatusCode,
        /// What was expected, e.g. "contractor".
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

impl Ten99PolicyError {
    /// Whether trying again later may succeed: 429, 5xx, timeouts and broken connections.
    /// Other 4xx answers and unreadable successes are terminal until something changes.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => is_retryable_status(*status),
            Self::Transport(error) => error.is_retryable(),
            Self::Decode { .. } => false,
        }
    }

    /// The typed error code, for API errors.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the API answered with `code`.
    pub fn is(&self, code: &ErrorCode) -> bool {
        self.code() == Some(code)
    }

    /// The error for a non-2xx answer.
    pub(crate) fn from_response(response: &Response) -> Self {
        let (code, message) = parse_body(response);
        Self::Api { status: response.status, code, message, retry_after: response.retry_after() }
    }
}

/// `{error_code, message}`, or something readable when the body is not that (a proxy's HTML).
fn parse_body(response: &Response) -> (ErrorCode, String) {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    let code = parsed.as_ref().and_then(|v| v.get("error_code")).and_then(Value::as_str);
    let message = parsed.as_ref().and_then(|v| v.get("message")).map(readable);
    match (code, message) {
        (Some(code), Some(message)) => (ErrorCode::parse(code, &message), message),
        (Some(code), None) => (ErrorCode::parse(code, ""), code.replace('_', " ")),
        (None, Some(message)) => (ErrorCode::parse("", &message), message),
        (None, None) => {
            let text = String::from_utf8_lossy(&response.body);
            let snippet: String = text.trim().chars().take(200).collect();
            let reason = response.status.canonical_reason().unwrap_or("error");
            let message = if snippet.is_empty() {
                format!("HTTP {reason} without an error body")
            } else {
                format!("HTTP {reason}: {snippet}")
            };
            (ErrorCode::GeneralError, message)
        }
    }
}

/// A message as a person reads it: strings as they are, a field→problem map as
/// `field: problem; other: problem` (the Python SDK does the same), anything else as JSON.
fn readable(message: &Value) -> String {
    match message {
        Value::String(text) => text.clone(),
        Value::Object(map) => {
            let mut parts: Vec<String> =
                map.iter().map(|(field, problem)| format!("{field}: {}", readable(problem))).collect();
            // Sorted, so the same answer always reads the same in a condition.
            parts.sort();
            parts.join("; ")
        }
        Value::Array(items) => items.iter().map(readable).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The `error_code` of a 1099Policy error answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_input`: a parameter is missing or malformed.
    InvalidInput,
    /// `bad_request`.
    BadRequest,
    /// `general_error`: the server failed (also used for error answers without a body).
    GeneralError,
    /// `duplicate_email`: another contractor already has this e-mail address.
    DuplicateEmail,
    /// `contractor_has_matching_policy` (formerly `contract_has_matching_policy`): the
    /// contractor already holds a policy that covers this job; bind an assignment instead.
    ContractorHasMatchingPolicy,
    /// `effective_date_invalid`: the effective date is in the past.
    EffectiveDateInvalid,
    /// `end_date_invalid`: the end date is before the effective date or over a year later.
    EndDateInvalid,
    /// `missing_job_category_code`.
    MissingJobCategoryCode,
    /// `invalid_job_category_code`: no such category code.
    InvalidJobCategoryCode,
    /// `job_category_not_approved`: the code exists but is not approved for this account.
    JobCategoryNotApproved,
    /// `invalid_entity_id`: no such entity.
    InvalidEntityId,
    /// `no_active_policy`: nothing covers the contractor for this job.
    NoActivePolicy,
    /// `invoice_exists`: the job has an invoice and can no longer change.
    InvoiceExists,
    /// `job_is_used`: the job is already in use.
    JobIsUsed,
    /// `resource_not_found`.
    ResourceNotFound,
    /// `invalid_api_key`: the API key is wrong or revoked.
    InvalidApiKey,
    /// `insufficient_permissions`: the key may not do this.
    InsufficientPermissions,
    /// `invalid_file_type`: an uploaded certificate is not a PDF.
    InvalidFileType,
    /// `invalid_file_size`: an uploaded certificate is too large.
    InvalidFileSize,
    /// `session_expired`: the application session ran out before this request.
    SessionExpired,
    /// `application_already_complete`: the worker already finished the application.
    ApplicationAlreadyComplete,
    /// The "No matching policy found for assignment." answer, recognised by its message
    /// whatever its code.
    NoMatchingPolicy,
    /// Any other code, as sent.
    Other(String),
}

impl ErrorCode {
    /// Types an `error_code`; `message` identifies answers that have no code of their own.
    pub fn parse(code: &str, message: &str) -> Self {
        if message.trim() == NO_MATCHING_POLICY_MESSAGE {
            return Self::NoMatchingPolicy;
        }
        match code {
            "invalid_input" => Self::InvalidInput,
            "bad_request" => Self::BadRequest,
            "general_error" | "" => Self::GeneralError,
            "duplicate_email" => Self::DuplicateEmail,
            "contractor_has_matching_policy" | "contract_has_matching_policy" => Self::ContractorHasMatchingPolicy,
            "effective_date_invalid" => Self::EffectiveDateInvalid,
            "end_date_invalid" => Self::EndDateInvalid,
            "missing_job_category_code" => Self::MissingJobCategoryCode,
            "invalid_job_category_code" => Self::InvalidJobCategoryCode,
            "job_category_not_approved" => Self::JobCategoryNotApproved,
            "invalid_entity_id" => Self::InvalidEntityId,
            "no_active_policy" => Self::NoActivePolicy,
            "invoice_exists" => Self::InvoiceExists,
            "job_is_used" => Self::JobIsUsed,
            "resource_not_found" => Self::ResourceNotFound,
            "invalid_api_key" => Self::InvalidApiKey,
            "insufficient_permissions" => Self::InsufficientPermissions,
            "invalid_file_type" => Self::InvalidFileType,
            "invalid_file_size" => Self::InvalidFileSize,
            "session_expired" => Self::SessionExpired,
            "application_already_complete" => Self::ApplicationAlreadyComplete,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire name (the current one for renamed codes).
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::BadRequest => "bad_request",
            Self::GeneralError => "general_error",
            Self::DuplicateEmail => "duplicate_email",
            Self::ContractorHasMatchingPolicy => "contractor_has_matching_policy",
            Self::EffectiveDateInvalid => "effective_date_invalid",
            Self::EndDateInvalid => "end_date_invalid",
            Self::MissingJobCategoryCode => "missing_job_category_code",
            Self::InvalidJobCategoryCode => "invalid_job_category_code",
            Self::JobCategoryNotApproved => "job_category_not_approved",
            Self::InvalidEntityId => "invalid_entity_id",
            Self::NoActivePolicy => "no_active_policy",
            Self::InvoiceExists => "invoice_exists",
            Self::JobIsUsed => "job_is_used",
            Self::ResourceNotFound => "resource_not_found",
            Self::InvalidApiKey => "invalid_api_key",
            Self::InsufficientPermissions => "insufficient_permissions",
            Self::InvalidFileType => "invalid_file_type",
            Self::InvalidFileSize => "invalid_file_size",
            Self::SessionExpired => "session_expired",
            Self::ApplicationAlreadyComplete => "application_already_complete",
            Self::NoMatchingPolicy => "no_matching_policy",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use reqwest::header::HeaderMap;

    use super::*;

    fn answer(status: u16, body: &str) -> Ten99PolicyError {
        let mut headers = HeaderMap::new();
        if status == 429 {
            headers.insert("retry-after", "3".parse().unwrap());
        }
        Ten99PolicyError::from_response(&Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Bytes::from(body.to_owned()),
        })
    }

    #[test]
    fn parses_codes_including_the_legacy_name_and_the_message_only_answer() {
        for (code, expected) in [
            ("invalid_input", ErrorCode::InvalidInput),
            ("duplicate_email", ErrorCode::DuplicateEmail),
            ("contractor_has_matching_policy", ErrorCode::ContractorHasMatchingPolicy),
            ("contract_has_matching_policy", ErrorCode::ContractorHasMatchingPolicy),
            ("effective_date_invalid", ErrorCode::EffectiveDateInvalid),
            ("end_date_invalid", ErrorCode::EndDateInvalid),
            ("invalid_job_category_code", ErrorCode::InvalidJobCategoryCode),
            ("job_category_not_approved", ErrorCode::JobCategoryNotApproved),
            ("invalid_entity_id", ErrorCode::InvalidEntityId),
            ("no_active_policy", ErrorCode::NoActivePolicy),
            ("invoice_exists", ErrorCode::InvoiceExists),
            ("job_is_used", ErrorCode::JobIsUsed),
            ("resource_not_found", ErrorCode::ResourceNotFound),
            ("invalid_api_key", ErrorCode::InvalidApiKey),
            ("insufficient_permissions", ErrorCode::InsufficientPermissions),
            ("session_expired", ErrorCode::SessionExpired),
            ("application_already_complete", ErrorCode::ApplicationAlreadyComplete),
            ("session_teleported", ErrorCode::Other("session_teleported".into())),
        ] {
            let parsed = ErrorCode::parse(code, "whatever");
            assert_eq!(parsed, expected, "{code}");
            if code != "contract_has_matching_policy" {
                assert_eq!(parsed.as_str(), code);
            }
        }
        assert_eq!(
            ErrorCode::parse("bad_request", "No matching policy found for assignment."),
            ErrorCode::NoMatchingPolicy
        );
    }

    #[test]
    fn messages_are_readable_and_retryability_follows_the_status() {
        let error = answer(
            400,
            r#"{"error_code": "invalid_input", "message": {"wage": "must be an integer", "email": "required"}}"#,
        );
        assert_eq!(
            error.to_string(),
            "1099Policy answered 400 Bad Request invalid_input: email: required; wage: must be an integer"
        );
        assert!(!error.is_retryable());
        assert!(error.is(&ErrorCode::InvalidInput));

        let error = answer(429, r#"{"error_code": "rate_limited", "message": "slow down"}"#);
        assert!(error.is_retryable());
        assert!(matches!(
            error,
            Ten99PolicyError::Api { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));

        let error = answer(502, "<html>Bad gateway</html>");
        assert!(error.is_retryable());
        assert_eq!(error.code(), Some(&ErrorCode::GeneralError));
        assert!(error.to_string().contains("<html>Bad gateway"), "{error}");

        let error = answer(503, "");
        assert!(error.to_string().contains("without an error body"), "{error}");
        assert!(!answer(404, r#"{"error_code": "resource_not_found", "message": "x"}"#).is_retryable());
        assert!(!answer(409, "{}").is_retryable());
    }

    #[test]
    fn transport_and_decode_errors_classify() {
        let timeout = Ten99PolicyError::from(TransportError::Timeout(Duration::from_secs(1)));
        assert!(timeout.is_retryable());
        let reset = Ten99PolicyError::from(TransportError::Interrupted("reset".into()));
        assert!(reset.is_retryable());
        let bug = Ten99PolicyError::from(TransportError::Request("bad url".into()));
        assert!(!bug.is_retryable());
        let decode =
            Ten99PolicyError::Decode { status: StatusCode::OK, what: "policy", detail: "missing field `id`".into() };
        assert!(!decode.is_retryable());
        assert_eq!(
            decode.to_string(),
            "1099Policy answered 200 OK with a policy that could not be read: missing field `id`"
        );
    }
}
