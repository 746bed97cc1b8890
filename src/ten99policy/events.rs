//! 1099Policy events, as webhooks deliver them and `GET /api/v1/events/{id}` returns them.
//!
//! Two payload shapes exist (reference §5.2): `data` is the resource itself (policy,
//! application, assignment, invoice and category events) or `data.object` is (the certificate
//! guide's shape). The top-level `id` may be missing, and dates inside `data` may be integers
//! or ISO strings. Unknown types decode as [`EventType::Other`] so a new event never breaks the
//! receiver.

use std::fmt;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decode::unwrap_stringified;
use super::time::EpochSeconds;

/// An event's `type`, e.g. `policy.active`.
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

/// A 1099Policy event: a webhook delivery or an item of `GET /api/v1/events`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// `ev_…`; some documented samples omit it.
    pub id: Option<String>,
    /// The `type` field.
    pub event_type: EventType,
    /// When it happened (`created`), in epoch seconds.
    pub created: Option<EpochSeconds>,
    /// The resource it is about (`data`, or `data.object` in the certificate shape).
    pub object: Value,
}

impl Event {
    /// Parses a webhook body or an events-API object.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Id of the resource the event is about (`pl_…`, `an_…`, `ci_…`, `ias_…`, `in_…`, …).
    pub fn object_id(&self) -> Option<&str> {
        self.object.get("id").and_then(Value::as_str)
    }

    /// The contractor concerned (`cn_…`), when the payload says.
    pub fn contractor_id(&self) -> Option<&str> {
        self.reference("contractor", "cn_")
    }

    /// The quote concerned (`qt_…`): a policy's or a session's quote.
    pub fn quote_id(&self) -> Option<&str> {
        self.reference("quote", "qt_")
    }

    /// The job concerned (`jb_…`), for assignments and invoices.
    pub fn job_id(&self) -> Option<&str> {
        self.reference("job", "jb_")
    }

    /// The policy concerned (`pl_…`): the object itself or an assignment's policy.
    pub fn policy_id(&self) -> Option<&str> {
        self.reference("policy", "pl_")
    }

    /// The object decoded as a resource type, e.g. [`super::Policy`] for policy events.
    pub fn object_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.object)
    }

    /// `field` of the object (a plain id, or an expanded object's id), or the object's own id
    /// when it is of that kind (`prefix`).
    fn reference(&self, field: &str, prefix: &str) -> Option<&str> {
        let named = match self.object.get(field) {
            Some(Value::String(id)) => Some(id.as_str()),
            Some(Value::Object(expanded)) => expanded.get("id").and_then(Value::as_str),
            _ => None,
        };
        named.filter(|id| !id.is_empty()).or_else(|| self.object_id().filter(|id| id.starts_with(prefix)))
    }
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    created: Option<EpochSeconds>,
    #[serde(default)]
    data: Value,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawEvent::deserialize(deserializer)?;
        let data = unwrap_stringified(raw.data).map_err(serde::de::Error::custom)?.unwrap_or(Value::Null);
        // `data.object` holds the resource in the certificate shape; a policy's own
        // `"object": "policy"` is a string and stays where it is.
        let object = match data {
            Value::Object(mut map) if map.get("object").is_some_and(Value::is_object) => {
                map.remove("object").unwrap_or_default()
            }
            other => other,
        };
        Ok(Event { id: raw.id, event_type: EventType::parse(&raw.event_type), created: raw.created, object })
    }
}

impl Serialize for Event {
    /// The shape 1099Policy sends: `data.object` for certificate events, `data` otherwise.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let data = if self.event_type.nests_object() {
            serde_json::json!({ "object": self.object })
        } else {
            self.object.clone()
        };
        let mut map = serde_json::Map::new();
        if let Some(id) = &self.id {
            map.insert("id".into(), id.clone().into());
        }
        map.insert("type".into(), self.event_type.as_str().into());
        if let Some(created) = self.created {
            map.insert("created".into(), created.get().into());
        }
        map.insert("data".into(), data);
        Value::Object(map).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::insurance::PolicyStatus;
    use crate::ten99policy::model::{ApplicationSession, Policy};

    #[test]
    fn every_documented_type_and_the_guides_spellings_parse() {
        for documented in EventType::DOCUMENTED {
            assert_eq!(EventType::parse(documented.as_str()), documented);
        }
        let names: std::collections::HashSet<_> = EventType::DOCUMENTED.iter().map(EventType::as_str).collect();
        assert_eq!(names.len(), EventType::DOCUMENTED.len());
        // Every type decodes from a whole body, in the shape 1099Policy sends it.
        for documented in EventType::DOCUMENTED {
            let resource = json!({"id": "xx_1", "contractor": "cn_1"});
            let data = if documented.nests_object() { json!({"object": resource}) } else { resource };
            let body = json!({"id": "ev_1", "type": documented.as_str(), "created": 1, "data": data});
            let event = Event::parse(body.to_string().as_bytes()).unwrap();
            assert_eq!(event.event_type, documented);
            assert_eq!((event.object_id(), event.contractor_id()), (Some("xx_1"), Some("cn_1")), "{documented}");
            assert_eq!(serde_json::to_value(&event).unwrap(), body, "{documented}");
        }
        assert_eq!(EventType::parse("policy.canceled"), EventType::PolicyCancelled);
        assert_eq!(EventType::parse("certificate.validated"), EventType::CertificateApproved);
        assert_eq!(EventType::parse("contractor.teleported"), EventType::Other("contractor.teleported".into()));
    }

    #[test]
    fn data_shape_with_iso_dates_and_no_top_level_id() {
        // The compliance guide's sample: no id, ISO dates inside data.
        let body = json!({
            "type": "policy.active",
            "created": 1696015731,
            "data": {
                "id": "pl_WzFRszJhoY", "object": "policy", "is_active": true,
                "quote": "qt_5DciVga8Kt", "status": "active",
                "pdf_url": "https://x/policy.pdf",
                "certificates": {"wc_coi_pdf_url": null, "gl_coi_pdf_url": "https://x/gl.pdf"},
                "effective_date": "2023-10-01T00:00:00Z", "expiration_date": "2023-10-31T00:00:00Z",
                "created": "2023-09-29T19:28:51Z"
            }
        });
        let event = Event::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(event.id, None);
        assert_eq!(event.event_type, EventType::PolicyActive);
        assert_eq!(event.created, Some(EpochSeconds(1_696_015_731)));
        assert_eq!(event.object_id(), Some("pl_WzFRszJhoY"));
        assert_eq!(event.policy_id(), Some("pl_WzFRszJhoY"));
        assert_eq!(event.quote_id(), Some("qt_5DciVga8Kt"));
        assert_eq!(event.contractor_id(), None);
        let policy: Policy = event.object_as().unwrap();
        assert_eq!(policy.status, PolicyStatus::Active);
        assert_eq!(policy.effective_date, Some(EpochSeconds(1_696_118_400)));
    }

    #[test]
    fn object_shape_of_certificate_events() {
        let body = br#"{"id": "evt_abc123", "type": "certificate.flagged", "created": 1706745620,
            "data": {"object": {"id": "ci_YnsHeB9PTo", "contractor": "cn_Ehb3bYa", "status": "flagged", "created": 1706745600}}}"#;
        let event = Event::parse(body).unwrap();
        assert_eq!(event.id.as_deref(), Some("evt_abc123"));
        assert_eq!(event.event_type, EventType::CertificateFlagged);
        assert_eq!(event.object_id(), Some("ci_YnsHeB9PTo"));
        assert_eq!(event.contractor_id(), Some("cn_Ehb3bYa"));
        // Round trip in the same shape.
        let again = serde_json::to_value(&event).unwrap();
        assert_eq!(again["data"]["object"]["id"], "ci_YnsHeB9PTo");
    }

    #[test]
    fn references_for_every_family() {
        let cases = [
            (
                "application.complete",
                json!({"id": "ias_01FVCHXE7PNQHA1T3S2AXL2QZE", "quote": "qt_1", "expired": false}),
                (Some("ias_01FVCHXE7PNQHA1T3S2AXL2QZE"), None, Some("qt_1"), None, None),
            ),
            (
                "assignment.cancelled",
                json!({"id": "an_1", "contractor": "cn_1", "job": "jb_1", "policy": "pl_1"}),
                (Some("an_1"), Some("cn_1"), None, Some("jb_1"), Some("pl_1")),
            ),
            (
                "invoice.charge_card_failed",
                json!({"id": "in_1", "contractor": {"id": "cn_2"}, "job": "jb_2"}),
                (Some("in_1"), Some("cn_2"), None, Some("jb_2"), None),
            ),
            (
                "category_code.added",
                json!({"category_code": "jc_1", "name": "Demolition"}),
                (None, None, None, None, None),
            ),
        ];
        for (name, data, (object, contractor, quote, job, policy)) in cases {
            let body = json!({"id": "ev_1", "type": name, "created": 1, "data": data});
            let event = Event::parse(body.to_string().as_bytes()).unwrap();
            assert_eq!(event.event_type.as_str(), name);
            assert_eq!(
                (event.object_id(), event.contractor_id(), event.quote_id(), event.job_id(), event.policy_id()),
                (object, contractor, quote, job, policy),
                "{name}"
            );
        }
        let session =
            json!({"type": "application.started", "data": {"id": "ias_1", "quote": "qt_9", "step": "verify_info"}});
        let event = Event::parse(session.to_string().as_bytes()).unwrap();
        let session: ApplicationSession = event.object_as().unwrap();
        assert_eq!(session.quote.as_deref(), Some("qt_9"));
    }

    #[test]
    fn unknown_types_and_stringified_data_still_decode() {
        let body = br#"{"id": "ev_9", "type": "policy.renewed", "created": "1700000000",
            "data": "{'id': 'pl_9', 'status': 'active', 'quote': 'qt_9'}"}"#;
        let event = Event::parse(body).unwrap();
        assert_eq!(event.event_type, EventType::Other("policy.renewed".into()));
        assert_eq!(event.policy_id(), Some("pl_9"));
        assert_eq!(event.created, Some(EpochSeconds(1_700_000_000)));
        assert!(Event::parse(b"{\"data\": {}}").is_err(), "the type is required");
        assert!(Event::parse(b"not json").is_err());
    }
}
