//! The 1099Policy client: one typed method per call coverbridge makes, over the shared HTTP
//! layer (pooling, timeouts, rate limit, retries). Retries re-send the same idempotency key, so
//! a retried POST can only ever get the first attempt's answer back.

use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::Ten99PolicyError;
use super::events::Event;
use super::idempotency::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_KEY_HEADER, IdempotencyKey};
use super::model::*;
use super::request::*;
use super::time::EpochSeconds;
use crate::http::HttpClient;
use crate::secret::Secret;

/// Name of this API in the HTTP layer's logs.
const API: &str = "1099policy";
/// The API's largest page.
const MAX_PAGE: usize = 100;
/// Guard against a server that ignores `starting_after`: no list is longer than this many pages.
const MAX_PAGES: usize = 1000;

type Result<T> = std::result::Result<T, Ten99PolicyError>;

/// The base URL given to [`Ten99PolicyClient::new`] is not an http(s) URL.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the 1099Policy base URL {0:?} is not an http(s) URL")]
pub struct InvalidBaseUrl(pub String);

/// Talks to 1099Policy. Cheap to clone. `Debug` shows the base URL, never the key.
#[derive(Clone, Debug)]
pub struct Ten99PolicyClient {
    base: Url,
    api_key: Secret,
    http: HttpClient,
    page_size: usize,
}

enum Body<'a> {
    None,
    Json(bytes::Bytes),
    Certificate(&'a CertificateUpload),
}

impl Ten99PolicyClient {
    /// A client for the API at `base_url` (e.g. `https://api.1099policy.com`; paths
    /// `/api/v1/…` are appended), authenticating with `api_key` as a Bearer token.
    pub fn new(base_url: &str, api_key: Secret, http: HttpClient) -> std::result::Result<Self, InvalidBaseUrl> {
        let base = Url::parse(base_url).map_err(|_| InvalidBaseUrl(base_url.to_owned()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(InvalidBaseUrl(base_url.to_owned()));
        }
        Ok(Self { base, api_key, http, page_size: MAX_PAGE })
    }

    /// With another page size for lists (1 to 100; clamped).
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.clamp(1, MAX_PAGE);
        self
    }

    /// The base URL given to [`Ten99PolicyClient::new`], without `/api/v1`.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    // --- contractors

    /// `POST /api/v1/contractors`.
    pub async fn create_contractor(&self, contractor: &NewContractor, key: &IdempotencyKey) -> Result<Contractor> {
        self.post("contractor", &["contractors"], contractor, key).await
    }

    /// `GET /api/v1/contractors/{id}`.
    pub async fn get_contractor(&self, id: &str) -> Result<Contractor> {
        self.get("contractor", &["contractors", id]).await
    }

    /// Every contractor of the account, newest first.
    pub async fn list_contractors(&self) -> Result<Vec<Contractor>> {
        self.list_all("contractor", &["contractors"], &[]).await
    }

    /// Every contractor whose e-mail is exactly `email` (the API compares case-sensitively).
    pub async fn list_contractors_by_email(&self, email: &str) -> Result<Vec<Contractor>> {
        self.list_all("contractor", &["contractors"], &[("email", email)]).await
    }

    /// `PUT /api/v1/contractors/{id}`.
    pub async fn update_contractor(&self, id: &str, update: &ContractorUpdate) -> Result<Contractor> {
        self.put("contractor", &["contractors", id], update).await
    }

    // --- entities and category codes

    /// `GET /api/v1/entities/{id}`.
    pub async fn get_entity(&self, id: &str) -> Result<Entity> {
        self.get("entity", &["entities", id]).await
    }

    /// Every job category code of the account.
    pub async fn list_category_codes(&self) -> Result<Vec<CategoryCode>> {
        self.list_all("category code", &["category_codes"], &[]).await
    }

    // --- jobs

    /// `POST /api/v1/jobs`.
    pub async fn create_job(&self, job: &NewJob, key: &IdempotencyKey) -> Result<Job> {
        self.post("job", &["jobs"], job, key).await
    }

    /// `GET /api/v1/jobs/{id}`.
    pub async fn get_job(&self, id: &str) -> Result<Job> {
        self.get("job", &["jobs", id]).await
    }

    /// `PUT /api/v1/jobs/{id}`.
    pub async fn update_job(&self, id: &str, update: &JobUpdate) -> Result<Job> {
        self.put("job", &["jobs", id], update).await
    }

    // --- quotes

    /// `POST /api/v1/quotes`. A contractor who already holds a matching policy gets
    /// [`super::ErrorCode::ContractorHasMatchingPolicy`]: bind an assignment instead.
    pub async fn create_quote(&self, quote: &NewQuote, key: &IdempotencyKey) -> Result<Quote> {
        self.post("quote", &["quotes"], quote, key).await
    }

    /// `GET /api/v1/quotes/{id}`.
    pub async fn get_quote(&self, id: &str) -> Result<Quote> {
        self.get("quote", &["quotes", id]).await
    }

    /// `PUT /api/v1/quotes/{id}`.
    pub async fn update_quote(&self, id: &str, update: &QuoteUpdate) -> Result<Quote> {
        self.put("quote", &["quotes", id], update).await
    }

    // --- insurance application sessions

    /// `POST /api/v1/apply/sessions`.
    pub async fn create_application_session(
        &self,
        session: &NewApplicationSession,
        key: &IdempotencyKey,
    ) -> Result<ApplicationSession> {
        self.post("application session", &["apply", "sessions"], session, key).await
    }

    /// `GET /api/v1/apply/sessions/{id}`.
    pub async fn get_application_session(&self, id: &str) -> Result<ApplicationSession> {
        self.get("application session", &["apply", "sessions", id]).await
    }

    /// `POST /api/v1/apply/sessions/{id}/expire`; fails when already expired or complete.
    pub async fn expire_application_session(&self, id: &str, key: &IdempotencyKey) -> Result<ApplicationSession> {
        let path = ["apply", "sessions", id, "expire"];
        self.call("application session", Method::POST, &path, &[], Body::None, Some(key)).await
    }

    // --- recent objects, to find what a lost answer created

    /// The `max` newest jobs.
    pub async fn recent_jobs(&self, max: usize) -> Result<Vec<Job>> {
        self.list_newest("job", &["jobs"], &[], max).await
    }

    /// The `max` newest quotes.
    pub async fn recent_quotes(&self, max: usize) -> Result<Vec<Quote>> {
        self.list_newest("quote", &["quotes"], &[], max).await
    }

    /// The `max` newest insurance application sessions.
    pub async fn recent_application_sessions(&self, max: usize) -> Result<Vec<ApplicationSession>> {
        self.list_newest("application session", &["apply", "sessions"], &[], max).await
    }

    /// The `max` newest assignments.
    pub async fn recent_assignments(&self, max: usize) -> Result<Vec<Assignment>> {
        self.list_newest("assignment", &["assignments"], &[], max).await
    }

    /// The `max` newest uploaded certificates.
    pub async fn recent_certificates(&self, max: usize) -> Result<Vec<Certificate>> {
        self.list_newest("certificate", &["files", "certificates"], &[], max).await
    }

    /// The `max` newest invoices.
    pub async fn recent_invoices(&self, max: usize) -> Result<Vec<Invoice>> {
        self.list_newest("invoice", &["invoices"], &[], max).await
    }

    // --- policies

    /// `GET /api/v1/policies/{id}`.
    pub async fn get_policy(&self, id: &str) -> Result<Policy> {
        self.get("policy", &["policies", id]).await
    }

    /// Every policy issued for `quote`.
    pub async fn list_policies_by_quote(&self, quote: &str) -> Result<Vec<Policy>> {
        self.list_all("policy", &["policies"], &[("quote", quote)]).await
    }

    /// Every policy of the account, newest first.
    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        self.list_all("policy", &["policies"], &[]).await
    }

    // --- assignments

    /// `POST /api/v1/assignments`. Without a matching policy the answer is an error with
    /// [`super::ErrorCode::NoMatchingPolicy`].
    pub async fn create_assignment(&self, assignment: &NewAssignment, key: &IdempotencyKey) -> Result<Assignment> {
        self.post("assignment", &["assignments"], assignment, key).await
    }

    /// `GET /api/v1/assignments/{id}`.
    pub async fn get_assignment(&self, id: &str) -> Result<Assignment> {
        self.get("assignment", &["assignments", id]).await
    }

    /// `POST /api/v1/assignments/cancel`: cancels the assignment of `job_id` (only before its
    /// start date; irreversible). `reason` is e.g. `client_request`.
    pub async fn cancel_assignment(
        &self,
        job_id: &str,
        reason: Option<&str>,
        key: &IdempotencyKey,
    ) -> Result<Assignment> {
        let body = CancelAssignment { job_id, reason };
        self.post("assignment", &["assignments", "cancel"], &body, key).await
    }

    /// `POST /api/v1/assignments/extend`: moves the end of `job_id`'s assignment to
    /// `end_date` (not earlier than now, at most a year after its start).
    pub async fn extend_assignment(
        &self,
        job_id: &str,
        end_date: EpochSeconds,
        key: &IdempotencyKey,
    ) -> Result<Assignment> {
        let body = ExtendAssignment { job_id, end_date };
        self.post("assignment", &["assignments", "extend"], &body, key).await
    }

    // --- certificates

    /// `POST /api/v1/files/certificates` (multipart `certificate`, `contractor`,
    /// `custom_metadata[…]`).
    pub async fn upload_certificate(&self, upload: &CertificateUpload, key: &IdempotencyKey) -> Result<Certificate> {
        let path = ["files", "certificates"];
        let body = Body::Certificate(upload);
        self.call("certificate", Method::POST, &path, &[], body, Some(key)).await
    }

    /// `GET /api/v1/files/certificates/{id}`.
    pub async fn get_certificate(&self, id: &str) -> Result<Certificate> {
        self.get("certificate", &["files", "certificates", id]).await
    }

    // --- invoices

    /// `POST /api/v1/invoices`.
    pub async fn create_invoice(&self, invoice: &NewInvoice, key: &IdempotencyKey) -> Result<Invoice> {
        self.post("invoice", &["invoices"], invoice, key).await
    }

    /// `GET /api/v1/invoices/{id}`.
    pub async fn get_invoice(&self, id: &str) -> Result<Invoice> {
        self.get("invoice", &["invoices", id]).await
    }

    // --- events and webhook endpoints

    /// `GET /api/v1/events/{id}`.
    pub async fn get_event(&self, id: &str) -> Result<Event> {
        self.get("event", &["events", id]).await
    }

    /// `POST /api/v1/webhook_endpoints`; the answer carries the signing secret.
    pub async fn create_webhook_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
        key: &IdempotencyKey,
    ) -> Result<WebhookEndpoint> {
        self.post("webhook endpoint", &["webhook_endpoints"], endpoint, key).await
    }

    /// Every registered webhook endpoint.
    pub async fn list_webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        self.list_all("webhook endpoint", &["webhook_endpoints"], &[]).await
    }

    // --- plumbing

    async fn get<T: DeserializeOwned>(&self, what: &'static str, path: &[&str]) -> Result<T> {
        self.call(what, Method::GET, path, &[], Body::None, None).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        what: &'static str,
        path: &[&str],
        body: &impl Serialize,
        key: &IdempotencyKey,
    ) -> Result<T> {
        let body = Body::Json(encode(what, body)?);
        self.call(what, Method::POST, path, &[], body, Some(key)).await
    }

    async fn put<T: DeserializeOwned>(&self, what: &'static str, path: &[&str], body: &impl Serialize) -> Result<T> {
        let body = Body::Json(encode(what, body)?);
        self.call(what, Method::PUT, path, &[], body, None).await
    }

    /// Follows `starting_after` until a page comes back shorter than asked for (lists are bare
    /// arrays, newest first, without a `has_more` flag).
    async fn list_all<T: DeserializeOwned + Listed>(
        &self,
        what: &'static str,
        path: &[&str],
        filters: &[(&str, &str)],
    ) -> Result<Vec<T>> {
        self.list_newest(what, path, filters, usize::MAX).await
    }

    /// Like [`Self::list_all`], but stops once `max` objects (the newest) are in.
    async fn list_newest<T: DeserializeOwned + Listed>(
        &self,
        what: &'static str,
        path: &[&str],
        filters: &[(&str, &str)],
        max: usize,
    ) -> Result<Vec<T>> {
        let limit = self.page_size.to_string();
        let mut all: Vec<T> = Vec::new();
        let mut after: Option<String> = None;
        while all.len() < max && all.len() < MAX_PAGES * self.page_size {
            let mut query = filters.to_vec();
            query.push(("limit", &limit));
            if let Some(after) = &after {
                query.push(("starting_after", after));
            }
            let page: Vec<T> = self.call(what, Method::GET, path, &query, Body::None, None).await?;
            let full = page.len() >= self.page_size;
            let last = page.last().map(|item| item.list_id().to_owned());
            all.extend(page);
            match last {
                Some(last) if full && after.as_deref() != Some(&last) => after = Some(last),
                _ => break,
            }
        }
        all.truncate(max);
        Ok(all)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        what: &'static str,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Body<'_>,
        key: Option<&IdempotencyKey>,
    ) -> Result<T> {
        let url = self.url(path);
        let response = self
            .http
            .send(API, |client| {
                let mut request = client.request(method.clone(), url.clone()).bearer_auth(self.api_key.expose());
                if !query.is_empty() {
                    request = request.query(query);
                }
                if let Some(key) = key {
                    request = request
                        .header(IDEMPOTENT_KEY_HEADER, key.as_str())
                        .header(IDEMPOTENCY_KEY_HEADER, key.as_str());
                }
                match &body {
                    Body::Certificate(upload) => request.multipart(certificate_form(upload)),
                    Body::Json(json) => {
                        request.header(reqwest::header::CONTENT_TYPE, "application/json").body(json.clone())
                    }
                    Body::None => request,
                }
            })
            .await?;
        if !response.status.is_success() {
            return Err(Ten99PolicyError::from_response(&response));
        }
        serde_json::from_slice(&response.body).map_err(|e| Ten99PolicyError::Decode {
            status: response.status,
            what,
            detail: e.to_string(),
        })
    }

    /// `base/api/v1/<segments>`, each segment percent-encoded, so an id can never change the
    /// path it is sent to.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in new: the base URL can be a base")
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        url
    }
}

/// A request body as JSON, encoded once for every attempt.
fn encode(what: &str, body: &impl Serialize) -> Result<bytes::Bytes> {
    serde_json::to_vec(body)
        .map(Into::into)
        .map_err(|e| crate::http::TransportError::Request(format!("cannot encode the {what}: {e}")).into())
}

/// The multipart form of an upload; built anew for every attempt, as forms are consumed.
fn certificate_form(upload: &CertificateUpload) -> reqwest::multipart::Form {
    let pdf = reqwest::multipart::Part::stream(upload.pdf.clone())
        .file_name(upload.filename.clone())
        .mime_str("application/pdf")
        .expect("a valid MIME type");
    let mut form =
        reqwest::multipart::Form::new().part("certificate", pdf).text("contractor", upload.contractor.clone());
    for (key, value) in &upload.custom_metadata.0 {
        form = form.text(format!("custom_metadata[{key}]"), value.clone());
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpSettings;

    fn client(base: &str) -> Ten99PolicyClient {
        Ten99PolicyClient::new(base, Secret::new("t9k_test_hidden"), HttpClient::new(HttpSettings::default())).unwrap()
    }

    #[test]
    fn urls_keep_a_base_path_and_encode_ids() {
        let c = client("https://api.example.com/prefix/");
        assert_eq!(c.url(&["contractors", "cn_1"]).as_str(), "https://api.example.com/prefix/api/v1/contractors/cn_1");
        assert_eq!(
            c.url(&["contractors", "../jobs?x=1"]).as_str(),
            "https://api.example.com/prefix/api/v1/contractors/..%2Fjobs%3Fx=1"
        );
        assert!(
            Ten99PolicyClient::new("not a url", Secret::new("k"), HttpClient::new(HttpSettings::default())).is_err()
        );
        assert!(
            Ten99PolicyClient::new("mailto:x@y", Secret::new("k"), HttpClient::new(HttpSettings::default())).is_err()
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", client("https://api.1099policy.com"));
        assert!(!shown.contains("t9k_test_hidden"), "{shown}");
        assert!(shown.contains("api.1099policy.com"), "{shown}");
    }
}
