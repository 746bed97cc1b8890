//! Driving scenarios: what the real service's dashboard, contractors and clock would do. Each
//! action is a method on [`Ten99PolicySandbox`] and a JSON route under `/_sandbox/` (never
//! authenticated, logged or faulted).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::Ten99PolicySandbox;
use super::error::ApiError;
use super::routes::sessions::{complete_session, expire_session};
use super::state::{new_id, policy_object};
use super::webhooks::Delivery;
use crate::ten99policy::wire::{CertificateStatus, PolicyStatus};
use crate::ten99policy::{
    ApplicationSession, Assignment, CategoryCode, Certificate, Entity, EpochSeconds, EventType, Policy,
};

/// A reviewer's verdict on an uploaded certificate.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CertificateReview {
    /// Meets the requirement (`certificate.approved`).
    Approve,
    /// Needs a person to look at it (`certificate.flagged`).
    Flag,
    /// Does not meet the requirement (`certificate.denied`).
    Deny,
}

/// Something that happens to a policy outside the API.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PolicyChange {
    /// Cancelled (`policy.cancelled`); assignments that have not started are cancelled too.
    Cancel,
    /// Ran out (`policy.expired`).
    Expire,
    /// Back in force (`policy.reactivated`).
    Reactivate,
}

impl Ten99PolicySandbox {
    /// Adds an entity (a random `en_` id unless `id` is given).
    pub fn add_entity(&self, id: Option<&str>, name: &str) -> Entity {
        let entity = Entity {
            id: id.map_or_else(|| new_id("en_", 7), str::to_owned),
            created: Some(self.now()),
            name: Some(name.to_owned()),
            coverage_limit: None,
            required_coverage: vec!["general".into()],
            address: None,
        };
        self.store().entities.push(entity.clone());
        entity
    }

    /// Adds a job category code, approved or not, or changes the one with the same code (the
    /// dashboard's approval); emits `category_code.added`.
    pub fn add_category_code(&self, code: Option<&str>, name: &str, approved: bool) -> CategoryCode {
        let code = CategoryCode {
            category_code: code.map_or_else(|| new_id("jc_", 10), str::to_owned),
            name: Some(name.to_owned()),
            approved: Some(approved),
        };
        let now = self.now();
        let mut store = self.store();
        match store.category_codes.iter_mut().find(|c| c.category_code == code.category_code) {
            Some(known) => *known = code.clone(),
            None => store.category_codes.push(code.clone()),
        }
        store.emit(EventType::CategoryCodeAdded, &code, now);
        code
    }

    /// The contractor finishes the application of `session_id`: an active policy is issued
    /// (`application.complete`, `policy.active`).
    pub fn complete_application(&self, session_id: &str) -> Result<Policy, ApiError> {
        let (now, url) = (self.now(), self.public_url());
        complete_session(&mut self.store(), session_id, now, &url)
    }

    /// The session of `session_id` expires (`application.expired`).
    pub fn expire_application(&self, session_id: &str) -> Result<ApplicationSession, ApiError> {
        let now = self.now();
        expire_session(&mut self.store(), session_id, now)
    }

    /// Reviews an uploaded certificate and emits `certificate.approved|flagged|denied` (with
    /// the resource under `data.object`, as 1099Policy sends certificate events).
    pub fn review_certificate(&self, id: &str, review: CertificateReview) -> Result<Certificate, ApiError> {
        let now = self.now();
        let url = self.public_url();
        let mut store = self.store();
        let certificate = store.certificate_mut(id)?;
        let (status, event, passed) = match review {
            CertificateReview::Approve => (CertificateStatus::Approved, EventType::CertificateApproved, 12),
            CertificateReview::Flag => (CertificateStatus::Flagged, EventType::CertificateFlagged, 10),
            CertificateReview::Deny => (CertificateStatus::Denied, EventType::CertificateDenied, 4),
        };
        if certificate.status == status {
            return Err(ApiError::bad("invalid_input", format!("Certificate {id} is already {}", wire(status))));
        }
        certificate.status = status;
        certificate.updated = Some(now);
        certificate.pdf_url = Some(format!("{url}/_sandbox/documents/{id}/certificate.pdf"));
        certificate.review_results = Some(json!({
            "id": new_id("ca_", 10), "status": status, "created": now, "updated": now,
            "summary": {"total_rules": 12, "passed": passed, "failed": 12 - passed},
        }));
        let certificate = certificate.clone();
        let summary = json!({
            "id": certificate.id, "contractor": certificate.contractor,
            "status": certificate.status, "created": certificate.created,
        });
        store.emit(event, &summary, now);
        Ok(certificate)
    }

    /// Cancels, expires or reactivates a policy, with its event.
    pub fn change_policy(&self, id: &str, change: PolicyChange) -> Result<Policy, ApiError> {
        let now = self.now();
        let mut store = self.store();
        let record = store.policy_mut(id)?;
        let policy = &mut record.policy;
        let (allowed, status, event) = match change {
            PolicyChange::Cancel => {
                (policy.status == PolicyStatus::Active, PolicyStatus::Cancelled, EventType::PolicyCancelled)
            }
            PolicyChange::Expire => {
                (policy.status == PolicyStatus::Active, PolicyStatus::Expired, EventType::PolicyExpired)
            }
            PolicyChange::Reactivate => {
                (policy.status != PolicyStatus::Active, PolicyStatus::Active, EventType::PolicyReactivated)
            }
        };
        if !allowed {
            return Err(ApiError::bad(
                "invalid_input",
                format!("Policy {id} cannot be changed that way while {}", wire(policy.status)),
            ));
        }
        policy.status = status;
        policy.is_active = Some(status == PolicyStatus::Active);
        let policy = policy.clone();
        store.policies_changed();
        store.emit(event, &policy_object(&policy), now);
        if change == PolicyChange::Cancel {
            let mut cancelled = Vec::new();
            for assignment in &mut store.assignments {
                let future = assignment.effective_date.is_some_and(|start| start > now);
                if assignment.policy.as_deref() == Some(id) && future && !assignment.cancelled {
                    assignment.cancelled = true;
                    assignment.cancellation_date = Some(now);
                    assignment.cancellation_reason = Some("policy_cancelled".into());
                    cancelled.push(assignment.clone());
                }
            }
            for assignment in cancelled {
                store.emit(EventType::AssignmentCancelled, &assignment, now);
            }
        }
        Ok(policy)
    }

    /// Cancels a policy (`policy.cancelled`).
    pub fn cancel_policy(&self, id: &str) -> Result<Policy, ApiError> {
        self.change_policy(id, PolicyChange::Cancel)
    }

    /// Expires a policy (`policy.expired`).
    pub fn expire_policy(&self, id: &str) -> Result<Policy, ApiError> {
        self.change_policy(id, PolicyChange::Expire)
    }

    /// Reactivates a policy (`policy.reactivated`).
    pub fn reactivate_policy(&self, id: &str) -> Result<Policy, ApiError> {
        self.change_policy(id, PolicyChange::Reactivate)
    }

    /// The contractor's card is charged for an assignment (`assignment.active`).
    pub fn activate_assignment(&self, id: &str) -> Result<Assignment, ApiError> {
        let now = self.now();
        let mut store = self.store();
        let assignment = store.assignment(id)?.clone();
        if assignment.cancelled {
            return Err(ApiError::bad("invalid_input", format!("Assignment {id} is cancelled")));
        }
        store.emit(EventType::AssignmentActive, &assignment, now);
        Ok(assignment)
    }

    /// Moves sandbox time forward (idempotency keys and policies expire; nothing sleeps).
    /// Returns the new sandbox time.
    pub fn advance_clock(&self, seconds: i64) -> EpochSeconds {
        self.inner.clock.advance(seconds);
        // Taking the store expires the policies the jump made due, emitting their events now.
        drop(self.store());
        self.now()
    }

    /// Every event so far, oldest first, as the events API and webhooks send them (reference
    /// §5.2: `{id, type, created, data}`).
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.store().events.iter().map(|e| e.event()).collect()
    }

    /// Every webhook delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.deliveries.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|a| a.delivery()).collect()
    }
}

/// A status as the API spells it.
fn wire(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The control routes (state: the sandbox).
pub(crate) fn routes() -> Router<Ten99PolicySandbox> {
    Router::new()
        .route("/_sandbox/entities", post(add_entity))
        .route("/_sandbox/category_codes", post(add_category_code))
        .route("/_sandbox/returning_contractors", post(add_returning_contractor))
        .route("/_sandbox/application_sessions/{id}/complete", post(complete_application))
        .route("/_sandbox/application_sessions/{id}/expire", post(expire_application))
        .route("/_sandbox/certificates/{id}/{review}", post(review_certificate))
        .route("/_sandbox/policies/{id}/{change}", post(change_policy))
        .route("/_sandbox/assignments/{id}/activate", post(activate_assignment))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance_clock))
        .route("/_sandbox/events", get(events))
        .route("/_sandbox/deliveries", get(deliveries))
        .route("/_sandbox/summary", get(summary))
        .route("/_sandbox/documents/{id}/{file}", get(document))
        .route("/apply/{id}", get(application_page))
}

type Control = Result<Response, ApiError>;

fn json_ok(value: impl serde::Serialize) -> Control {
    Ok(Json(value).into_response())
}

#[derive(Deserialize)]
struct EntityRequest {
    id: Option<String>,
    name: String,
}

async fn add_entity(State(sb): State<Ten99PolicySandbox>, Json(r): Json<EntityRequest>) -> Control {
    let entity = sb.add_entity(r.id.as_deref(), &r.name);
    Ok((StatusCode::CREATED, Json(entity)).into_response())
}

#[derive(Deserialize)]
struct CategoryRequest {
    category_code: Option<String>,
    name: String,
    #[serde(default = "yes")]
    approved: bool,
}

fn yes() -> bool {
    true
}

async fn add_category_code(State(sb): State<Ten99PolicySandbox>, Json(r): Json<CategoryRequest>) -> Control {
    let code = sb.add_category_code(r.category_code.as_deref(), &r.name, r.approved);
    Ok((StatusCode::CREATED, Json(code)).into_response())
}

async fn add_returning_contractor(
    State(sb): State<Ten99PolicySandbox>,
    Json(r): Json<super::ReturningContractor>,
) -> Control {
    let added = sb.add_returning_contractor(r)?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

async fn complete_application(State(sb): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Control {
    json_ok(policy_object(&sb.complete_application(&id)?))
}

async fn expire_application(State(sb): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Control {
    json_ok(sb.expire_application(&id)?)
}

fn verb<T: serde::de::DeserializeOwned>(word: &str) -> Result<T, ApiError> {
    serde_json::from_value(json!(word)).map_err(|_| ApiError::not_found("control action", word))
}

async fn review_certificate(
    State(sb): State<Ten99PolicySandbox>,
    Path((id, review)): Path<(String, String)>,
) -> Control {
    json_ok(sb.review_certificate(&id, verb(&review)?)?)
}

async fn change_policy(State(sb): State<Ten99PolicySandbox>, Path((id, change)): Path<(String, String)>) -> Control {
    json_ok(policy_object(&sb.change_policy(&id, verb(&change)?)?))
}

async fn activate_assignment(State(sb): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Control {
    json_ok(sb.activate_assignment(&id)?)
}

async fn clock(State(sb): State<Ten99PolicySandbox>) -> Control {
    json_ok(json!({"now": sb.now(), "offset_seconds": sb.inner.clock.offset()}))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(State(sb): State<Ten99PolicySandbox>, Json(r): Json<Advance>) -> Control {
    let now = sb.advance_clock(r.seconds);
    json_ok(json!({"now": now, "offset_seconds": sb.inner.clock.offset()}))
}

async fn events(State(sb): State<Ten99PolicySandbox>) -> Control {
    json_ok(sb.events())
}

async fn deliveries(State(sb): State<Ten99PolicySandbox>) -> Control {
    json_ok(sb.deliveries())
}

async fn summary(State(sb): State<Ten99PolicySandbox>) -> String {
    sb.summary()
}

/// A one-page PDF standing in for policy documents and certificates.
async fn document(Path((id, file)): Path<(String, String)>) -> Response {
    let text = format!("1099Policy sandbox document {file} for {id}");
    let pdf = format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n% {text}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    );
    ([(CONTENT_TYPE, "application/pdf")], pdf).into_response()
}

/// The hosted application, reduced to one button that completes it.
async fn application_page(State(sb): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Control {
    let session = sb.store().session(&id)?.clone();
    let state = if session.expired {
        "This application session has expired."
    } else if session.is_complete() {
        "This application is complete."
    } else {
        "Press the button to complete the application as the contractor would."
    };
    let quote = session.quote.unwrap_or_default();
    Ok(Html(format!(
        "<!doctype html><title>1099Policy sandbox application</title>\
         <h1>Insurance application {id}</h1><p>Quote {quote}. {state}</p>\
         <form method=post action=\"/_sandbox/application_sessions/{id}/complete\">\
         <button>Complete application</button></form>"
    ))
    .into_response())
}
