//! What the core knows when it decides: plain data read from WorkMarket, 1099Policy and the
//! host. No client types here, so the plan is testable with literals.

use jiff::Timestamp;

use super::mapping::Chosen;
use crate::money::Cents;
use crate::resources::{CertificateStatus, PolicyStatus, WageType};

/// Where a work order stands, as far as coverage cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkStage {
    /// Not assigned to anyone yet (draft, sent, declined, …).
    Open,
    /// A worker accepted or was assigned (WorkMarket `active`).
    Assigned,
    /// The worker checked in (WorkMarket `in_progress`).
    InProgress,
    /// The worker submitted the work, or it awaits payment (`complete`, `paymentPending`).
    Complete,
    /// Paid (`paid`).
    Paid,
    /// Voided or cancelled (`void`, `cancelled`, `cancelledWithPay`, `cancelledPayPending`, …).
    Cancelled,
}

impl WorkStage {
    /// Whether a worker has started or finished the work.
    pub fn started(self) -> bool {
        matches!(self, Self::InProgress | Self::Complete | Self::Paid)
    }
}

/// A postal address, with region and country already normalised to two-letter codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressFacts {
    /// Street address: number and street.
    pub line1: Option<String>,
    /// Apartment, suite or unit.
    pub line2: Option<String>,
    /// City, as WorkMarket or the overrides give it.
    pub city: Option<String>,
    /// Two-letter state or region.
    pub region: Option<String>,
    /// Postal or ZIP code, as given.
    pub postal_code: Option<String>,
    /// Two-letter country code (ISO 3166 alpha-2).
    pub country: Option<String>,
}

/// The worker assigned to a work order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerFacts {
    /// WorkMarket user number.
    pub id: String,
    /// First name; empty when WorkMarket has none.
    pub first_name: String,
    /// Last name; empty when WorkMarket has none.
    pub last_name: String,
    /// E-mail, when WorkMarket has one.
    pub email: Option<String>,
    /// Phone number, when WorkMarket has one.
    pub phone: Option<String>,
    /// Home address; empty when WorkMarket has none.
    pub address: AddressFacts,
}

/// A WorkMarket work order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkOrderFacts {
    /// WorkMarket assignment number, e.g. `6029116324`.
    pub id: String,
    /// Title, HTML-unescaped; the 1099Policy job's name.
    pub title: String,
    /// Description (scope of work).
    pub description: String,
    /// Where the work order is, in the terms coverage cares about.
    pub stage: WorkStage,
    /// WorkMarket's own status code, for display.
    pub status_code: String,
    /// Start of the schedule window.
    pub window_start: Option<Timestamp>,
    /// End of the schedule window.
    pub window_end: Option<Timestamp>,
    /// Two-letter state of the work location; `None` for remote work.
    pub location_region: Option<String>,
    /// Wage by the pricing rules, or why the pricing cannot be mapped.
    pub wage: Result<(Cents, WageType), String>,
    /// Final total cost, once WorkMarket knows it.
    pub total_cost: Option<Cents>,
    /// The assigned worker.
    pub worker: Option<WorkerFacts>,
    /// When WorkMarket last changed the work order, if it said.
    pub last_modified: Option<Timestamp>,
}

/// What 1099Policy's account-wide lists say of a category code or an entity a binding names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Listed and usable.
    Listed,
    /// Listed, but not approved for this account (category codes only): jobs using it are
    /// refused with `job_category_not_approved`.
    NotApproved,
    /// Not listed: 1099Policy would refuse it.
    Unknown,
    /// Not checked: 1099Policy refused to show its list to this API key. The write goes ahead
    /// and 1099Policy itself judges it.
    Unchecked,
}

/// The job category code for a work order, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CategoryFact {
    /// The binding names its code directly (`spec.categoryCode`).
    Direct {
        /// The `jc_…` code.
        code: String,
        /// What 1099Policy's list says of it.
        listing: Listing,
    },
    /// Chosen by a CategoryMapping.
    Mapped {
        /// The mapping's name.
        mapping: String,
        /// What it chose.
        chosen: Chosen,
        /// What 1099Policy's list says of the chosen code.
        listing: Listing,
    },
    /// The mapping chose nothing.
    Unmapped {
        /// The mapping's name.
        mapping: String,
        /// What the work order's category looked like.
        detail: String,
    },
    /// The referenced mapping does not exist.
    MappingMissing {
        /// The mapping's name.
        mapping: String,
    },
    /// Not needed (bring-your-own certificate, or the job exists) or not looked up yet.
    NotNeeded,
}

impl CategoryFact {
    /// The chosen code, where it came from in words that name the field, and its listing.
    pub fn chosen(&self) -> Option<(&str, String, Listing)> {
        match self {
            Self::Direct { code, listing } => Some((code, "spec.categoryCode".to_owned(), *listing)),
            Self::Mapped { mapping, chosen, listing } => {
                let field = match chosen.rule {
                    Some(i) => format!("spec.rules[{i}] (rule {})", i + 1),
                    None => "spec.defaultCategoryCode".to_owned(),
                };
                Some((&chosen.code, format!("CategoryMapping {mapping}, {field}"), *listing))
            }
            _ => None,
        }
    }
}

/// The bring-your-own certificate PDF, read from its Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PdfFact {
    /// The PDF and its SHA-256 (hex).
    Present {
        /// The PDF's bytes, as read from the Secret.
        bytes: Vec<u8>,
        /// SHA-256 of the content, lowercase hex.
        digest: String,
    },
    /// The Secret or key is missing.
    Missing {
        /// What is missing, e.g. `Secret ns/coi has no key certificate.pdf`.
        detail: String,
    },
}

/// A 1099Policy quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteFacts {
    /// Whether 1099Policy will insure this contractor for this job.
    pub eligible: bool,
}

/// A 1099Policy insurance application session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionFacts {
    /// Hosted application URL.
    pub url: String,
    /// Whether the session expired before completion.
    pub expired: bool,
}

/// A 1099Policy policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFacts {
    /// The policy's `pl_…` id.
    pub id: String,
    /// `active`, `cancelled` or `expired`.
    pub status: PolicyStatus,
    /// URL of the policy document PDF.
    pub pdf_url: Option<String>,
    /// General liability certificate.
    pub gl_coi_url: Option<String>,
    /// Workers' compensation certificate.
    pub wc_coi_url: Option<String>,
}

/// A 1099Policy assignment (coverage for one job under an existing policy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentFacts {
    /// Policy it falls under.
    pub policy_id: Option<String>,
    /// Start of coverage.
    pub effective: Option<Timestamp>,
    /// End of coverage.
    pub end: Option<Timestamp>,
    /// Cancelled (irreversible).
    pub cancelled: bool,
    /// Whether 1099Policy found it eligible.
    pub eligible: bool,
    /// Why not, when not.
    pub eligibility_message: Option<String>,
    /// General liability certificate.
    pub gl_coi_url: Option<String>,
    /// Workers' compensation certificate.
    pub wc_coi_url: Option<String>,
}

impl AssignmentFacts {
    /// Whether coverage has started by `now`; 1099Policy cancels only assignments that have not.
    pub fn started(&self, now: Timestamp) -> bool {
        self.effective.is_some_and(|start| now >= start)
    }
}

/// An uploaded certificate of insurance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    /// Review state; only `approved` satisfies a bring-your-own binding.
    pub status: CertificateStatus,
    /// The processed PDF.
    pub pdf_url: Option<String>,
}

/// Everything observed for one binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The work order; `None` when WorkMarket does not know it (or hides it).
    pub work_order: Option<WorkOrderFacts>,
    /// How the 1099Policy category code was chosen, or why none was.
    pub category: CategoryFact,
    /// Whether 1099Policy lists the entity a job would name; `None` when no job is still to
    /// be created (or the binding names no entity).
    pub entity: Option<Listing>,
    /// The certificate PDF, for bring-your-own bindings.
    pub pdf: Option<PdfFact>,
    /// Set when the worker's e-mail belongs to a contractor for someone else.
    pub contractor_conflict: Option<String>,
    /// The quote answered contractor_has_matching_policy: coverage comes by assignment.
    pub matching_policy: bool,
    /// The quote in status, when read.
    pub quote: Option<QuoteFacts>,
    /// The application session in status, when read.
    pub session: Option<SessionFacts>,
    /// The policy covering the binding (by id, or found by quote).
    pub policy: Option<PolicyFacts>,
    /// The assignment in status, when read.
    pub assignment: Option<AssignmentFacts>,
    /// The uploaded certificate, when read.
    pub certificate: Option<CertificateFacts>,
    /// The binding is being deleted: what is left is undoing what its deletion policy says.
    pub deleting: bool,
}

impl Facts {
    /// Facts about a work order and nothing else yet.
    pub fn new(work_order: Option<WorkOrderFacts>) -> Self {
        Self {
            work_order,
            category: CategoryFact::NotNeeded,
            entity: None,
            pdf: None,
            contractor_conflict: None,
            matching_policy: false,
            quote: None,
            session: None,
            policy: None,
            assignment: None,
            certificate: None,
            deleting: false,
        }
    }
}
