//! The API routes under `/api/v1`, one file per resource, and what they share: answers, list
//! paging and date rules.

mod assignments;
mod certificates;
pub(crate) mod contractors;
mod events;
mod invoices;
mod jobs;
mod policies;
pub(crate) mod quotes;
pub(crate) mod sessions;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::Ten99PolicySandbox;
use super::error::ApiError;
use super::state::{DAY, YEAR};
use crate::ten99policy::EpochSeconds;

/// What a handler answers.
pub(crate) type Answer = Result<Response, ApiError>;

/// Largest upload accepted at all; bigger than the 15 MB rule so it can be reported properly.
const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;

/// The API routes (without auth, replay or harness; `super::router` adds those).
pub(crate) fn api() -> Router<Ten99PolicySandbox> {
    Router::new()
        .route("/api/v1/contractors", post(contractors::create).get(contractors::list))
        .route("/api/v1/contractors/{id}", get(contractors::get).put(contractors::update))
        .route("/api/v1/entities", post(contractors::create_entity).get(contractors::list_entities))
        .route("/api/v1/entities/{id}", get(contractors::get_entity))
        .route("/api/v1/category_codes", get(jobs::list_category_codes))
        .route("/api/v1/jobs", post(jobs::create).get(jobs::list))
        .route("/api/v1/jobs/{id}", get(jobs::get).put(jobs::update))
        .route("/api/v1/quotes", post(quotes::create).get(quotes::list))
        .route("/api/v1/quotes/{id}", get(quotes::get).put(quotes::update))
        .route("/api/v1/apply/sessions", post(sessions::create).get(sessions::list))
        .route("/api/v1/apply/sessions/{id}", get(sessions::get).put(sessions::update))
        .route("/api/v1/apply/sessions/{id}/expire", post(sessions::expire))
        .route("/api/v1/policies", get(policies::list))
        .route("/api/v1/policies/{id}", get(policies::get))
        .route("/api/v1/assignments", post(assignments::create).get(assignments::list))
        .route("/api/v1/assignments/{id}", get(assignments::get))
        .route("/api/v1/assignments/cancel", post(assignments::cancel))
        .route("/api/v1/assignments/extend", post(assignments::extend))
        .route(
            "/api/v1/files/certificates",
            post(certificates::upload).get(certificates::list).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/api/v1/files/certificates/{id}", get(certificates::get))
        .route("/api/v1/invoices", post(invoices::create).get(invoices::list))
        .route("/api/v1/invoices/{id}", get(invoices::get))
        .route("/api/v1/events", get(events::list))
        .route("/api/v1/events/{id}", get(events::get))
        .route("/api/v1/webhook_endpoints", post(events::create_endpoint).get(events::list_endpoints))
        .route("/api/v1/webhook_endpoints/{id}", get(events::get_endpoint).delete(events::delete_endpoint))
        .fallback(unknown_path)
}

/// Unknown paths answer in the API's error shape too.
async fn unknown_path(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "resource_not_found", format!("Unrecognized request URL: {}", uri.path()))
}

/// 201 with the object.
pub(crate) fn created(object: impl Serialize) -> Answer {
    Ok((StatusCode::CREATED, Json(object)).into_response())
}

/// 200 with the object.
pub(crate) fn ok(object: impl Serialize) -> Answer {
    Ok(Json(object).into_response())
}

/// `limit`, `starting_after` and `ending_before`, plus any filter, from a query string.
pub(crate) struct ListQuery(Vec<(String, String)>);

impl ListQuery {
    pub fn parse(raw: Option<String>) -> Result<Self, ApiError> {
        let raw = raw.unwrap_or_default();
        serde_urlencoded::from_str(&raw).map(Self).map_err(|_| ApiError::invalid("The query string is malformed"))
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Serves one page of `items` (oldest first in memory), newest first: the items after
    /// `starting_after` or before `ending_before`, at most `limit` (1–100, default 10), as a
    /// bare array.
    pub fn page<T: Serialize>(&self, items: Vec<&T>, id: impl Fn(&T) -> &str) -> Answer {
        let limit = match self.get("limit") {
            None => 10,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=100).contains(l))
                .ok_or_else(|| ApiError::invalid("limit must be an integer from 1 to 100"))?,
        };
        let newest_first: Vec<&T> = items.into_iter().rev().collect();
        let position = |cursor: &str| {
            newest_first
                .iter()
                .position(|item| id(item) == cursor)
                .ok_or_else(|| ApiError::invalid(format!("No such object: {cursor}")))
        };
        let page: Vec<&T> = if let Some(after) = self.get("starting_after") {
            let start = position(after)? + 1;
            newest_first[start..].iter().take(limit).copied().collect()
        } else if let Some(before) = self.get("ending_before") {
            let end = position(before)?;
            let start = end.saturating_sub(limit);
            newest_first[start..end].to_vec()
        } else {
            newest_first.into_iter().take(limit).collect()
        };
        ok(page)
    }
}

/// The coverage window of a quote or assignment, checked as the real service does: the start
/// must not be in the past (default: a day from now); the end must come after it (a same-day
/// end is moved to the next day; default: 30 days) and at most a year later.
pub(crate) fn coverage_window(
    effective: Option<EpochSeconds>,
    end: Option<EpochSeconds>,
    now: EpochSeconds,
) -> Result<(EpochSeconds, EpochSeconds), ApiError> {
    let effective = effective.unwrap_or(now.plus_seconds(DAY));
    if effective < now {
        return Err(ApiError::bad("effective_date_invalid", "effective_date must not be in the past"));
    }
    let end = end.unwrap_or(effective.plus_seconds(30 * DAY));
    if end < effective {
        return Err(ApiError::bad("end_date_invalid", "end_date must be after effective_date"));
    }
    if end > effective.plus_seconds(YEAR) {
        return Err(ApiError::bad("end_date_invalid", "end_date must be at most one year after effective_date"));
    }
    Ok((effective, end.max(effective.plus_seconds(DAY))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_window_rules() {
        let now = EpochSeconds(1_000_000_000);
        let at = |d: i64| Some(now.plus_seconds(d));
        assert_eq!(coverage_window(None, None, now), Ok((now.plus_seconds(DAY), now.plus_seconds(31 * DAY))));
        assert_eq!(
            coverage_window(at(10), at(20), now),
            Ok((now.plus_seconds(10), now.plus_seconds(10 + DAY))),
            "same-day ends move to the next day"
        );
        let code = |r: Result<_, ApiError>| r.unwrap_err().code;
        assert_eq!(code(coverage_window(at(-1), None, now)), "effective_date_invalid");
        assert_eq!(code(coverage_window(at(DAY), at(DAY - 1), now)), "end_date_invalid");
        assert_eq!(code(coverage_window(at(DAY), at(DAY + YEAR + 1), now)), "end_date_invalid");
        assert!(coverage_window(at(DAY), at(DAY + YEAR), now).is_ok());
    }
}
