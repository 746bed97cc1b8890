//! The 1099Policy client against the sandbox over loopback: every endpoint, every error class,
//! retries that reuse idempotency keys, replay, every fault kind, pagination and secret hygiene.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use coverbridge::http::{HttpClient, HttpSettings, RetryPolicy, TransportError};
use coverbridge::money::Cents;
use coverbridge::resources::{CertificateStatus, CoverageType, PolicyStatus};
use coverbridge::secret::Secret;
use coverbridge::ten99policy::*;
use coverbridge_sandbox::harness::{Fault, FaultRule};
use coverbridge_sandbox::ten99policy::CertificateReview;
use coverbridge_sandbox::ten99policy::seed::{
    COMPUTER_REPAIR, DEMOLITION, ENTITY_ID, JORDAN_CONTRACTOR_ID, JORDAN_EMAIL, JORDAN_POLICY_ID, SPOKESPERSON,
};
use support::Ten99PolicySandboxClient;
use support::ten99policy::*;

fn api_code(error: &Ten99PolicyError) -> (u16, ErrorCode) {
    match error {
        Ten99PolicyError::Api { status, code, .. } => (status.as_u16(), code.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn contractors_create_get_list_and_update() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let address = email("alex");
    let created = client.create_contractor(&contractor(&address), &key("contractor")).await.unwrap();
    assert!(created.id.starts_with("cn_"), "{}", created.id);
    assert_eq!(created.email.as_deref(), Some(address.as_str()));
    assert_eq!(created.custom_metadata.get("workmarket_worker_id"), Some("wk_421"));

    assert_eq!(client.get_contractor(&created.id).await.unwrap(), created);
    let found = client.list_contractors_by_email(&address).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0], created);
    let upper = address.to_uppercase();
    assert!(client.list_contractors_by_email(&upper).await.unwrap().is_empty(), "e-mail filters are case-sensitive");

    let update = ContractorUpdate {
        phone: Some("+1 415 555 0111".into()),
        custom_metadata: Some(Metadata::default().with("workmarket_worker_id", "").with("x", "1")),
        ..ContractorUpdate::default()
    };
    let updated = client.update_contractor(&created.id, &update).await.unwrap();
    assert_eq!(updated.phone.as_deref(), Some("+1 415 555 0111"));
    assert_eq!(updated.first_name, created.first_name, "PUT is partial");
    assert_eq!(updated.custom_metadata, Metadata::default().with("x", "1"));

    let error = client.create_contractor(&contractor(&address), &key("again")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::DuplicateEmail));
    assert!(!error.is_retryable());
    assert!(error.to_string().contains(&address), "{error}");
    let taken = ContractorUpdate { email: Some(JORDAN_EMAIL.into()), ..ContractorUpdate::default() };
    let error = client.update_contractor(&created.id, &taken).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::DuplicateEmail));
    let error = client.get_contractor("cn_missing").await.unwrap_err();
    assert_eq!(api_code(&error), (404, ErrorCode::ResourceNotFound));
}

#[tokio::test]
async fn entities_and_category_codes() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let entity = client.get_entity(ENTITY_ID).await.unwrap();
    assert_eq!(entity.name.as_deref(), Some("Acme Facilities"));
    assert_eq!(entity.coverage_limit.unwrap().aggregate_limit, Some(Cents(200_000_000)));
    let codes = client.list_category_codes().await.unwrap();
    let approved = |code: &str| codes.iter().find(|c| c.category_code == code).map(|c| c.is_approved());
    assert_eq!(approved(COMPUTER_REPAIR), Some(true));
    assert_eq!(approved(SPOKESPERSON), Some(true));
    assert_eq!(approved(DEMOLITION), Some(false));
    let error = client.get_entity("en_nope").await.unwrap_err();
    assert_eq!(api_code(&error), (404, ErrorCode::ResourceNotFound));
}

#[tokio::test]
async fn lists_page_with_starting_after_until_a_short_page() {
    let sandbox = start().await;
    for n in 0..3 {
        sandbox.sandbox.add_category_code(None, &format!("Extra {n}"), true);
    }
    let client = client(&sandbox).with_page_size(2);
    sandbox.sandbox.harness().clear_calls();
    let codes = client.list_category_codes().await.unwrap();
    let names: Vec<_> = codes.iter().map(|c| c.name.clone().unwrap()).collect();
    assert_eq!(
        names,
        ["Extra 2", "Extra 1", "Extra 0", "Demolition", "Spokesperson / Influencer", "Computer Service or Repair"],
        "newest first, every page"
    );
    // 6 items at 2 a page: three full pages, then an empty one ends the list.
    assert_eq!(sandbox.sandbox.harness().calls().len(), 4);
}

#[tokio::test]
async fn jobs_create_get_update_and_their_errors() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let created = client.create_job(&job("12345"), &key("job")).await.unwrap();
    assert!(created.id.starts_with("jb_"));
    assert_eq!(created.wage, Some(Cents(32500)));
    assert_eq!(created.custom_metadata.get("work_order_id"), Some("12345"));
    assert_eq!(client.get_job(&created.id).await.unwrap(), created);
    let update = JobUpdate { wage: Some(Cents(40000)), ..JobUpdate::default() };
    let updated = client.update_job(&created.id, &update).await.unwrap();
    assert_eq!(updated.wage, Some(Cents(40000)));
    assert_eq!(updated.name, created.name);

    for (entity, code, expected) in [
        ("en_nope", COMPUTER_REPAIR, ErrorCode::InvalidEntityId),
        (ENTITY_ID, "jc_nope", ErrorCode::InvalidJobCategoryCode),
        (ENTITY_ID, DEMOLITION, ErrorCode::JobCategoryNotApproved),
    ] {
        let mut request = job("1");
        request.entity = entity.into();
        request.category_code = code.into();
        let error = client.create_job(&request, &key("bad job")).await.unwrap_err();
        assert_eq!(api_code(&error), (400, expected));
        assert!(!error.is_retryable());
    }
    let mut cheap = job("1");
    cheap.wage = Cents(99);
    let error = client.create_job(&cheap, &key("cheap")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::InvalidInput));
    assert!(error.to_string().contains("wage"), "{error}");
}

#[tokio::test]
async fn quotes_sessions_and_policies_through_a_completed_application() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());
    let who = client.create_contractor(&contractor(&email("q")), &key("c")).await.unwrap();
    let work = client.create_job(&job("77"), &key("j")).await.unwrap();
    let coverage = [CoverageType::General, CoverageType::WorkersComp];
    let created = client.create_quote(&quote(now, &who.id, &work.id, &coverage), &key("q")).await.unwrap();
    assert!(created.id.starts_with("qt_"));
    assert_eq!(created.coverage_type, coverage);
    assert_eq!((created.gl_net_rate, created.wc_net_rate), (Some(Cents(20)), Some(Cents(45))));
    assert_eq!(created.effective_date, Some(now.plus_seconds(86_400)));
    assert_eq!(client.get_quote(&created.id).await.unwrap(), created);
    let later = QuoteUpdate { end_date: Some(now.plus_seconds(5 * 86_400)), ..QuoteUpdate::default() };
    let updated = client.update_quote(&created.id, &later).await.unwrap();
    assert_eq!(updated.end_date, Some(now.plus_seconds(5 * 86_400)));

    let session = client
        .create_application_session(
            &NewApplicationSession {
                quote: created.id.clone(),
                success_url: Some("https://wm.example/12345?coverage=active".into()),
                cancel_url: None,
                custom_metadata: Metadata::default().with("work_order_id", "77"),
            },
            &key("s"),
        )
        .await
        .unwrap();
    assert!(session.id.starts_with("ias_01"), "{}", session.id);
    assert!(session.url.as_deref().unwrap().ends_with(&format!("/apply/{}", session.id)));
    assert!(!session.expired && !session.is_complete());
    assert!(client.list_policies_by_quote(&created.id).await.unwrap().is_empty());

    let issued = sandbox.sandbox.complete_application(&session.id).unwrap();
    let fetched = client.get_application_session(&session.id).await.unwrap();
    assert!(fetched.is_complete());
    let policies = client.list_policies_by_quote(&created.id).await.unwrap();
    assert_eq!(policies.len(), 1);
    let policy = client.get_policy(&issued.id).await.unwrap();
    assert_eq!(policies[0], policy);
    assert_eq!(policy.status, PolicyStatus::Active);
    assert_eq!(policy.quote.as_deref(), Some(created.id.as_str()));
    assert!(policy.pdf_url.is_some());
    let certificates = policy.certificates.unwrap();
    assert!(certificates.gl_coi_pdf_url.is_some() && certificates.wc_coi_pdf_url.is_some());

    let error = client.expire_application_session(&session.id, &key("expire done")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::ApplicationAlreadyComplete));
    let error = client.update_quote(&created.id, &later).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::Other("cant_update_create_new_quote".into())));
    // Now insured for this category: a second quote is refused.
    let error =
        client.create_quote(&quote(now, &who.id, &work.id, &[CoverageType::General]), &key("q2")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::ContractorHasMatchingPolicy));
    assert!(error.to_string().contains("Contractor already has a matching policy on file"));
}

#[tokio::test]
async fn sessions_expire_once() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());
    let who = client.create_contractor(&contractor(&email("e")), &key("c")).await.unwrap();
    let work = client.create_job(&job("5"), &key("j")).await.unwrap();
    let q = client.create_quote(&quote(now, &who.id, &work.id, &[CoverageType::General]), &key("q")).await.unwrap();
    let new_session = NewApplicationSession {
        quote: q.id,
        success_url: None,
        cancel_url: None,
        custom_metadata: Metadata::default(),
    };
    let session = client.create_application_session(&new_session, &key("s")).await.unwrap();
    let expired = client.expire_application_session(&session.id, &key("x1")).await.unwrap();
    assert!(expired.expired);
    let error = client.expire_application_session(&session.id, &key("x2")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::SessionExpired));
    let error = sandbox.sandbox.complete_application(&session.id).unwrap_err();
    assert_eq!(error.code, "session_expired");
}

#[tokio::test]
async fn quote_dates_are_checked() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());
    let who = client.create_contractor(&contractor(&email("d")), &key("c")).await.unwrap();
    let work = client.create_job(&job("6"), &key("j")).await.unwrap();
    let mut past = quote(now, &who.id, &work.id, &[CoverageType::General]);
    past.effective_date = Some(now.plus_seconds(-3600));
    let error = client.create_quote(&past, &key("past")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::EffectiveDateInvalid));
    let mut long = quote(now, &who.id, &work.id, &[CoverageType::General]);
    long.end_date = Some(now.plus_seconds(400 * 86_400));
    let error = client.create_quote(&long, &key("long")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::EndDateInvalid));
}

#[tokio::test]
async fn assignments_create_get_extend_and_cancel_by_job() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());
    let work = client.create_job(&job("900"), &key("j")).await.unwrap();
    let start_at = now.plus_seconds(2 * 86_400);
    let request = NewAssignment {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        job: work.id.clone(),
        coverage_type: vec![CoverageType::General],
        effective_date: Some(start_at),
        end_date: Some(start_at.plus_seconds(86_400)),
        policy: None,
        bind: None,
        custom_metadata: Metadata::default().with("work_order_id", "900"),
    };
    let created = client.create_assignment(&request, &key("a")).await.unwrap();
    assert!(created.id.starts_with("an_"));
    assert_eq!(created.policy.as_deref(), Some(JORDAN_POLICY_ID));
    assert!(created.eligible.as_ref().unwrap().result);
    assert_eq!(created.bind, Some(true));
    assert_eq!(client.get_assignment(&created.id).await.unwrap(), created);

    let later = start_at.plus_seconds(3 * 86_400);
    let extended = client.extend_assignment(&work.id, later, &key("x")).await.unwrap();
    assert_eq!(extended.end_date, Some(later));
    let unchanged = client.extend_assignment(&work.id, later, &key("x0")).await.unwrap();
    assert_eq!(unchanged.end_date, Some(later), "extending to the same end is a 200");
    let error = client.extend_assignment(&work.id, start_at.plus_seconds(86_400), &key("x2")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::EndDateInvalid));
    let error = client.extend_assignment(&work.id, start_at.plus_seconds(400 * 86_400), &key("x3")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::EndDateInvalid));

    let cancelled = client.cancel_assignment(&work.id, Some("client_request"), &key("cancel")).await.unwrap();
    assert!(cancelled.cancelled);
    assert_eq!(cancelled.cancellation_reason.as_deref(), Some("client_request"));
    assert!(cancelled.cancellation_date.is_some());
    let error = client.cancel_assignment(&work.id, None, &key("cancel again")).await.unwrap_err();
    assert_eq!(api_code(&error), (404, ErrorCode::ResourceNotFound));
    let error = client.extend_assignment("jb_nope", later, &key("x4")).await.unwrap_err();
    assert_eq!(api_code(&error), (404, ErrorCode::ResourceNotFound));
}

#[tokio::test]
async fn an_assignment_without_a_matching_policy_is_a_typed_error() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let newcomer = client.create_contractor(&contractor(&email("n")), &key("c")).await.unwrap();
    let work = client.create_job(&job("1"), &key("j")).await.unwrap();
    let mut other_category = job("2");
    other_category.category_code = SPOKESPERSON.into();
    let other_work = client.create_job(&other_category, &key("j2")).await.unwrap();
    for (who, job_id, coverage) in [
        (newcomer.id.as_str(), work.id.as_str(), vec![CoverageType::General]),
        (JORDAN_CONTRACTOR_ID, other_work.id.as_str(), vec![CoverageType::General]),
        (JORDAN_CONTRACTOR_ID, work.id.as_str(), vec![CoverageType::WorkersComp]),
    ] {
        let request = NewAssignment {
            contractor: who.into(),
            job: job_id.into(),
            coverage_type: coverage,
            effective_date: None,
            end_date: None,
            policy: None,
            bind: None,
            custom_metadata: Metadata::default(),
        };
        let error = client.create_assignment(&request, &key("a")).await.unwrap_err();
        assert_eq!(api_code(&error), (400, ErrorCode::NoMatchingPolicy), "{who} {job_id}");
        assert!(error.to_string().contains(NO_MATCHING_POLICY_MESSAGE));
    }
}

#[tokio::test]
async fn certificates_upload_get_and_file_rules() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let upload = CertificateUpload {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        filename: "coi.pdf".into(),
        pdf: pdf(),
        custom_metadata: Metadata::default().with("work_order_id", "12345"),
    };
    let created = client.upload_certificate(&upload, &key("ci")).await.unwrap();
    assert!(created.id.starts_with("ci_"));
    assert_eq!(created.status, CertificateStatus::Pending);
    assert_eq!(created.filename.as_deref(), Some("coi.pdf"));
    assert_eq!(created.custom_metadata.get("work_order_id"), Some("12345"));
    sandbox.sandbox.review_certificate(&created.id, CertificateReview::Approve).unwrap();
    let reviewed = client.get_certificate(&created.id).await.unwrap();
    assert_eq!(reviewed.status, CertificateStatus::Approved);
    assert!(reviewed.pdf_url.is_some());

    let not_pdf = CertificateUpload { pdf: "GIF89a".into(), ..upload.clone() };
    let error = client.upload_certificate(&not_pdf, &key("gif")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::InvalidFileType));
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(15 * 1024 * 1024 + 1, b' ');
    let too_big = CertificateUpload { pdf: big.into(), ..upload.clone() };
    let error = client.upload_certificate(&too_big, &key("big")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::InvalidFileSize));
    let nobody = CertificateUpload { contractor: "cn_nobody".into(), ..upload };
    let error = client.upload_certificate(&nobody, &key("nobody")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::Other("invalid_contractor_id".into())));
}

#[tokio::test]
async fn invoices_need_coverage_and_freeze_the_job() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let now = EpochSeconds(sandbox.sandbox.now().get());
    let work = client.create_job(&job("31"), &key("j")).await.unwrap();
    let invoice = NewInvoice {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        job: work.id.clone(),
        gross_pay: Cents(120_000),
        paycycle_startdate: now,
        paycycle_enddate: now.plus_seconds(86_400),
        purchase_order_number: None,
    };
    let error = client.create_invoice(&invoice, &key("i0")).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::NoActivePolicy));

    let assignment = NewAssignment {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        job: work.id.clone(),
        coverage_type: vec![],
        effective_date: None,
        end_date: None,
        policy: Some(JORDAN_POLICY_ID.into()),
        bind: None,
        custom_metadata: Metadata::default(),
    };
    let assigned = client.create_assignment(&assignment, &key("a")).await.unwrap();
    assert_eq!(assigned.coverage_type, [CoverageType::General], "defaults to the policy's");
    let created = client.create_invoice(&invoice, &key("i1")).await.unwrap();
    assert!(created.id.starts_with("in_"));
    // $1,200.00 at 20 cents per $100 is $2.40.
    assert_eq!(created.premium_due, Some(Cents(240)));
    assert_eq!(client.get_invoice(&created.id).await.unwrap(), created);

    let error =
        client.update_job(&work.id, &JobUpdate { wage: Some(Cents(100)), ..JobUpdate::default() }).await.unwrap_err();
    assert_eq!(api_code(&error), (400, ErrorCode::InvoiceExists));
}

#[tokio::test]
async fn events_and_webhook_endpoints() {
    let sandbox = start().await;
    let client = client(&sandbox);
    sandbox.sandbox.cancel_policy(JORDAN_POLICY_ID).unwrap();
    let emitted = sandbox.sandbox.events();
    let last = emitted.last().unwrap();
    let event = client.get_event(last["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(event.event_type, EventType::PolicyCancelled);
    assert_eq!(event.policy_id(), Some(JORDAN_POLICY_ID));
    let policy: Policy = event.object_as().unwrap();
    assert_eq!(policy.status, PolicyStatus::Cancelled);
    let error = client.get_event("ev_nope").await.unwrap_err();
    assert_eq!(api_code(&error), (404, ErrorCode::ResourceNotFound));

    let endpoint = client
        .create_webhook_endpoint(
            &NewWebhookEndpoint {
                url: "https://receiver.example/webhooks/1099policy".into(),
                description: None,
                events: vec!["policy.active".into()],
            },
            &key("whe"),
        )
        .await
        .unwrap();
    assert!(endpoint.id.starts_with("whe_"));
    assert!(endpoint.secret.as_ref().unwrap().expose().starts_with("whsec_"));
    let listed = client.list_webhook_endpoints().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, endpoint.id);
    assert!(listed[0].secret.is_none(), "only creation reveals the secret");
}

#[tokio::test]
async fn a_wrong_key_is_a_terminal_invalid_api_key() {
    let sandbox = start().await;
    let client =
        Ten99PolicyClient::new(&sandbox.url, Secret::new("t9k_test_wrong"), HttpClient::new(fast_settings())).unwrap();
    let error = client.get_entity(ENTITY_ID).await.unwrap_err();
    assert_eq!(api_code(&error), (401, ErrorCode::InvalidApiKey));
    assert!(!error.is_retryable());
    assert_eq!(sandbox.sandbox.harness().calls().len(), 1, "4xx is not retried");
}

#[tokio::test]
async fn nested_objects_answered_as_python_repr_strings_still_decode() {
    let sandbox = start_with(coverbridge_sandbox::ten99policy::Ten99PolicySandboxConfig {
        python_repr_nested: true,
        ..Default::default()
    })
    .await;
    let client = client(&sandbox);
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/contractors/{JORDAN_CONTRACTOR_ID}", sandbox.url))
        .bearer_auth("t9k_test_sandbox")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(raw["address"].as_str().unwrap().starts_with("{'"), "{raw}");
    let jordan = client.get_contractor(JORDAN_CONTRACTOR_ID).await.unwrap();
    assert_eq!(jordan.address.unwrap().locality.as_deref(), Some("Austin"));
    assert_eq!(jordan.custom_metadata.get("workmarket_worker_id"), Some("8823580"));
    let policy = client.get_policy(JORDAN_POLICY_ID).await.unwrap();
    assert!(policy.certificates.unwrap().gl_coi_pdf_url.is_some());
    let work = client.create_job(&job("py"), &key("j")).await.unwrap();
    let request = NewAssignment {
        contractor: JORDAN_CONTRACTOR_ID.into(),
        job: work.id,
        coverage_type: vec![],
        effective_date: None,
        end_date: None,
        policy: None,
        bind: None,
        custom_metadata: Metadata::default(),
    };
    let assignment = client.create_assignment(&request, &key("a")).await.unwrap();
    assert!(assignment.eligible.unwrap().result);
    let listed = client.list_contractors_by_email(JORDAN_EMAIL).await.unwrap();
    assert_eq!(listed[0].address.as_ref().unwrap().region.as_deref(), Some("TX"));
}

// --- idempotency, retries and faults

#[tokio::test]
async fn posts_send_bearer_auth_and_the_key_under_both_header_names() {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let log = seen.clone();
    let router = Router::new().route(
        "/{*path}",
        any(move |headers: HeaderMap| {
            log.lock().unwrap().push(headers);
            async { (StatusCode::CREATED, r#"{"id": "jb_1"}"#) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = Ten99PolicyClient::new(&url, Secret::new("t9k_test_x"), HttpClient::new(fast_settings())).unwrap();
    let key = IdempotencyKey::new("binding:uid-1:job");
    client.create_job(&job("1"), &key).await.unwrap();
    client.get_job("jb_1").await.unwrap();
    let seen = seen.lock().unwrap();
    let header = |i: usize, name: &str| seen[i].get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header(0, "authorization").as_deref(), Some("Bearer t9k_test_x"));
    assert_eq!(header(0, "ten99policy-idempotent-key").as_deref(), Some("binding:uid-1:job"));
    assert_eq!(header(0, "idempotency-key").as_deref(), Some("binding:uid-1:job"));
    assert_eq!(header(0, "content-type").as_deref(), Some("application/json"));
    assert_eq!(header(1, "ten99policy-idempotent-key"), None, "GETs carry no key");
}

#[tokio::test]
async fn retries_of_5xx_reuse_the_key() {
    let sandbox = start().await;
    let harness = sandbox.sandbox.harness();
    harness.inject(FaultRule::new("/api/v1/contractors", Fault::Status { status: 503 }).method("POST").times(2));
    let k = key("retry");
    let created = client(&sandbox).create_contractor(&contractor(&email("r")), &k).await.unwrap();
    let calls = harness.calls();
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [503, 503, 201]);
    assert!(calls.iter().all(|c| c.idempotency_key.as_deref() == Some(k.as_str())));
    assert!(created.id.starts_with("cn_"));
}

#[tokio::test]
async fn persistent_5xx_ends_as_a_retryable_error() {
    let sandbox = start().await;
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/entities", Fault::Status { status: 500 }));
    let error = client(&sandbox).get_entity(ENTITY_ID).await.unwrap_err();
    assert_eq!(api_code(&error), (500, ErrorCode::GeneralError));
    assert!(error.is_retryable());
    assert_eq!(sandbox.sandbox.harness().calls().len(), 4, "max_attempts");
}

#[tokio::test]
async fn rate_limits_honour_retry_after_or_hand_it_back() {
    let sandbox = start().await;
    let harness = sandbox.sandbox.harness();
    harness.inject(FaultRule::new("/api/v1/entities", Fault::RateLimit { retry_after_secs: 1 }).times(1));
    let started = Instant::now();
    client(&sandbox).get_entity(ENTITY_ID).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as asked");
    assert_eq!(harness.calls().len(), 2);

    harness.inject(FaultRule::new("/api/v1/entities", Fault::RateLimit { retry_after_secs: 3600 }));
    let error = client(&sandbox).get_entity(ENTITY_ID).await.unwrap_err();
    assert!(error.is_retryable());
    match error {
        Ten99PolicyError::Api { status, code, retry_after, .. } => {
            assert_eq!(status.as_u16(), 429);
            assert_eq!(code, ErrorCode::Other("rate_limited".into()));
            assert_eq!(retry_after, Some(Duration::from_secs(3600)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn latency_is_waited_out_and_timeouts_are_retryable_transport_errors() {
    let sandbox = start().await;
    let harness = sandbox.sandbox.harness();
    harness.inject(FaultRule::new("/api/v1/entities", Fault::Latency { millis: 300 }).times(1));
    let started = Instant::now();
    client(&sandbox).get_entity(ENTITY_ID).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    harness.inject(FaultRule::new("/api/v1/entities", Fault::Latency { millis: 2000 }));
    let impatient = sandbox.client(HttpClient::new(HttpSettings {
        timeout: Duration::from_millis(200),
        retry: RetryPolicy { max_attempts: 2, ..fast_settings().retry },
        ..fast_settings()
    }));
    let error = impatient.get_entity(ENTITY_ID).await.unwrap_err();
    assert!(matches!(error, Ten99PolicyError::Transport(TransportError::Timeout(_))), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_dropped_answer_is_recovered_by_retrying_with_the_same_key() {
    let sandbox = start().await;
    let harness = sandbox.sandbox.harness();
    harness.inject(FaultRule::new("/api/v1/jobs", Fault::DropAfterProcessing).method("POST").times(1));
    let k = key("drop");
    // Without retries the caller only learns that the answer was lost…
    let error = client_once(&sandbox).create_job(&job("drop"), &k).await.unwrap_err();
    assert!(matches!(error, Ten99PolicyError::Transport(TransportError::Interrupted(_))), "{error:?}");
    assert!(error.is_retryable());
    // …but the job was made, and asking again with the same key returns it instead of a twin.
    let recovered = client_once(&sandbox).create_job(&job("drop"), &k).await.unwrap();
    let again = client_once(&sandbox).create_job(&job("drop"), &k).await.unwrap();
    assert_eq!(recovered, again);
    let calls = harness.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].status, 201, "processed before the drop");
    assert!(calls.iter().all(|c| c.idempotency_key.as_deref() == Some(k.as_str())));

    // With retries the client recovers by itself.
    harness.inject(FaultRule::new("/api/v1/jobs", Fault::DropAfterProcessing).method("POST").times(1));
    let k2 = key("drop2");
    let first = client(&sandbox).create_job(&job("drop2"), &k2).await.unwrap();
    let replay = client(&sandbox).create_job(&job("drop2"), &k2).await.unwrap();
    assert_eq!(first, replay);
    let jobs_made = reqwest::Client::new()
        .get(format!("{}/api/v1/jobs?limit=100", sandbox.url))
        .bearer_auth("t9k_test_sandbox")
        .send()
        .await
        .unwrap()
        .json::<Vec<serde_json::Value>>()
        .await
        .unwrap();
    let count = |wo: &str| jobs_made.iter().filter(|j| j["custom_metadata"]["work_order_id"] == wo).count();
    assert_eq!((count("drop"), count("drop2")), (1, 1), "no duplicates");
}

#[tokio::test]
async fn a_drop_before_processing_changes_nothing() {
    let sandbox = start().await;
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/contractors", Fault::DropBeforeProcessing).method("POST"));
    let address = email("never");
    let error = client(&sandbox).create_contractor(&contractor(&address), &key("never")).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    sandbox.sandbox.harness().clear_faults();
    assert!(client(&sandbox).list_contractors_by_email(&address).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_same_key_replays_the_first_answer_errors_included_for_24_hours() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let k = key("replay");
    let first = client.create_contractor(&contractor(&email("a")), &k).await.unwrap();
    // A different body under the same key still gets the first answer.
    let second = client.create_contractor(&contractor(&email("b")), &k).await.unwrap();
    assert_eq!(first, second);

    let k_err = key("replay err");
    let clash = contractor(JORDAN_EMAIL);
    let e1 = client.create_contractor(&clash, &k_err).await.unwrap_err();
    assert_eq!(api_code(&e1), (400, ErrorCode::DuplicateEmail));
    // Free the address: the key still answers with the stored error.
    sandbox_rename_jordan(&client).await;
    let e2 = client.create_contractor(&clash, &k_err).await.unwrap_err();
    assert_eq!(e1.to_string(), e2.to_string());

    sandbox.sandbox.advance_clock(24 * 3600 + 1);
    let fresh = client.create_contractor(&clash, &k_err).await.unwrap();
    assert_eq!(fresh.email.as_deref(), Some(JORDAN_EMAIL), "the key expired; processed anew");
    let third = client.create_contractor(&contractor(&email("c")), &k).await.unwrap();
    assert_ne!(third.id, first.id);
}

async fn sandbox_rename_jordan(client: &Ten99PolicyClient) {
    let update = ContractorUpdate { email: Some("jordan.lee+old@example.com".into()), ..ContractorUpdate::default() };
    client.update_contractor(JORDAN_CONTRACTOR_ID, &update).await.unwrap();
}

// --- secret hygiene

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_api_key_never_shows_in_debug_errors_or_logs() {
    const KEY: &str = "t9k_test_s3cr3t_do_not_print";
    let captured = Captured::default();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(captured.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = start_with(coverbridge_sandbox::ten99policy::Ten99PolicySandboxConfig {
        api_key: KEY.into(),
        ..Default::default()
    })
    .await;
    let good = Ten99PolicyClient::new(&sandbox.url, Secret::new(KEY), HttpClient::new(fast_settings())).unwrap();
    let mut shown = vec![format!("{good:?}")];
    good.get_entity(ENTITY_ID).await.unwrap();
    // API errors: 404, 400, 5xx after retries.
    shown.push(format!("{:?}", good.get_entity("en_nope").await.unwrap_err()));
    shown.push(format!("{}", good.create_contractor(&contractor(JORDAN_EMAIL), &key("dup")).await.unwrap_err()));
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/jobs", Fault::Status { status: 502 }));
    let error = good.get_job("jb_1").await.unwrap_err();
    shown.push(format!("{error} {error:?}"));
    // Transport errors: dropped connection, refused connection, timeout.
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/quotes", Fault::DropBeforeProcessing));
    let error = good.get_quote("qt_1").await.unwrap_err();
    shown.push(format!("{error} {error:?}"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let refused = Ten99PolicyClient::new(&closed_url, Secret::new(KEY), HttpClient::new(fast_settings())).unwrap();
    let error = refused.get_entity(ENTITY_ID).await.unwrap_err();
    shown.push(format!("{error} {error:?}"));
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/policies", Fault::Latency { millis: 1000 }));
    let impatient = Ten99PolicyClient::new(
        &sandbox.url,
        Secret::new(KEY),
        HttpClient::new(HttpSettings {
            timeout: Duration::from_millis(100),
            retry: RetryPolicy::none(),
            ..fast_settings()
        }),
    )
    .unwrap();
    let error = impatient.get_policy(JORDAN_POLICY_ID).await.unwrap_err();
    shown.push(format!("{error} {error:?}"));
    // A wrong key answered 401, and a success that cannot be decoded.
    let wrong =
        Ten99PolicyClient::new(&sandbox.url, Secret::new(format!("{KEY}x")), HttpClient::new(fast_settings())).unwrap();
    shown.push(format!("{:?}", wrong.get_entity(ENTITY_ID).await.unwrap_err()));
    let garbled = Router::new().route("/{*path}", any(|| async { "not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let garbled_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, garbled).await.unwrap() });
    let undecodable = Ten99PolicyClient::new(&garbled_url, Secret::new(KEY), HttpClient::new(fast_settings())).unwrap();
    let error = undecodable.get_contractor("cn_1").await.unwrap_err();
    assert!(matches!(error, Ten99PolicyError::Decode { what: "contractor", .. }), "{error:?}");
    shown.push(format!("{error} {error:?}"));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("http call"), "the capture works: {logs}");
    for text in shown.iter().chain([&logs]) {
        assert!(!text.contains(KEY) && !text.contains("s3cr3t"), "leaked: {text}");
    }
}
