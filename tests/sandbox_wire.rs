//! Wire agreement: coverbridge's real clients against the sandboxes, which have their own wire
//! types (the `coverbridge-sandbox` crate shares no definition with the operator). For every
//! endpoint the operator uses, the answer is decoded by the operator's client and compared,
//! field by field, with the raw JSON the sandbox sent: whatever the operator models must be
//! there with the same value (or absent and decoded as empty). Webhooks the sandbox signs must
//! verify with the operator's `Verifier` and parse with its `Event`.

mod support;

use std::collections::HashSet;

use axum::http::StatusCode;
use coverbridge::money::Cents;
use coverbridge::resources::{CertificateStatus, CoverageType, PolicyStatus};
use coverbridge::ten99policy::*;
use coverbridge::workmarket::{PathStyle, PricingType, WorkOrderStatus};
use coverbridge_sandbox::money::Cents as SandboxCents;
use coverbridge_sandbox::ten99policy::CertificateReview;
use coverbridge_sandbox::ten99policy::seed::{JORDAN_CONTRACTOR_ID, JORDAN_POLICY_ID};
use coverbridge_sandbox::workmarket::{NewWorkOrder, PricingSpec};
use serde::Serialize;
use serde_json::Value;
use support::Ten99PolicySandboxClient;
use support::ten99policy::*;

/// The raw JSON the 1099Policy sandbox answers `GET path` with.
async fn raw(sandbox: &coverbridge_sandbox::ten99policy::RunningSandbox, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", sandbox.url))
        .bearer_auth(sandbox.sandbox.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

/// Asserts that every field of `decoded` (an operator type, serialized back) agrees with the
/// sandbox's `raw` answer.
fn agrees(what: &str, raw: &Value, decoded: &impl Serialize) {
    let decoded = serde_json::to_value(decoded).unwrap();
    assert!(raw.is_object() && decoded.is_object(), "{what}: {raw} / {decoded}");
    assert_fields(what, raw, &decoded);
}

fn assert_fields(what: &str, raw: &Value, decoded: &Value) {
    for (field, value) in decoded.as_object().unwrap() {
        let path = format!("{what}.{field}");
        match raw.get(field) {
            None | Some(Value::Null) => assert!(is_empty(value), "{path}: decoded {value} from nothing"),
            Some(sent) => assert_value(&path, sent, value),
        }
    }
}

fn assert_value(path: &str, sent: &Value, decoded: &Value) {
    match (sent, decoded) {
        (Value::Object(_), Value::Object(_)) => assert_fields(path, sent, decoded),
        // A nested object sent as a (JSON or Python-repr) string: one of 1099Policy's quirks the
        // sandbox reproduces; the operator must have decoded it into the object.
        (Value::String(text), Value::Object(_) | Value::Array(_)) => {
            assert!(!text.is_empty() || is_empty(decoded), "{path}: {decoded} from an empty string")
        }
        // Numbers sent as strings and strings sent as numbers (dates, postal codes).
        (Value::String(text), Value::Number(number)) | (Value::Number(number), Value::String(text)) => {
            assert_eq!(text.trim(), number.to_string(), "{path}")
        }
        (Value::Array(sent), Value::Array(decoded)) => {
            assert_eq!(sent.len(), decoded.len(), "{path}");
            for (i, (s, d)) in sent.iter().zip(decoded).enumerate() {
                assert_value(&format!("{path}[{i}]"), s, d);
            }
        }
        _ => assert_eq!(sent, decoded, "{path}"),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(b) => !b,
        _ => false,
    }
}

#[tokio::test]
async fn the_operator_decodes_every_1099policy_object_the_sandbox_sends() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());

    let who = client.create_contractor(&contractor(&email("wire")), &key("c")).await.unwrap();
    assert!(who.id.starts_with("cn_"));
    assert_eq!(client.get_contractor(&who.id).await.unwrap(), who);
    agrees("contractor", &raw(&sandbox, &format!("/api/v1/contractors/{}", who.id)).await, &who);
    assert_eq!(who.custom_metadata.get("workmarket_worker_id"), Some("wk_421"));

    let work = client.create_job(&job("wire"), &key("j")).await.unwrap();
    assert_eq!(client.get_job(&work.id).await.unwrap(), work);
    agrees("job", &raw(&sandbox, &format!("/api/v1/jobs/{}", work.id)).await, &work);
    assert_eq!(work.wage, Some(Cents(32500)));

    let coverage = [CoverageType::General, CoverageType::WorkersComp];
    let quoted = client.create_quote(&quote(now, &who.id, &work.id, &coverage), &key("q")).await.unwrap();
    assert_eq!(client.get_quote(&quoted.id).await.unwrap(), quoted);
    agrees("quote", &raw(&sandbox, &format!("/api/v1/quotes/{}", quoted.id)).await, &quoted);
    assert_eq!(quoted.coverage_type, coverage);
    assert_eq!(quoted.effective_date, Some(now.plus_seconds(86_400)));

    let session = client
        .create_application_session(
            &NewApplicationSession {
                quote: quoted.id.clone(),
                success_url: Some("https://wm.example/wire".into()),
                cancel_url: None,
                custom_metadata: Metadata::default(),
            },
            &key("s"),
        )
        .await
        .unwrap();
    assert_eq!(client.get_application_session(&session.id).await.unwrap(), session);
    agrees("session", &raw(&sandbox, &format!("/api/v1/apply/sessions/{}", session.id)).await, &session);
    assert!(session.url.is_some() && !session.is_complete());

    let issued = sandbox.sandbox.complete_application(&session.id).unwrap();
    assert!(client.get_application_session(&session.id).await.unwrap().is_complete());
    let policy = client.get_policy(&issued.id).await.unwrap();
    agrees("policy", &raw(&sandbox, &format!("/api/v1/policies/{}", policy.id)).await, &policy);
    assert_eq!(policy.status, PolicyStatus::Active);
    assert_eq!(client.list_policies_by_quote(&quoted.id).await.unwrap(), std::slice::from_ref(&policy));

    // A returning contractor's second job goes under the seeded policy by assignment.
    let second = client.create_job(&job("wire-2"), &key("j2")).await.unwrap();
    let assignment = NewAssignment {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        job: second.id.clone(),
        coverage_type: vec![],
        effective_date: None,
        end_date: None,
        policy: Some(JORDAN_POLICY_ID.into()),
        bind: None,
        custom_metadata: Metadata::default(),
    };
    let assigned = client.create_assignment(&assignment, &key("a")).await.unwrap();
    assert_eq!(client.get_assignment(&assigned.id).await.unwrap(), assigned);
    agrees("assignment", &raw(&sandbox, &format!("/api/v1/assignments/{}", assigned.id)).await, &assigned);
    assert_eq!(assigned.policy.as_deref(), Some(JORDAN_POLICY_ID));
    assert!(assigned.eligible.as_ref().is_some_and(|e| e.result));

    let invoice = NewInvoice {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        job: second.id.clone(),
        gross_pay: Cents(120_000),
        paycycle_startdate: now,
        paycycle_enddate: now.plus_seconds(86_400),
        purchase_order_number: None,
    };
    let invoiced = client.create_invoice(&invoice, &key("i")).await.unwrap();
    assert_eq!(client.get_invoice(&invoiced.id).await.unwrap(), invoiced);
    agrees("invoice", &raw(&sandbox, &format!("/api/v1/invoices/{}", invoiced.id)).await, &invoiced);
    assert_eq!(invoiced.gross_pay, Some(Cents(120_000)));

    let upload = CertificateUpload {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        filename: "coi.pdf".into(),
        pdf: pdf(),
        custom_metadata: Metadata::default().with("work_order_id", "wire"),
    };
    let certificate = client.upload_certificate(&upload, &key("ci")).await.unwrap();
    assert_eq!(certificate.status, CertificateStatus::Pending);
    sandbox.sandbox.review_certificate(&certificate.id, CertificateReview::Approve).unwrap();
    let reviewed = client.get_certificate(&certificate.id).await.unwrap();
    agrees("certificate", &raw(&sandbox, &format!("/api/v1/files/certificates/{}", reviewed.id)).await, &reviewed);
    assert_eq!(reviewed.status, CertificateStatus::Approved);

    // Every event the sandbox recorded reads back through the operator's events API client.
    for sent in sandbox.sandbox.events() {
        let id = sent["id"].as_str().unwrap();
        let event = client.get_event(id).await.unwrap();
        assert_eq!(event.event_type.as_str(), sent["type"].as_str().unwrap(), "{sent}");
        assert_eq!(event.created.map(EpochSeconds::get), sent["created"].as_i64());
        assert!(event.object_id().is_some(), "{sent}");
    }
}

#[tokio::test]
async fn sandbox_signed_webhooks_verify_and_parse_with_the_operators_code() {
    let (hook, mut received) = receiver(vec![StatusCode::OK]).await;
    let sandbox = start_with(coverbridge_sandbox::ten99policy::Ten99PolicySandboxConfig {
        webhook_url: Some(hook),
        webhook_secret: Some(coverbridge_sandbox::secret::Secret::new("whsec_wire_agreement")),
        delivery: fast_delivery(),
        ..Default::default()
    })
    .await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());
    let who = client.create_contractor(&contractor(&email("hook")), &key("c")).await.unwrap();
    let work = client.create_job(&job("hook"), &key("j")).await.unwrap();
    let quoted =
        client.create_quote(&quote(now, &who.id, &work.id, &[CoverageType::General]), &key("q")).await.unwrap();
    let session = client
        .create_application_session(
            &NewApplicationSession {
                quote: quoted.id.clone(),
                success_url: None,
                cancel_url: None,
                custom_metadata: Metadata::default(),
            },
            &key("s"),
        )
        .await
        .unwrap();
    let policy = sandbox.sandbox.complete_application(&session.id).unwrap();
    let upload = CertificateUpload {
        contractor: who.id.clone(),
        filename: "coi.pdf".into(),
        pdf: pdf(),
        custom_metadata: Metadata::default(),
    };
    let certificate = client.upload_certificate(&upload, &key("ci")).await.unwrap();
    sandbox.sandbox.review_certificate(&certificate.id, CertificateReview::Approve).unwrap();

    let verifier = sandbox.verifier();
    let forged = Verifier::new(coverbridge::secret::Secret::new("whsec_someone_else"));
    let wanted: HashSet<EventType> = [EventType::PolicyActive, EventType::CertificateApproved].into();
    let mut seen = HashSet::new();
    while !wanted.is_subset(&seen) {
        let hook = next_webhook(&mut received, 10).await;
        let signature = hook.headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        verifier.verify(signature, &hook.body).expect("signed with the configured secret");
        assert!(forged.verify(signature, &hook.body).is_err(), "a different secret must not verify");
        let event = Event::parse(&hook.body).expect("the operator parses the sandbox's event");
        match event.event_type {
            EventType::PolicyActive => {
                assert_eq!(event.policy_id(), Some(policy.id.as_str()));
                assert_eq!(event.quote_id(), Some(quoted.id.as_str()));
                let decoded: Policy = event.object_as().unwrap();
                assert_eq!(decoded.status, PolicyStatus::Active);
            }
            EventType::CertificateApproved => {
                // The certificate shape: the resource under data.object.
                let body: Value = serde_json::from_slice(&hook.body).unwrap();
                assert_eq!(body["data"]["object"]["id"], certificate.id.as_str());
                assert_eq!(event.object_id(), Some(certificate.id.as_str()));
                assert_eq!(event.contractor_id(), Some(who.id.as_str()));
            }
            _ => assert!(event.object_id().is_some(), "{event:?}"),
        }
        seen.insert(event.event_type);
    }
}

#[tokio::test]
async fn the_operator_reads_a_workmarket_work_order_after_one_token_exchange() {
    let sandbox = support::workmarket::seeded().await;
    let id = sandbox
        .sandbox
        .create_work_order(NewWorkOrder::new("Wire agreement", PricingSpec::Flat { price: SandboxCents(12_345) }))
        .unwrap();
    sandbox.sandbox.assign(&id, "8823578").unwrap();
    for style in PathStyle::ALL {
        let client = support::workmarket::client(&sandbox, style);
        for _ in 0..2 {
            let order = client.get_assignment(&id).await.unwrap();
            assert_eq!(order.id, id);
            assert_eq!(order.title, "Wire agreement");
            assert_eq!(order.status, WorkOrderStatus::Active);
            assert_eq!(order.pricing.kind, PricingType::Flat);
            assert_eq!(order.pricing.flat_price, Some(Cents(12_345)));
            assert_eq!(order.worker.as_ref().map(|w| w.id.as_str()), Some("8823578"));
        }
    }
    let harness = sandbox.sandbox.harness();
    // One exchange per client (one per path style), reused for both reads.
    assert_eq!(support::workmarket::calls_to(harness, "authorization/request"), 2);
    assert_eq!(support::workmarket::calls_to(harness, "assignments/get"), 4);
}

#[test]
fn the_comparison_accepts_the_documented_quirks() {
    let raw = serde_json::json!({"id": "x", "created": "1761997200", "address": "{'region': 'CA'}", "extra": 1});
    let decoded = serde_json::json!({"id": "x", "created": 1_761_997_200, "address": {"region": "CA"}, "tags": []});
    agrees("quirks", &raw, &decoded);
}

#[test]
#[should_panic(expected = "contractor.email")]
fn the_comparison_catches_a_value_the_operator_decoded_differently() {
    let raw = serde_json::json!({"id": "cn_1", "email": "a@b.c"});
    agrees("contractor", &raw, &serde_json::json!({"id": "cn_1", "email": "someone@else"}));
}

#[test]
#[should_panic(expected = "decoded \"wk_1\" from nothing")]
fn the_comparison_catches_a_field_the_sandbox_never_sent() {
    agrees("contractor", &serde_json::json!({"id": "cn_1"}), &serde_json::json!({"id": "cn_1", "worker": "wk_1"}));
}
