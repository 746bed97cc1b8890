//! The request a step sends to 1099Policy, as data for people to read (`coverbridge plan`):
//! built from the same drafts and conversions `act` sends, so what is shown is what would go.

use serde::Serialize;
use serde_json::{Value, json};

use super::{CANCEL_REASON, Step, requests};
use crate::ten99policy as t99;

/// A request as it would be sent: method, path under the API's base URL, and JSON body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    /// `POST` or `PUT`.
    pub method: &'static str,
    /// Path under the base URL, e.g. `/api/v1/jobs`.
    pub path: String,
    /// The body. A certificate upload (multipart) shows its PDF by size and digest.
    pub body: Value,
}

fn post(path: &str, body: impl Serialize) -> Request {
    Request { method: "POST", path: format!("/api/v1/{path}"), body: to_json(body) }
}

fn to_json(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("request bodies serialize")
}

impl Step {
    /// The request this step sends.
    pub fn request(&self) -> Request {
        match self {
            Self::CreateContractor(draft) => post("contractors", t99::NewContractor::from(draft)),
            Self::UploadCertificate { contractor_id, pdf, digest, work_order_id } => {
                let upload = requests::certificate(contractor_id, pdf, digest, work_order_id);
                let body = json!({
                    "contractor": upload.contractor,
                    "certificate": format!("<{} ({} bytes of PDF, sha256 {digest})>", upload.filename, pdf.len()),
                    "custom_metadata": to_json(&upload.custom_metadata),
                });
                Request { method: "POST", path: "/api/v1/files/certificates".into(), body }
            }
            Self::CreateJob(draft) => post("jobs", t99::NewJob::from(draft)),
            Self::UpdateJob { job_id, terms } => Request {
                method: "PUT",
                path: format!("/api/v1/jobs/{job_id}"),
                body: to_json(t99::JobUpdate::from(terms)),
            },
            Self::CreateQuote { contractor_id, job_id, coverage, work_order_id } => {
                post("quotes", coverage.quote(contractor_id, job_id, work_order_id))
            }
            Self::CreateSession { quote_id, success_url, cancel_url, work_order_id, .. } => {
                post("apply/sessions", requests::session(quote_id, success_url, cancel_url, work_order_id))
            }
            Self::CreateAssignment { contractor_id, job_id, coverage, work_order_id } => {
                post("assignments", coverage.assignment(contractor_id, job_id, work_order_id))
            }
            Self::ExtendAssignment { job_id, end } => {
                post("assignments/extend", t99::ExtendAssignment { job_id, end_date: (*end).into() })
            }
            Self::CancelAssignment { job_id, .. } => {
                post("assignments/cancel", t99::CancelAssignment { job_id, reason: Some(CANCEL_REASON) })
            }
            Self::ExpireSession { session_id, .. } => Request {
                method: "POST",
                path: format!("/api/v1/apply/sessions/{session_id}/expire"),
                body: Value::Null,
            },
            Self::CreateInvoice { contractor_id, job_id, gross_pay, start, end } => {
                post("invoices", requests::invoice(contractor_id, job_id, *gross_pay, (*start, *end)))
            }
        }
    }
}
