//! 1099Policy events as the sandbox sends them (reference §5.1 types, §5.2 envelope).

use std::fmt;

use serde_json::{Map, Value, json};

use super::wire::EpochSeconds;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `policy.active`: the contractor completed the application; coverage is bound.
    PolicyActive,
    /// `policy.active.media`.
    PolicyActiveMedia,
    /// `policy.cancelled` (the guide spells it `policy.canceled`).
    PolicyCancelled,
    /// `policy.expired` (named by the guide).
    PolicyExpired,
    /// `policy.reactivated`.
    PolicyReactivated,
    /// `application.created`.
    ApplicationCreated,
    /// `application.started`.
    ApplicationStarted,
    /// `application.complete`.
    ApplicationComplete,
    /// `application.expired`.
    ApplicationExpired,
    /// `application.ineligible`.
    ApplicationIneligible,
    /// `application.manual_review`.
    ApplicationManualReview,
    /// `application.manual_review_approved`.
    ApplicationManualReviewApproved,
    /// `assignment.active`: the contractor was charged; the assignment is in force.
    AssignmentActive,
    /// `assignment.cancelled`.
    AssignmentCancelled,
    /// `certificate.approved` (the guide's `certificate.validated` means the same).
    CertificateApproved,
    /// `certificate.flagged`: needs manual review.
    CertificateFlagged,
    /// `certificate.denied`.
    CertificateDenied,
    /// `certificate.error` (listed by one guide; another says it is never sent).
    CertificateError,
    /// `invoice.charge_card_failed`.
    InvoiceChargeCardFailed,
    /// `invoice.charge_card_succeeded`.
    InvoiceChargeCardSucceeded,
    /// `category_code.added`.
    CategoryCodeAdded,
    /// Any other type, as sent.
    Other(String),
}

impl EventType {
    /// Every documented type, by its canonical name.
    pub const DOCUMENTED: [EventType; 21] = [
        Self::PolicyActive,
        Self::PolicyActiveMedia,
        Self::PolicyCancelled,
        Self::PolicyExpired,
        Self::PolicyReactivated,
        Self::ApplicationCreated,
        Self::ApplicationStarted,
        Self::ApplicationComplete,
        Self::ApplicationExpired,
        Self::ApplicationIneligible,
        Self::ApplicationManualReview,
        Self::ApplicationManualReviewApproved,
        Self::AssignmentActive,
        Self::AssignmentCancelled,
        Self::CertificateApproved,
        Self::CertificateFlagged,
        Self::CertificateDenied,
        Self::CertificateError,
        Self::InvoiceChargeCardFailed,
        Self::InvoiceChargeCardSucceeded,
        Self::CategoryCodeAdded,
    ];

    /// Types a wire name, accepting the guide's spellings too.
    pub fn parse(name: &str) -> Self {
        match name {
            "policy.active" => Self::PolicyActive,
            "policy.active.media" => Self::PolicyActiveMedia,
            "policy.cancelled" | "policy.canceled" => Self::PolicyCancelled,
            "policy.expired" => Self::PolicyExpired,
            "policy.reactivated" => Self::PolicyReactivated,
            "application.created" => Self::ApplicationCreated,
            "application.started" => Self::ApplicationStarted,
            "application.complete" => Self::ApplicationComplete,
            "application.expired" => Self::ApplicationExpired,
            "application.ineligible" => Self::ApplicationIneligible,
            "application.manual_review" => Self::ApplicationManualReview,
            "application.manual_review_approved" => Self::ApplicationManualReviewApproved,
            "assignment.active" => Self::AssignmentActive,
            "assignment.cancelled" | "assignment.canceled" => Self::AssignmentCancelled,
            "certificate.approved" | "certificate.validated" => Self::CertificateApproved,
            "certificate.flagged" => Self::CertificateFlagged,
            "certificate.denied" => Self::CertificateDenied,
            "certificate.error" => Self::CertificateError,
            "invoice.charge_card_failed" => Self::InvoiceChargeCardFailed,
            "invoice.charge_card_succeeded" => Self::InvoiceChargeCardSucceeded,
            "category_code.added" => Self::CategoryCodeAdded,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The canonical wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::PolicyActive => "policy.active",
            Self::PolicyActiveMedia => "policy.active.media",
            Self::PolicyCancelled => "policy.cancelled",
            Self::PolicyExpired => "policy.expired",
            Self::PolicyReactivated => "policy.reactivated",
            Self::ApplicationCreated => "application.created",
            Self::ApplicationStarted => "application.started",
            Self::ApplicationComplete => "application.complete",
            Self::ApplicationExpired => "application.expired",
            Self::ApplicationIneligible => "application.ineligible",
            Self::ApplicationManualReview => "application.manual_review",
            Self::ApplicationManualReviewApproved => "application.manual_review_approved",
            Self::AssignmentActive => "assignment.active",
            Self::AssignmentCancelled => "assignment.cancelled",
            Self::CertificateApproved => "certificate.approved",
            Self::CertificateFlagged => "certificate.flagged",
            Self::CertificateDenied => "certificate.denied",
            Self::CertificateError => "certificate.error",
            Self::InvoiceChargeCardFailed => "invoice.charge_card_failed",
            Self::InvoiceChargeCardSucceeded => "invoice.charge_card_succeeded",
            Self::CategoryCodeAdded => "category_code.added",
            Self::Other(name) => name,
        }
    }

    /// Whether the event's payload nests the resource as `data.object` when 1099Policy sends
    /// it (certificate events), rather than as `data` itself.
    pub fn nests_object(&self) -> bool {
        matches!(
            self,
            Self::CertificateApproved | Self::CertificateFlagged | Self::CertificateDenied | Self::CertificateError
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON of one event, in the shape 1099Policy sends (reference §5.2): the resource under
/// `data.object` for certificate events (the certificate guide's shape), directly as `data`
/// otherwise (the events API's shape). The top-level `id` is always present.
pub fn event_json(id: &str, event_type: &EventType, created: EpochSeconds, object: Value) -> Value {
    let data = if event_type.nests_object() { json!({ "object": object }) } else { object };
    let mut map = Map::new();
    map.insert("id".into(), id.into());
    map.insert("type".into(), event_type.as_str().into());
    map.insert("created".into(), created.get().into());
    map.insert("data".into(), data);
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_type_round_trips_its_name() {
        for documented in EventType::DOCUMENTED {
            assert_eq!(EventType::parse(documented.as_str()), documented);
        }
        assert_eq!(EventType::parse("policy.canceled"), EventType::PolicyCancelled);
    }

    #[test]
    fn certificate_events_nest_the_object_and_the_others_do_not() {
        let certificate = json!({"id": "ci_1", "status": "approved"});
        let event =
            event_json("ev_1", &EventType::CertificateApproved, EpochSeconds(1_706_745_620), certificate.clone());
        assert_eq!(
            event,
            json!({"id": "ev_1", "type": "certificate.approved", "created": 1_706_745_620, "data": {"object": certificate}})
        );
        let policy = json!({"id": "pl_1", "object": "policy", "status": "active"});
        let event = event_json("ev_2", &EventType::PolicyActive, EpochSeconds(1_696_015_731), policy.clone());
        assert_eq!(event, json!({"id": "ev_2", "type": "policy.active", "created": 1_696_015_731, "data": policy}));
    }
}
