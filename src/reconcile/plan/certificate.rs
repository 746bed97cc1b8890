//! Bring-your-own certificate: upload the worker's PDF and follow 1099Policy's review.

use super::{CERTIFICATE_POLL, Decision, Planner, Wait, problem};
use crate::reconcile::conditions::Desired;
use crate::reconcile::facts::{PdfFact, WorkOrderFacts};
use crate::reconcile::steps::Step;
use crate::resources::{CertificateStatus, ConditionType as C, Phase};

impl Planner<'_> {
    pub(super) fn own_certificate(&mut self, wo: &WorkOrderFacts, contractor_id: String) -> Decision {
        let pdf = match &self.facts.pdf {
            Some(PdfFact::Present { bytes, digest }) => Some((bytes, digest)),
            Some(PdfFact::Missing { detail }) => return self.certificate_missing(wo, detail),
            None => None,
        };
        let uploaded_matches = self.status.certificate_id.is_some()
            && pdf.is_none_or(|(_, digest)| self.status.certificate_digest.as_deref() == Some(digest.as_str()));
        if !uploaded_matches && let Some((bytes, digest)) = pdf {
            self.uninsured(wo, false);
            let step = Step::UploadCertificate {
                contractor_id,
                pdf: bytes.clone(),
                digest: digest.clone(),
                work_order_id: wo.id.clone(),
            };
            return Decision { phase: Phase::Provisioning, step: Some(step), wait: Wait::ForChange, problem: None };
        }
        let status = self.facts.certificate.as_ref().map(|c| c.status).or(self.status.certificate_status);
        let (condition, phase, wait) = review(status);
        let phase = if phase == Phase::Bound { self.finished_or(wo, phase) } else { phase };
        self.conditions.push(condition);
        self.uninsured(wo, phase == Phase::Bound || phase == Phase::Completed);
        Decision { phase, step: None, wait, problem: None }
    }
}

impl Planner<'_> {
    /// The binding's certificate Secret (or its key) is missing: nothing to upload, and so
    /// nothing is created for it, contractor included, until the Secret is there.
    pub(super) fn certificate_missing(&mut self, wo: &WorkOrderFacts, detail: &str) -> Decision {
        self.conditions.push(Desired::no(C::CertificateValid, "CertificateMissing", detail.to_owned()));
        self.uninsured(wo, false);
        Decision {
            phase: Phase::Failed,
            step: None,
            wait: Wait::ForChange,
            problem: problem("CertificateMissing", detail.to_owned()),
        }
    }
}

/// Where 1099Policy's review of the certificate leaves the binding.
fn review(status: Option<CertificateStatus>) -> (Desired, Phase, Wait) {
    let valid = |reason, message| Desired::yes(C::CertificateValid, reason, message);
    let invalid = |reason, message| Desired::no(C::CertificateValid, reason, message);
    match status {
        Some(CertificateStatus::Approved) => {
            (valid("Approved", "1099Policy approved the worker's certificate"), Phase::Bound, Wait::ForChange)
        }
        Some(CertificateStatus::Flagged) => (
            invalid("Flagged", "1099Policy flagged the certificate for manual review"),
            Phase::NeedsReview,
            Wait::Poll(CERTIFICATE_POLL),
        ),
        Some(CertificateStatus::Denied) => (
            invalid("Denied", "1099Policy denied the certificate; upload a new PDF to the Secret"),
            Phase::Failed,
            Wait::ForChange,
        ),
        Some(CertificateStatus::Error) => (
            invalid("ProcessingError", "1099Policy could not process the certificate PDF; upload a readable PDF"),
            Phase::Failed,
            Wait::ForChange,
        ),
        Some(CertificateStatus::Pending | CertificateStatus::Processing) | None => (
            Desired::unknown(C::CertificateValid, "UnderReview", "1099Policy is reviewing the certificate"),
            Phase::AwaitingCertificateReview,
            Wait::Poll(CERTIFICATE_POLL),
        ),
    }
}
