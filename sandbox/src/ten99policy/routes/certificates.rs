//! Bring-your-own certificates of insurance (`ci_`): multipart PDF uploads, reviewed through
//! the control API.

use axum::extract::{Multipart, Path, RawQuery, State};

use super::{Answer, ListQuery, created, ok};
use crate::ten99policy::Ten99PolicySandbox;
use crate::ten99policy::error::ApiError;
use crate::ten99policy::state::new_id;
use crate::ten99policy::wire::CertificateStatus;
use crate::ten99policy::{Certificate, Metadata};

/// The API's limit on certificate files.
pub(crate) const MAX_PDF_BYTES: usize = 15 * 1024 * 1024;

struct Upload {
    file: Option<(String, bytes::Bytes)>,
    contractor: Option<String>,
    metadata: Metadata,
}

async fn read_form(mut form: Multipart) -> Result<Upload, ApiError> {
    let mut upload = Upload { file: None, contractor: None, metadata: Metadata::default() };
    let unreadable = |e: axum::extract::multipart::MultipartError| ApiError {
        stored: false,
        ..ApiError::bad("invalid_input", format!("The upload is not readable: {e}"))
    };
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "certificate" {
            let filename = field.file_name().unwrap_or("certificate.pdf").to_owned();
            upload.file = Some((filename, field.bytes().await.map_err(unreadable)?));
        } else if name == "contractor" || name == "contractor_id" {
            upload.contractor = Some(field.text().await.map_err(unreadable)?);
        } else if let Some(key) = name.strip_prefix("custom_metadata[").and_then(|rest| rest.strip_suffix(']')) {
            let value = field.text().await.map_err(unreadable)?;
            upload.metadata.0.insert(key.to_owned(), value);
        }
    }
    Ok(upload)
}

pub(crate) async fn upload(State(sandbox): State<Ten99PolicySandbox>, form: Multipart) -> Answer {
    let upload = read_form(form).await?;
    let Some((filename, pdf)) = upload.file else {
        return Err(ApiError::bad("missing_certificate", "certificate (a PDF file) is required"));
    };
    let Some(contractor) = upload.contractor.filter(|c| !c.is_empty()) else {
        return Err(ApiError::bad("missing_contractor_id", "contractor is required"));
    };
    if pdf.len() > MAX_PDF_BYTES {
        return Err(ApiError::bad("invalid_file_size", "The certificate must be at most 15 MB"));
    }
    if !pdf.starts_with(b"%PDF") {
        return Err(ApiError::bad("invalid_file_type", "The certificate must be a PDF"));
    }
    let now = sandbox.now();
    let mut store = sandbox.store();
    if store.contractor(&contractor).is_err() {
        return Err(ApiError::bad("invalid_contractor_id", format!("Contractor {contractor} does not exist")));
    }
    let certificate = Certificate {
        id: new_id("ci_", 10),
        contractor: Some(contractor),
        status: CertificateStatus::Pending,
        created: Some(now),
        updated: Some(now),
        filename: Some(filename),
        pdf_url: None,
        review_results: None,
        custom_metadata: upload.metadata,
    };
    store.certificates.push(certificate.clone());
    created(certificate)
}

pub(crate) async fn list(State(sandbox): State<Ten99PolicySandbox>, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query)?;
    let store = sandbox.store();
    query.page(store.certificates.iter().collect(), |c: &Certificate| &c.id)
}

pub(crate) async fn get(State(sandbox): State<Ten99PolicySandbox>, Path(id): Path<String>) -> Answer {
    ok(sandbox.store().certificate(&id)?)
}
