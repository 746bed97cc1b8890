//! Record: fold what a step achieved into the status (every new id at once) and into the facts
//! the next decision sees, and say what happened in words people read.

use super::act::Outcome;
use super::facts::{CertificateFacts, Facts, QuoteFacts, SessionFacts};
use super::host::Notice;
use super::steps::Undo;
use crate::resources::{CertificateStatus, CoverageBindingStatus, JobTerms, Phase, PolicyStatus};

/// Applies `outcome` to `status` and `facts`; returns the notice it deserves.
pub fn record(outcome: Outcome, status: &mut CoverageBindingStatus, facts: &mut Facts) -> Notice {
    match outcome {
        Outcome::Contractor { id, adopted } => contractor(id, adopted, status),
        Outcome::ContractorConflict(message) => {
            facts.contractor_conflict = Some(message.clone());
            Notice::warning("ContractorConflict", message)
        }
        Outcome::Certificate { id, status: review, digest } => certificate(id, review, digest, status, facts),
        Outcome::Job { id, terms } => {
            let notice = Notice::normal("JobCreated", format!("Created 1099Policy job {id} ({})", describe(&terms)));
            let notice = notice.once_for(&id);
            (status.job_id, status.job_terms, status.refused_job_terms) = (Some(id), Some(terms), None);
            notice
        }
        Outcome::JobUpdated(terms) => {
            let notice = Notice::normal("JobUpdated", format!("Updated the 1099Policy job to {}", describe(&terms)));
            (status.job_terms, status.refused_job_terms) = (Some(terms), None);
            notice
        }
        Outcome::JobRefused { terms, message } => {
            status.refused_job_terms = Some(terms);
            Notice::warning("JobNotUpdatable", format!("1099Policy refused to update the job: {message}"))
        }
        Outcome::Quote { id, eligible } => {
            let notice = Notice::normal("QuoteCreated", format!("Created 1099Policy quote {id}")).once_for(&id);
            status.quote_id = Some(id);
            facts.quote = Some(QuoteFacts { eligible });
            notice
        }
        Outcome::MatchingPolicy => {
            facts.matching_policy = true;
            let message = "The contractor already holds a matching policy; covering this job by assignment";
            Notice::normal("RepeatCoverage", message)
        }
        Outcome::Session { id, url } => session(id, url, status, facts),
        Outcome::Assignment { id, facts: assignment, policy } => {
            (facts.assignment, facts.policy) = (Some(assignment), policy);
            let message = format!("Created 1099Policy assignment {id} under the worker's existing policy");
            let notice = Notice::normal("AssignmentCreated", message).once_for(&id);
            status.assignment_id = Some(id);
            notice
        }
        Outcome::AssignmentExtended(assignment) => {
            let end = assignment.end.map(|e| e.to_string()).unwrap_or_default();
            facts.assignment = Some(assignment);
            Notice::normal("AssignmentExtended", format!("Extended the 1099Policy assignment to {end}"))
        }
        Outcome::AssignmentCancelled { facts: assignment, because } => {
            facts.assignment = Some(assignment);
            let id = status.assignment_id.as_deref().unwrap_or_default();
            Notice::normal("AssignmentCancelled", format!("Cancelled 1099Policy assignment {id}: {}", because.cause()))
        }
        Outcome::SessionExpired { because } => expired(because, status, facts),
        Outcome::Invoice { id } => {
            let notice = Notice::normal("InvoiceRecorded", format!("Recorded 1099Policy invoice {id}")).once_for(&id);
            status.invoice_id = Some(id);
            notice
        }
    }
}

fn contractor(id: String, adopted: bool, status: &mut CoverageBindingStatus) -> Notice {
    let worker = status.work_order.as_ref().and_then(|w| w.worker_id.clone()).unwrap_or_default();
    let notice = if adopted {
        let message = format!("Using 1099Policy contractor {id}, which already exists for WorkMarket worker {worker}");
        Notice::normal("ContractorAdopted", message)
    } else {
        Notice::normal(
            "ContractorCreated",
            format!("Created 1099Policy contractor {id} for WorkMarket worker {worker}"),
        )
    };
    let notice = notice.once_for(&id);
    status.contractor_id = Some(id);
    notice
}

fn certificate(
    id: String,
    review: CertificateStatus,
    digest: String,
    status: &mut CoverageBindingStatus,
    facts: &mut Facts,
) -> Notice {
    facts.certificate = Some(CertificateFacts { status: review, pdf_url: None });
    let message = format!("Uploaded the worker's certificate as {id} for review");
    let notice = Notice::normal("CertificateUploaded", message).once_for(&id);
    (status.certificate_id, status.certificate_digest) = (Some(id), Some(digest));
    status.certificate_status = Some(review);
    notice
}

fn session(id: String, url: String, status: &mut CoverageBindingStatus, facts: &mut Facts) -> Notice {
    let message = format!("The worker must complete the 1099Policy application at {url}");
    let notice = Notice::normal("ApplicationStarted", message).once_for(&id);
    status.application_session_id = Some(id);
    status.application_url = Some(url.clone());
    facts.session = Some(SessionFacts { url, expired: false });
    notice
}

fn expired(because: Undo, status: &CoverageBindingStatus, facts: &mut Facts) -> Notice {
    if let Some(session) = facts.session.as_mut() {
        session.expired = true;
    }
    let id = status.application_session_id.as_deref().unwrap_or_default();
    let message = format!("Expired the worker's unfinished 1099Policy application {id}: {}", because.cause());
    Notice::normal("ApplicationExpired", message)
}

fn describe(terms: &JobTerms) -> String {
    format!("{} cents {:?}, {}, {}", terms.wage_cents, terms.wage_type, terms.category_code, terms.region)
}

/// Records what was read about coverage in status: policy, assignment and certificate state,
/// and the COI links.
pub fn record_coverage(facts: &Facts, status: &mut CoverageBindingStatus) {
    if let Some(policy) = &facts.policy {
        status.policy_id = Some(policy.id.clone());
        status.policy_status = Some(policy.status);
        let links = status.coi_links.get_or_insert_with(Default::default);
        links.policy_pdf_url = policy.pdf_url.clone().or(links.policy_pdf_url.take());
        links.general_liability_url = policy.gl_coi_url.clone().or(links.general_liability_url.take());
        links.workers_comp_url = policy.wc_coi_url.clone().or(links.workers_comp_url.take());
    }
    if let Some(assignment) = &facts.assignment {
        if let Some(policy) = &assignment.policy_id {
            status.policy_id = Some(policy.clone());
        }
        let links = status.coi_links.get_or_insert_with(Default::default);
        links.general_liability_url = assignment.gl_coi_url.clone().or(links.general_liability_url.take());
        links.workers_comp_url = assignment.wc_coi_url.clone().or(links.workers_comp_url.take());
    }
    if let Some(certificate) = &facts.certificate {
        status.certificate_status = Some(certificate.status);
        if let Some(url) = &certificate.pdf_url {
            status.coi_links.get_or_insert_with(Default::default).certificate_pdf_url = Some(url.clone());
        }
    }
    if status.coi_links.as_ref().is_some_and(|l| *l == Default::default()) {
        status.coi_links = None;
    }
}

/// Notices for changes people must hear about even when no step caused them: a policy turning
/// active or lapsing, a certificate verdict, work starting uninsured, an assignment that could
/// not be cancelled because it had started, a binding failing.
pub fn transitions(before: &CoverageBindingStatus, after: &CoverageBindingStatus) -> Vec<Notice> {
    use crate::reconcile::conditions::is_true;
    use crate::resources::{CertificateStatus as Cert, ConditionType as C};
    let mut notices = Vec::new();
    if before.policy_status != after.policy_status {
        let id = after.policy_id.clone().unwrap_or_default();
        match after.policy_status {
            Some(PolicyStatus::Active) => notices.push(Notice::normal(
                "PolicyActive",
                format!("1099Policy policy {id} is active: the work order is covered"),
            )),
            Some(PolicyStatus::Cancelled) => notices.push(Notice::warning(
                "PolicyCancelled",
                format!("1099Policy policy {id} was cancelled: the work order is not covered"),
            )),
            Some(PolicyStatus::Expired) => notices.push(Notice::warning(
                "PolicyExpired",
                format!("1099Policy policy {id} expired: the work order is not covered"),
            )),
            None => {}
        }
    }
    if before.certificate_status != after.certificate_status {
        match after.certificate_status {
            Some(Cert::Approved) => {
                notices.push(Notice::normal("CertificateApproved", "1099Policy approved the worker's certificate"))
            }
            Some(Cert::Flagged) => notices.push(Notice::warning(
                "CertificateFlagged",
                "1099Policy flagged the worker's certificate; a person must review it",
            )),
            Some(Cert::Denied) => {
                notices.push(Notice::warning("CertificateDenied", "1099Policy denied the worker's certificate"))
            }
            _ => {}
        }
    }
    if is_true(&after.conditions, C::WorkStartedUninsured) && !is_true(&before.conditions, C::WorkStartedUninsured) {
        let message = crate::reconcile::conditions::find(&after.conditions, C::WorkStartedUninsured)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        notices.push(Notice::warning("WorkStartedUninsured", message));
    }
    fn started(s: &CoverageBindingStatus) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
        crate::reconcile::conditions::find(&s.conditions, C::Insured).filter(|c| c.reason == "AssignmentStarted")
    }
    if let (Some(kept), None) = (started(after), started(before)) {
        notices.push(Notice::warning("AssignmentStarted", kept.message.clone()));
    }
    if after.phase == Some(Phase::Failed)
        && before.phase != Some(Phase::Failed)
        && let Some(ready) = crate::reconcile::conditions::find(&after.conditions, C::Ready)
    {
        notices.push(Notice::warning(ready.reason.clone(), ready.message.clone()));
    }
    notices
}
