//! The WorkMarket API client: the calls coverbridge needs, over the shared HTTP layer.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::Value;

use super::auth::{self, AccessToken, Credentials, TokenCache};
use super::envelope::{Reply, decode};
use super::fields::{Fields, unix_time};
use super::{API_NAME, PathStyle, WorkMarketError, WorkOrder, WorkOrderStatus};
use crate::http::HttpClient;
use crate::secret::Secret;

/// Rows per `list_updated` page. WorkMarket's documented limits range from 25 to 500.
const DEFAULT_PAGE_SIZE: u32 = 100;

/// A WorkMarket client. Cheap to clone; clones share the access token, connection pool and rate
/// limit.
#[derive(Clone)]
pub struct WorkMarketClient {
    inner: Arc<Inner>,
    page_size: u32,
}

struct Inner {
    base_url: String,
    path_style: PathStyle,
    credentials: Credentials,
    tokens: TokenCache,
    http: HttpClient,
}

impl std::fmt::Debug for WorkMarketClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkMarketClient")
            .field("base_url", &self.inner.base_url)
            .field("path_style", &self.inner.path_style)
            .field("credentials", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Assignments changed since a point in time, and where the next sweep starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdatedAssignments {
    /// The changed work orders, each once, in WorkMarket's order.
    pub changes: Vec<Updated>,
    /// Pass this as `modified_since` next time: WorkMarket's clock when the sweep began.
    pub cursor: Timestamp,
}

/// One work order in the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Updated {
    /// Its assignment number.
    pub id: String,
    /// When it last changed (`last_modified_on`), if the row says; a binding that has read the
    /// work order since has nothing new to learn from this row.
    pub last_modified: Option<Timestamp>,
    /// Its status: the row's raw `status`, or `in_progress` when its `modified_status` says
    /// "In Progress" (list rows report a started work order as `active`).
    pub status: WorkOrderStatus,
}

/// A work order as WorkMarket's lists show it: enough to audit its coverage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its assignment number.
    pub id: String,
    /// Its title, HTML-unescaped.
    pub title: String,
    /// Its status (`in_progress` when the row's `modified_status` says it started).
    pub status: WorkOrderStatus,
    /// Scheduled start (`scheduled_start`).
    pub window_start: Option<Timestamp>,
    /// Scheduled end (`scheduled_end`).
    pub window_end: Option<Timestamp>,
    /// The assigned worker's user number (`resource_user_number`).
    pub worker_id: Option<String>,
    /// The assigned worker's name (`resource_full_name`).
    pub worker_name: Option<String>,
}

/// A WorkMarket industry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Industry {
    /// Industry id, such as 1000.
    pub id: i64,
    /// Industry name, such as "Technology" (what `/get` reports as `industry`).
    pub name: String,
}

/// A work-order status WorkMarket knows, from `…/assignments/statuses`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusName {
    /// The code, such as `paymentPending`.
    pub id: String,
    /// The display name, such as "Invoiced".
    pub name: String,
}

impl WorkMarketClient {
    /// A client for the WorkMarket at `base_url` (such as [`super::DEFAULT_BASE_URL`]), using the
    /// API token and secret from WorkMarket's settings page.
    pub fn new(
        base_url: impl Into<String>,
        path_style: PathStyle,
        api_token: Secret,
        api_secret: Secret,
        http: HttpClient,
    ) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        Self {
            inner: Arc::new(Inner {
                base_url,
                path_style,
                credentials: Credentials { token: api_token, secret: api_secret },
                tokens: TokenCache::default(),
                http,
            }),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// The same client with `page_size` rows per `list_updated` page (at least 1).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The work order's page in WorkMarket's web app, for people and redirect URLs.
    pub fn work_order_url(&self, id: &str) -> String {
        format!("{}/assignments/details/{id}", self.inner.base_url)
    }

    /// The work order `id` with its assigned worker. An unknown id, or one this API user cannot
    /// see, is [`WorkMarketError::NotFound`].
    pub async fn get_assignment(&self, id: &str) -> Result<WorkOrder, WorkMarketError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(WorkMarketError::NotFound {
                id: String::new(),
                message: "no assignment number given".to_owned(),
            });
        }
        let reply = self.get("assignments/get", &[("id", id.to_owned())]).await.map_err(|error| match error {
            // WorkMarket answers an unknown or invisible id with status 401 inside an HTTP
            // 200, "User not authorized to modify assignment <id>."
            WorkMarketError::Rejected { http_status: 200, code: 401 | 403 | 404, message } => {
                WorkMarketError::NotFound { id: id.to_owned(), message }
            }
            other => other,
        })?;
        WorkOrder::from_json(&reply.body)
    }

    /// Every assignment changed at or after `modified_since` (at most about two months ago;
    /// WorkMarket rejects older), across all pages, with the cursor for the next sweep.
    pub async fn list_updated(&self, modified_since: Timestamp) -> Result<UpdatedAssignments, WorkMarketError> {
        let mut changes: Vec<Updated> = Vec::new();
        let mut seen = HashMap::new();
        let query = [("modified_since", modified_since.as_second().to_string())];
        let clock = self
            .each_row("assignments/list_updated", &query, |row| {
                let change = Updated {
                    id: row.required_text("id")?,
                    last_modified: row.timestamp("last_modified_on")?,
                    status: row_status(row)?,
                };
                // A row seen twice (it changed while the pages were read) counts at its latest.
                match seen.get(&change.id) {
                    Some(&at) => {
                        let earlier: &mut Updated = &mut changes[at];
                        if change.last_modified >= earlier.last_modified {
                            earlier.status = change.status;
                        }
                        earlier.last_modified = earlier.last_modified.max(change.last_modified);
                    }
                    None => {
                        seen.insert(change.id.clone(), changes.len());
                        changes.push(change);
                    }
                }
                Ok(())
            })
            .await?;
        // The first page's clock: anything changed after the sweep began is at or after it, so
        // the next sweep sees it (and may see a few rows twice, which is harmless). Without a
        // server clock, starting again from the same point misses nothing.
        let cursor = clock.and_then(unix_time).unwrap_or(modified_since);
        Ok(UpdatedAssignments { changes, cursor })
    }

    /// Every work order in one of `statuses` (WorkMarket's filter codes, e.g. `active`,
    /// `inprogress`, `paid`), as list rows, read page by page.
    pub async fn list_assignments(&self, statuses: &[&str]) -> Result<Vec<Listed>, WorkMarketError> {
        let mut listed = Vec::new();
        let query = [("status", statuses.join(",")), ("sort_dir", "ASC".to_owned())];
        self.each_row("assignments/list", &query, |row| {
            listed.push(Listed {
                id: row.required_text("id")?,
                title: row.html_text("title")?.unwrap_or_default(),
                status: row_status(row)?,
                window_start: row.timestamp("scheduled_start")?,
                window_end: row.timestamp("scheduled_end")?,
                worker_id: row.text("resource_user_number")?,
                worker_name: row.text("resource_full_name")?,
            });
            Ok(())
        })
        .await?;
        Ok(listed)
    }

    /// Reads every page of the list at `path` (`start`/`limit` paging, until `total_results`
    /// or a short page), handing each row to `each`; returns the first page's clock (the
    /// envelope's `timestamp`).
    async fn each_row(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut each: impl FnMut(&Fields<'_>) -> Result<(), WorkMarketError>,
    ) -> Result<Option<i64>, WorkMarketError> {
        let (mut clock, mut start) = (None, 0u64);
        loop {
            let mut page_query = query.to_vec();
            page_query.extend([("start", start.to_string()), ("limit", self.page_size.to_string())]);
            let reply = self.get(path, &page_query).await?;
            clock = clock.or(reply.timestamp);
            let page = Fields::object(&reply.body, "response")?;
            let rows = page.list("data")?;
            for (i, row) in rows.iter().enumerate() {
                each(&Fields::object(row, &format!("response.data[{i}]"))?)?;
            }
            let total = match page.integer("total_results")? {
                Some(total) => Some(total),
                None => page.integer("totalResults")?,
            };
            start += rows.len() as u64;
            let more = match total {
                Some(total) => !rows.is_empty() && (start as i64) < total,
                None => rows.len() as u64 >= u64::from(self.page_size),
            };
            if !more {
                return Ok(clock);
            }
        }
    }

    /// WorkMarket's industries, to match a CategoryMapping's `industryId` against the industry
    /// name `/get` reports.
    pub async fn list_industries(&self) -> Result<Vec<Industry>, WorkMarketError> {
        let reply = self.get("constants/industries", &[]).await?;
        read_list(&reply, "industries", |row| {
            Ok(Industry {
                id: row.integer("id")?.ok_or_else(|| WorkMarketError::invalid(row.path_of("id"), "missing"))?,
                name: row.required_text("name")?,
            })
        })
    }

    /// The status codes WorkMarket knows, with their display names.
    pub async fn list_statuses(&self) -> Result<Vec<StatusName>, WorkMarketError> {
        let reply = self.get("assignments/statuses", &[]).await?;
        read_list(&reply, "statuses", |row| {
            Ok(StatusName { id: row.required_text("id")?, name: row.required_text("name")? })
        })
    }

    /// GETs `resource` with the access token, renewing the token once if WorkMarket refuses it.
    async fn get(&self, resource: &str, query: &[(&str, String)]) -> Result<Reply, WorkMarketError> {
        let url = self.url(resource);
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            let response = self
                .inner
                .http
                .send(API_NAME, |client| client.get(&url).bearer_auth(token.value.expose()).query(query))
                .await?;
            if response.status == StatusCode::UNAUTHORIZED && !renewed {
                tracing::debug!(resource, "WorkMarket refused the access token; renewing it");
                self.inner.tokens.forget(&token).await;
                renewed = true;
                continue;
            }
            return decode(&response).map_err(|error| match error {
                WorkMarketError::Unauthorized { message } => WorkMarketError::Unauthorized {
                    message: format!("the access token was refused even after renewing it ({message})"),
                },
                other => other,
            });
        }
    }

    async fn access_token(&self) -> Result<AccessToken, WorkMarketError> {
        let inner = &self.inner;
        let url = self.url("authorization/request");
        inner.tokens.get_or_exchange(|| auth::exchange(&inner.http, &url, &inner.credentials)).await
    }

    fn url(&self, resource: &str) -> String {
        format!("{}{}", self.inner.base_url, self.inner.path_style.path(resource))
    }
}

/// A list answer: a bare array, or an object holding it under `key` or `data`.
fn read_list<T>(
    reply: &Reply,
    key: &str,
    read: impl Fn(&Fields) -> Result<T, WorkMarketError>,
) -> Result<Vec<T>, WorkMarketError> {
    let rows: &[Value] = match &reply.body {
        Value::Array(rows) => rows,
        Value::Object(_) => {
            let object = Fields::object(&reply.body, "response")?;
            let rows = object.list(key)?;
            if rows.is_empty() { object.list("data")? } else { rows }
        }
        _ => return Err(WorkMarketError::invalid("response", "expected a list")),
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let path = format!("response[{i}]");
            read(&Fields::object(row, &path)?)
        })
        .collect()
}

/// A list row's status: `modified_status` tells a started work order from a merely assigned one.
fn row_status(row: &Fields<'_>) -> Result<WorkOrderStatus, WorkMarketError> {
    let status = WorkOrderStatus::parse(&row.text("status")?.unwrap_or_default());
    let started = row.text("modified_status")?.is_some_and(|m| m.eq_ignore_ascii_case("In Progress"));
    Ok(if status == WorkOrderStatus::Active && started { WorkOrderStatus::InProgress } else { status })
}
