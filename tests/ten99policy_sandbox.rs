//! The 1099Policy sandbox over raw HTTP: auth forms, validation, byte-for-byte replay, list
//! paging, signed and retried webhooks, the control API and the seed.

mod support;

use axum::http::StatusCode;
use base64::Engine;
use coverbridge::secret::Secret;
use coverbridge::ten99policy::{Event, EventType, Verifier};
use coverbridge_sandbox::harness::{Fault, FaultRule};
use coverbridge_sandbox::ten99policy::seed::{
    COMPUTER_REPAIR, DEMOLITION, ENTITY_ID, JORDAN_CONTRACTOR_ID, JORDAN_POLICY_ID,
};
use coverbridge_sandbox::ten99policy::{
    CertificateReview, SANDBOX_API_KEY, Ten99PolicySandbox, Ten99PolicySandboxConfig,
};
use reqwest::RequestBuilder;
use serde_json::{Value, json};
use support::ten99policy::*;

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

fn authed(request: RequestBuilder) -> RequestBuilder {
    request.bearer_auth(SANDBOX_API_KEY)
}

async fn answer(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn contractor_body(email: &str) -> Value {
    json!({
        "first_name": "Sam", "last_name": "Rivera", "email": email, "phone": "+1 206 555 0100",
        "address": {"line1": "1 Pike St", "locality": "Seattle", "region": "WA", "postalcode": "98101", "country": "US"}
    })
}

fn job_body(wage: Value) -> Value {
    json!({
        "name": "WO 1", "description": "Cabling", "entity": ENTITY_ID,
        "category_code": COMPUTER_REPAIR, "wage": wage, "wage_type": "flatfee"
    })
}

#[tokio::test]
async fn every_documented_auth_form_works_and_others_get_401() {
    let sandbox = start().await;
    let url = format!("{}/api/v1/entities/{ENTITY_ID}", sandbox.url);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SANDBOX_API_KEY}:"));
    for header in [
        format!("Bearer {SANDBOX_API_KEY}"),
        format!("Basic {basic}"),
        format!("Basic {SANDBOX_API_KEY}"),
        SANDBOX_API_KEY.to_owned(),
    ] {
        let (status, body) = answer(http().get(&url).header("authorization", &header)).await;
        assert_eq!((status, body["id"].as_str()), (200, Some(ENTITY_ID)), "{header}");
    }
    for request in [http().get(&url), http().get(&url).bearer_auth("t9k_test_other")] {
        let (status, body) = answer(request).await;
        assert_eq!(status, 401);
        assert_eq!(body["error_code"], "invalid_api_key");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn money_and_dates_must_be_integers_and_fields_are_required() {
    let sandbox = start().await;
    let jobs = format!("{}/api/v1/jobs", sandbox.url);
    for wage in [json!(325.0), json!("32500"), json!(99), json!(100_000_001)] {
        let (status, body) = answer(authed(http().post(&jobs)).json(&job_body(wage.clone()))).await;
        assert_eq!((status, body["error_code"].as_str()), (400, Some("invalid_input")), "{wage}");
    }
    let (status, body) = answer(authed(http().post(&jobs)).json(&job_body(json!(32500)))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["wage"], 32500);
    let mut missing = job_body(json!(32500));
    missing.as_object_mut().unwrap().remove("category_code");
    let (status, body) = answer(authed(http().post(&jobs)).json(&missing)).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("missing_job_category_code")));
    let mut demolition = job_body(json!(32500));
    demolition["category_code"] = json!(DEMOLITION);
    let (_, body) = answer(authed(http().post(&jobs)).json(&demolition)).await;
    assert_eq!(body["error_code"], "job_category_not_approved");

    let quotes = format!("{}/api/v1/quotes", sandbox.url);
    let job_id = body_id(&sandbox, &jobs, job_body(json!(32500))).await;
    let tomorrow = sandbox.sandbox.now().plus_seconds(86_400).get();
    let (status, body) = answer(authed(http().post(&quotes)).json(&json!({
        "contractor": JORDAN_CONTRACTOR_ID, "job": job_id, "coverage_type": ["professional"],
        "effective_date": tomorrow.to_string()
    })))
    .await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("invalid_input")), "string dates");
    let (status, body) = answer(authed(http().post(&quotes)).json(&json!({
        "contractor": JORDAN_CONTRACTOR_ID, "job": job_id, "coverage_type": ["professional"],
        "effective_date": tomorrow
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["end_date"], tomorrow + 30 * 86_400, "default term is 30 days");
    assert!(body["id"].as_str().unwrap().starts_with("qt_"));
}

async fn body_id(sandbox: &coverbridge_sandbox::ten99policy::RunningSandbox, url: &str, body: Value) -> String {
    let _ = sandbox;
    let (status, body) = answer(authed(http().post(url)).json(&body)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn replay_is_byte_for_byte_under_either_header_and_skips_unprocessed_requests() {
    let sandbox = start().await;
    let url = format!("{}/api/v1/contractors", sandbox.url);
    let send =
        |header: &'static str, key: &str, body: Value| authed(http().post(&url)).header(header, key).json(&body).send();
    let raw = |r: reqwest::Response| async move { (r.status(), r.bytes().await.unwrap()) };

    let first = raw(send("Ten99Policy-Idempotent-Key", "k-1", contractor_body("a@x.io")).await.unwrap()).await;
    let again = raw(send("Idempotency-Key", "k-1", contractor_body("b@x.io")).await.unwrap()).await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!(first, again);

    // An error is stored too, and outlives the condition that caused it.
    let clash = raw(send("Idempotency-Key", "k-2", contractor_body("a@x.io")).await.unwrap()).await;
    assert_eq!(clash.0, StatusCode::BAD_REQUEST);
    let id: Value = serde_json::from_slice(&first.1).unwrap();
    let rename =
        authed(http().put(format!("{url}/{}", id["id"].as_str().unwrap()))).json(&json!({"email": "renamed@x.io"}));
    assert_eq!(answer(rename).await.0, 200);
    let replayed = raw(send("Ten99Policy-Idempotent-Key", "k-2", contractor_body("a@x.io")).await.unwrap()).await;
    assert_eq!(clash, replayed);

    // Malformed JSON and a failed auth never started executing: the key stays unused.
    let broken = authed(http().post(&url))
        .header("Idempotency-Key", "k-3")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let unauthorised = http()
        .post(&url)
        .bearer_auth("t9k_test_wrong")
        .header("Idempotency-Key", "k-4")
        .json(&contractor_body("c@x.io"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    assert_eq!(send("Idempotency-Key", "k-3", contractor_body("c@x.io")).await.unwrap().status(), 201);
    assert_eq!(send("Idempotency-Key", "k-4", contractor_body("d@x.io")).await.unwrap().status(), 201);

    // After 24 hours the key is fresh.
    sandbox.sandbox.advance_clock(24 * 3600 + 60);
    let later = raw(send("Ten99Policy-Idempotent-Key", "k-1", contractor_body("e@x.io")).await.unwrap()).await;
    assert_eq!(later.0, StatusCode::CREATED);
    assert_ne!(later.1, first.1);
}

#[tokio::test]
async fn lists_are_bare_arrays_newest_first_with_cursors() {
    let sandbox =
        Ten99PolicySandbox::new(Ten99PolicySandboxConfig { seed: false, ..Default::default() }).start().await.unwrap();
    let url = format!("{}/api/v1/contractors", sandbox.url);
    let mut ids = Vec::new();
    for n in 0..5 {
        let (_, body) = answer(authed(http().post(&url)).json(&contractor_body(&format!("p{n}@x.io")))).await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let page = |query: String| {
        let url = format!("{url}?{query}");
        async move {
            let (status, body) = answer(authed(http().get(url))).await;
            assert_eq!(status, 200, "{body}");
            body.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(page(String::new()).await, ids, "default limit 10");
    assert_eq!(page("limit=2".into()).await, ids[..2]);
    assert_eq!(page(format!("limit=2&starting_after={}", ids[1])).await, ids[2..4]);
    assert_eq!(page(format!("limit=2&starting_after={}", ids[4])).await, Vec::<String>::new());
    assert_eq!(page(format!("limit=2&ending_before={}", ids[3])).await, ids[1..3]);
    assert_eq!(page("email=p3@x.io".into()).await, [ids[1].clone()]);
    let (status, body) = answer(authed(http().get(format!("{url}?limit=101")))).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("invalid_input")));
}

#[tokio::test]
async fn configured_webhooks_are_signed_ordered_and_in_both_shapes() {
    let (hook, mut received) = receiver(vec![StatusCode::OK]).await;
    let secret = Secret::new("whsec_configured");
    let sandbox = start_with(Ten99PolicySandboxConfig {
        webhook_url: Some(hook),
        webhook_secret: Some(coverbridge_sandbox::secret::Secret::new(secret.expose())),
        delivery: fast_delivery(),
        ..Default::default()
    })
    .await;
    let client = client(&sandbox);
    let now = coverbridge::ten99policy::EpochSeconds(sandbox.sandbox.now().get());
    let who = client.create_contractor(&contractor(&email("w")), &key("c")).await.unwrap();
    let work = client.create_job(&job("w"), &key("j")).await.unwrap();
    let q = client
        .create_quote(&quote(now, &who.id, &work.id, &[coverbridge::resources::CoverageType::General]), &key("q"))
        .await
        .unwrap();
    let session = client
        .create_application_session(
            &coverbridge::ten99policy::NewApplicationSession {
                quote: q.id.clone(),
                success_url: None,
                cancel_url: None,
                custom_metadata: Default::default(),
            },
            &key("s"),
        )
        .await
        .unwrap();
    let policy = sandbox.sandbox.complete_application(&session.id).unwrap();
    let upload = coverbridge::ten99policy::CertificateUpload {
        contractor: who.id.clone(),
        filename: "coi.pdf".into(),
        pdf: pdf(),
        custom_metadata: Default::default(),
    };
    let certificate = client.upload_certificate(&upload, &key("ci")).await.unwrap();
    sandbox.sandbox.review_certificate(&certificate.id, CertificateReview::Flag).unwrap();

    let verifier = Verifier::new(secret);
    let mut events = Vec::new();
    for _ in 0..4 {
        let hook = next_webhook(&mut received, 10).await;
        let signature = hook.headers.get("ten99policy-signature").map(|v| v.to_str().unwrap());
        verifier.verify(signature, &hook.body).expect("signed with the configured secret");
        let raw: Value = serde_json::from_slice(&hook.body).unwrap();
        assert!(raw["id"].as_str().unwrap().starts_with("ev_") && raw["created"].is_i64(), "{raw}");
        events.push((raw, Event::parse(&hook.body).unwrap()));
    }
    let types: Vec<_> = events.iter().map(|(_, e)| e.event_type.clone()).collect();
    assert_eq!(
        types,
        [
            EventType::ApplicationCreated,
            EventType::ApplicationComplete,
            EventType::PolicyActive,
            EventType::CertificateFlagged
        ],
        "in order"
    );
    let (raw_policy, policy_event) = &events[2];
    assert_eq!(raw_policy["data"]["id"], policy.id.as_str(), "policy events carry data directly");
    assert_eq!(raw_policy["data"]["object"], "policy");
    assert_eq!(policy_event.quote_id(), Some(q.id.as_str()));
    let (raw_certificate, certificate_event) = &events[3];
    assert_eq!(raw_certificate["data"]["object"]["id"], certificate.id.as_str(), "data.object shape");
    assert_eq!(certificate_event.contractor_id(), Some(who.id.as_str()));
    assert_eq!(events[1].1.quote_id(), Some(q.id.as_str()));
    // Stored for the events API too.
    let id = policy_event.id.clone().unwrap();
    assert_eq!(client.get_event(&id).await.unwrap(), *policy_event);
}

#[tokio::test]
async fn failed_deliveries_are_retried_before_the_next_event() {
    let (hook, mut received) =
        receiver(vec![StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY, StatusCode::NO_CONTENT]).await;
    let sandbox = start_with(Ten99PolicySandboxConfig {
        webhook_url: Some(hook),
        delivery: fast_delivery(),
        ..Default::default()
    })
    .await;
    sandbox.sandbox.cancel_policy(JORDAN_POLICY_ID).unwrap();
    sandbox.sandbox.reactivate_policy(JORDAN_POLICY_ID).unwrap();
    let verifier = Verifier::new(Secret::new("whsec_sandbox"));
    let mut seen = Vec::new();
    for _ in 0..4 {
        let hook = next_webhook(&mut received, 10).await;
        let signature = hook.headers.get("ten99policy-signature").map(|v| v.to_str().unwrap());
        verifier.verify(signature, &hook.body).expect("default secret");
        seen.push(Event::parse(&hook.body).unwrap());
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
    assert_eq!(seen[0].event_type, EventType::PolicyCancelled);
    assert_eq!(seen[3].event_type, EventType::PolicyReactivated);
    let attempts: Vec<_> = sandbox.sandbox.deliveries().iter().map(|d| (d.attempt, d.status)).collect();
    // The fourth attempt's entry may still be on its way; the first three precede it.
    assert_eq!(attempts[..3], [(1, Some(500)), (2, Some(502)), (3, Some(204))]);
}

#[tokio::test]
async fn registered_endpoints_get_their_subscribed_events_with_their_own_secret() {
    let (hook, mut received) = receiver(vec![StatusCode::OK]).await;
    let sandbox = start_with(Ten99PolicySandboxConfig { delivery: fast_delivery(), ..Default::default() }).await;
    let (status, endpoint) = answer(
        authed(http().post(format!("{}/api/v1/webhook_endpoints", sandbox.url)))
            .json(&json!({"url": hook, "events": ["policy.expired"]})),
    )
    .await;
    assert_eq!(status, 201);
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    sandbox.sandbox.add_category_code(None, "Not subscribed", true);
    // A year later the seeded policy has run out.
    sandbox.sandbox.advance_clock(366 * 86_400);
    let hook = next_webhook(&mut received, 10).await;
    let signature = hook.headers.get("ten99policy-signature").map(|v| v.to_str().unwrap());
    // Signed at sandbox time, a year ahead of ours: future timestamps are accepted.
    Verifier::new(Secret::new(secret)).verify(signature, &hook.body).unwrap();
    let event = Event::parse(&hook.body).unwrap();
    assert_eq!(event.event_type, EventType::PolicyExpired);
    assert_eq!(event.policy_id(), Some(JORDAN_POLICY_ID));
    let policy = client(&sandbox).get_policy(JORDAN_POLICY_ID).await.unwrap();
    assert_eq!(policy.status, coverbridge::resources::PolicyStatus::Expired);
    assert!(received.try_recv().is_err(), "category_code.added was not subscribed");
}

#[tokio::test]
async fn control_routes_drive_scenarios_over_http() {
    let sandbox = start().await;
    let base = format!("{}/_sandbox", sandbox.url);
    let (status, entity) =
        answer(http().post(format!("{base}/entities")).json(&json!({"id": "en_Other1", "name": "Other"}))).await;
    assert_eq!((status, entity["id"].as_str()), (201, Some("en_Other1")));
    let (status, code) =
        answer(http().post(format!("{base}/category_codes")).json(&json!({"name": "Roofing", "approved": false})))
            .await;
    assert_eq!(status, 201);
    assert_eq!(code["approved"], false);
    assert!(code["category_code"].as_str().unwrap().starts_with("jc_"));

    for (change, status) in [("cancel", "cancelled"), ("reactivate", "active"), ("expire", "expired")] {
        let (code, body) = answer(http().post(format!("{base}/policies/{JORDAN_POLICY_ID}/{change}"))).await;
        assert_eq!((code, body["status"].as_str()), (200, Some(status)), "{change}");
    }
    let (code, body) = answer(http().post(format!("{base}/policies/{JORDAN_POLICY_ID}/expire"))).await;
    assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_input")), "already expired");
    assert_eq!(body["message"], format!("Policy {JORDAN_POLICY_ID} cannot be changed that way while expired"));
    assert_eq!(answer(http().post(format!("{base}/policies/{JORDAN_POLICY_ID}/explode"))).await.0, 404);
    assert_eq!(answer(http().post(format!("{base}/policies/pl_nope/cancel"))).await.0, 404);
    sandbox.sandbox.reactivate_policy(JORDAN_POLICY_ID).unwrap();

    let client = client(&sandbox);
    let work = client.create_job(&job("c"), &key("j")).await.unwrap();
    let assignment = client
        .create_assignment(
            &coverbridge::ten99policy::NewAssignment {
                contractor: JORDAN_CONTRACTOR_ID.into(),
                job: work.id,
                coverage_type: vec![],
                effective_date: None,
                end_date: None,
                policy: None,
                bind: None,
                custom_metadata: Default::default(),
            },
            &key("a"),
        )
        .await
        .unwrap();
    let (code, _) = answer(http().post(format!("{base}/assignments/{}/activate", assignment.id))).await;
    assert_eq!(code, 200);
    let upload = coverbridge::ten99policy::CertificateUpload {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        filename: "c.pdf".into(),
        pdf: pdf(),
        custom_metadata: Default::default(),
    };
    let certificate = client.upload_certificate(&upload, &key("ci")).await.unwrap();
    for (verb, status) in [("flag", "flagged"), ("approve", "approved"), ("deny", "denied")] {
        let (code, body) = answer(http().post(format!("{base}/certificates/{}/{verb}", certificate.id))).await;
        assert_eq!((code, body["status"].as_str()), (200, Some(status)));
    }
    let (_, events) = answer(http().get(format!("{base}/events"))).await;
    let types: Vec<_> = events.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
    for expected in [
        "category_code.added",
        "policy.cancelled",
        "policy.reactivated",
        "policy.expired",
        "assignment.active",
        "certificate.flagged",
        "certificate.approved",
        "certificate.denied",
    ] {
        assert!(types.iter().any(|t| t == expected), "{expected} in {types:?}");
    }
    let (_, clock) = answer(http().post(format!("{base}/clock/advance")).json(&json!({"seconds": 3600}))).await;
    assert_eq!(clock["offset_seconds"], 3600);
    assert_eq!(answer(http().get(format!("{}/_sandbox/calls", sandbox.url))).await.0, 200);
    assert!(
        sandbox.sandbox.harness().calls().iter().all(|c| c.path.starts_with("/api/")),
        "control calls are not logged"
    );
}

#[tokio::test]
async fn applications_complete_from_the_hosted_page_or_the_control_api_once() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = coverbridge::ten99policy::EpochSeconds(sandbox.sandbox.now().get());
    let who = client.create_contractor(&contractor(&email("h")), &key("c")).await.unwrap();
    let work = client.create_job(&job("h"), &key("j")).await.unwrap();
    let q = client
        .create_quote(&quote(now, &who.id, &work.id, &[coverbridge::resources::CoverageType::General]), &key("q"))
        .await
        .unwrap();
    let session = client
        .create_application_session(
            &coverbridge::ten99policy::NewApplicationSession {
                quote: q.id,
                success_url: None,
                cancel_url: None,
                custom_metadata: Default::default(),
            },
            &key("s"),
        )
        .await
        .unwrap();
    let page = http().get(session.url.clone().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&session.id) && page.contains("Complete application"), "{page}");
    let url = format!("{}/_sandbox/application_sessions/{}/complete", sandbox.url, session.id);
    let (status, policy) = answer(http().post(&url)).await;
    assert_eq!((status, policy["status"].as_str()), (200, Some("active")));
    let pdf_url = policy["pdf_url"].as_str().unwrap();
    let document = http().get(pdf_url).send().await.unwrap().bytes().await.unwrap();
    assert!(document.starts_with(b"%PDF"));
    let (status, again) = answer(http().post(&url)).await;
    assert_eq!((status, again["error_code"].as_str()), (400, Some("application_already_complete")));
}

#[tokio::test]
async fn uploads_are_checked_for_fields() {
    let sandbox = start().await;
    let url = format!("{}/api/v1/files/certificates", sandbox.url);
    let file = || reqwest::multipart::Part::bytes(pdf().to_vec()).file_name("c.pdf");
    let form = reqwest::multipart::Form::new().part("certificate", file());
    let (status, body) = answer(authed(http().post(&url)).multipart(form)).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("missing_contractor_id")));
    let form = reqwest::multipart::Form::new().text("contractor", JORDAN_CONTRACTOR_ID);
    let (status, body) = answer(authed(http().post(&url)).multipart(form)).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("missing_certificate")));
    let form = reqwest::multipart::Form::new()
        .part("certificate", file())
        .text("contractor", JORDAN_CONTRACTOR_ID)
        .text("custom_metadata[work_order_id]", "4242");
    let (status, body) = answer(authed(http().post(&url)).multipart(form)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["custom_metadata"]["work_order_id"], "4242");
}

#[tokio::test]
async fn injected_faults_answer_in_the_platforms_error_shape() {
    let sandbox = start().await;
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/entities", Fault::Status { status: 503 }).times(1));
    let (status, body) = answer(authed(http().get(format!("{}/api/v1/entities", sandbox.url)))).await;
    assert_eq!((status, body["error_code"].as_str()), (503, Some("general_error")));
    assert!(body["message"].is_string());
    let (status, body) = answer(authed(http().get(format!("{}/api/v1/nothing", sandbox.url)))).await;
    assert_eq!((status, body["error_code"].as_str()), (404, Some("resource_not_found")));
}

#[tokio::test]
async fn the_summary_prints_credentials_and_seed() {
    let sandbox = start_with(Ten99PolicySandboxConfig {
        webhook_url: Some("http://127.0.0.1:9/webhooks/1099policy".into()),
        ..Default::default()
    })
    .await;
    let summary = sandbox.summary();
    for expected in [
        sandbox.url.as_str(),
        SANDBOX_API_KEY,
        "whsec_sandbox",
        "http://127.0.0.1:9/webhooks/1099policy",
        ENTITY_ID,
        "Acme Facilities",
        COMPUTER_REPAIR,
        "jc_5Tqpkbkp6G",
        DEMOLITION,
        "not approved",
        JORDAN_CONTRACTOR_ID,
        "jordan.lee@example.com",
        "8823580",
        JORDAN_POLICY_ID,
    ] {
        assert!(summary.contains(expected), "{expected} missing from:\n{summary}");
    }
    let policy = client(&sandbox).get_policy(JORDAN_POLICY_ID).await.unwrap();
    assert!(policy.pdf_url.unwrap().starts_with(&sandbox.url), "links made before serving point at the served address");
    let jordan = client(&sandbox).get_contractor(JORDAN_CONTRACTOR_ID).await.unwrap();
    assert_eq!(jordan.phone.as_deref(), Some("+1 512 555 0199"));
    let address = jordan.address.unwrap();
    assert_eq!(
        (address.locality.as_deref(), address.region.as_deref(), address.country.as_deref()),
        (Some("Austin"), Some("TX"), Some("US"))
    );

    let empty = Ten99PolicySandbox::new(Ten99PolicySandboxConfig { seed: false, ..Default::default() });
    assert!(!empty.summary().contains(ENTITY_ID));
    let running = empty.start().await.unwrap();
    assert!(client(&running).list_category_codes().await.unwrap().is_empty());
}
