//! The WorkMarket client against the sandbox over loopback: every call, every envelope error,
//! token caching and renewal, both path styles, paging, faults and secret hygiene.

// Each test binary uses only part of the shared support.
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coverbridge::money::Cents;
use coverbridge::resources::WageType;
use coverbridge::secret::Secret;
use coverbridge::workmarket::{
    PathStyle, PricingType, Updated, WorkMarketClient, WorkMarketError, WorkOrderStatus, wage,
};
use coverbridge_sandbox::harness::{Fault, FaultRule};
use coverbridge_sandbox::money::Cents as SandboxCents;
use coverbridge_sandbox::workmarket::{
    API_TOKEN, CannedReply, NewWorkOrder, PricingSpec, Quirks, RunningSandbox, SandboxAddress, WorkMarketSandboxConfig,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support::workmarket::{calls_to, client, fast_http, seeded, start};

const CABLING: &str = "6029116324";

#[tokio::test]
async fn get_assignment_reads_a_seeded_work_order_on_both_path_styles() {
    let sandbox = seeded().await;
    for style in [PathStyle::Api, PathStyle::Employer] {
        let order = client(&sandbox, style).get_assignment(CABLING).await.unwrap();
        assert_eq!(order.id, CABLING);
        assert_eq!(order.title, "Low Voltage Cabling");
        assert_eq!(
            order.description.as_deref(),
            Some("Run and terminate Cat6 drops & patch them in."),
            "HTML-unescaped"
        );
        assert_eq!(order.status, WorkOrderStatus::Sent);
        assert_eq!(order.industry.as_deref(), Some("Technology"));
        assert_eq!(order.client_id, Some(40211));
        let start = order.schedule.window_start.unwrap();
        assert_eq!(order.schedule.window_end.unwrap().duration_since(start), SignedDuration::from_hours(24));
        let ahead = start.duration_since(sandbox.sandbox.now());
        assert!((SignedDuration::from_hours(47)..=SignedDuration::from_hours(48)).contains(&ahead), "{ahead:?}");
        assert_eq!(order.schedule.time_zone.as_deref(), Some("America/Los_Angeles"));
        let location = order.location.unwrap();
        assert_eq!(location.address.city.as_deref(), Some("San Jose"));
        assert_eq!(location.address.state_code(), Some("CA"));
        assert_eq!(location.address.country_code(), Some("US"));
        assert!(!order.offsite);
        assert_eq!(order.pricing.kind, PricingType::Flat);
        assert_eq!(order.pricing.flat_price, Some(Cents(32500)));
        assert_eq!(order.pricing.spend_limit, Some(Cents(32500)));
        assert_eq!(wage(&order.pricing), Ok((Cents(32500), WageType::Flatfee)));
        assert_eq!(order.payment.total_cost, None);
        assert!(order.worker.is_none());
    }
    let paths: Vec<String> = sandbox.sandbox.harness().calls().into_iter().map(|c| c.path).collect();
    assert!(paths.contains(&"/api/v1/assignments/get".to_owned()));
    assert!(paths.contains(&"/v1/employer/assignments/get".to_owned()));
    assert!(paths.contains(&"/v1/employer/authorization/request".to_owned()));
}

#[tokio::test]
async fn the_lifecycle_shows_worker_progress_and_payment() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    let control = &sandbox.sandbox;

    control.assign(CABLING, "8823578").unwrap();
    let order = wm.get_assignment(CABLING).await.unwrap();
    assert_eq!(order.status, WorkOrderStatus::Active);
    let worker = order.worker.unwrap();
    assert_eq!(worker.id, "8823578");
    assert_eq!(worker.full_name().as_deref(), Some("Alex Nguyen"));
    assert_eq!(worker.email.as_deref(), Some("alex.nguyen@example.com"));
    assert_eq!(worker.phone().unwrap().number, "+1 415 555 0101");
    let address = worker.address.unwrap();
    assert_eq!(address.line1.as_deref(), Some("100 Market St"));
    assert_eq!(address.state.as_deref(), Some("California"));
    assert_eq!(address.state_code(), Some("CA"));
    assert_eq!(address.country_code(), Some("US"));

    control.check_in(CABLING).unwrap();
    assert_eq!(
        wm.get_assignment(CABLING).await.unwrap().status,
        WorkOrderStatus::InProgress,
        "/get reports in_progress once checked in"
    );
    control.complete(CABLING).unwrap();
    assert_eq!(wm.get_assignment(CABLING).await.unwrap().status, WorkOrderStatus::Complete);
    control.approve(CABLING).unwrap();
    assert_eq!(wm.get_assignment(CABLING).await.unwrap().status, WorkOrderStatus::PaymentPending);
    let before = Timestamp::from_second(control.now().as_second()).unwrap();
    control.pay(CABLING, Some(SandboxCents(34075))).unwrap();
    let paid = wm.get_assignment(CABLING).await.unwrap();
    assert_eq!(paid.status, WorkOrderStatus::Paid);
    assert_eq!(paid.payment.total_cost, Some(Cents(34075)));
    // WorkMarket passes paid_on through in milliseconds; both forms read as the same time.
    let paid_on = paid.payment.paid_on.unwrap();
    assert!(paid_on >= before && paid_on.duration_since(before) < SignedDuration::from_secs(5));
    control.set_quirks(Quirks { paid_on_seconds: true, ..Quirks::default() });
    let in_seconds = wm.get_assignment(CABLING).await.unwrap().payment.paid_on.unwrap();
    assert_eq!(in_seconds.as_second(), paid_on.as_second());
}

#[tokio::test]
async fn a_worker_without_email_and_the_legacy_address_keys() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Employer);
    sandbox.sandbox.assign("6029116325", "8823579").unwrap();
    sandbox.sandbox.set_quirks(Quirks { address_without_underscore: true, ..Quirks::default() });
    let order = wm.get_assignment("6029116325").await.unwrap();
    let worker = order.worker.unwrap();
    assert_eq!(worker.email, None, "Priya has no e-mail in WorkMarket");
    assert_eq!(worker.phone().unwrap().number, "+1 212 555 0148");
    let address = worker.address.unwrap();
    assert_eq!(address.line1.as_deref(), Some("350 5th Ave"), "address1 is read too");
    assert_eq!((address.state_code(), address.country_code()), (Some("NY"), Some("US")));
    assert_eq!(order.pricing.kind, PricingType::PerHour);
    assert_eq!(order.pricing.max_hours, Some(8.0));
    assert_eq!(wage(&order.pricing), Ok((Cents(4550), WageType::Hourly)));
}

#[tokio::test]
async fn every_pricing_type_and_offsite_work() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    let create = |title: &str, pricing: PricingSpec, location: Option<SandboxAddress>| {
        sandbox.sandbox.create_work_order(NewWorkOrder { location, ..NewWorkOrder::new(title, pricing) }).unwrap()
    };
    let somewhere = Some(SandboxAddress {
        line1: "1 Main St".into(),
        city: "Denver".into(),
        state: "Colorado".into(),
        postal_code: "80202".into(),
        country: "United States".into(),
    });
    let cases = [
        (create("Flat", PricingSpec::Flat { price: SandboxCents(1999) }, None), Ok((Cents(1999), WageType::Flatfee))),
        (
            create("Hourly", PricingSpec::PerHour { rate: SandboxCents(700), max_hours: 2.5 }, somewhere.clone()),
            Ok((Cents(700), WageType::Hourly)),
        ),
        (
            create("Units", PricingSpec::PerUnit { price: SandboxCents(1250), max_units: 40.0 }, somewhere.clone()),
            Ok((Cents(1250), WageType::Unit)),
        ),
        (
            create(
                "Blended",
                PricingSpec::BlendedPerHour {
                    initial_rate: SandboxCents(6000),
                    initial_hours: 2.0,
                    additional_rate: SandboxCents(4500),
                    max_additional_hours: 6.0,
                },
                None,
            ),
            Ok((Cents(6000), WageType::Blended)),
        ),
    ];
    for (id, expected) in cases {
        let order = wm.get_assignment(&id).await.unwrap();
        assert_eq!(wage(&order.pricing), expected, "{}", order.title);
    }
    let blended = wm
        .get_assignment(&create(
            "Blended",
            PricingSpec::BlendedPerHour {
                initial_rate: SandboxCents(6000),
                initial_hours: 2.0,
                additional_rate: SandboxCents(4500),
                max_additional_hours: 6.0,
            },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(blended.pricing.additional_per_hour_price, Some(Cents(4500)));
    assert_eq!(blended.pricing.spend_limit, Some(Cents(6000 * 2 + 4500 * 6)));
    assert!(blended.offsite && blended.location.is_none());

    let hourly = wm
        .get_assignment(&create("Hourly", PricingSpec::PerHour { rate: SandboxCents(700), max_hours: 2.5 }, somewhere))
        .await
        .unwrap();
    let address = hourly.location.unwrap().address;
    assert_eq!((address.state_code(), address.country_code()), (Some("CO"), Some("US")));

    for pricing in [
        PricingSpec::BlendedPerUnit {
            initial_price: SandboxCents(100),
            initial_units: 1.0,
            additional_price: SandboxCents(50),
            max_additional_units: 2.0,
        },
        PricingSpec::Internal,
    ] {
        let order = wm.get_assignment(&create("No wage", pricing, None)).await.unwrap();
        let error = wage(&order.pricing).unwrap_err();
        assert!(error.to_string().contains("no 1099Policy wage type"), "{error}");
    }
}

#[tokio::test]
async fn an_unknown_assignment_is_not_found() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    for objects in [false, true] {
        sandbox.sandbox.set_quirks(Quirks { errors_as_objects: objects, ..Quirks::default() });
        match wm.get_assignment("6029999999").await.unwrap_err() {
            WorkMarketError::NotFound { id, message } => {
                assert_eq!(id, "6029999999");
                assert!(message.starts_with("User not authorized to modify assignment 6029999999."), "{message}");
                assert_eq!(message.ends_with("(code 401)"), objects, "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Answers `path` once with `body` (HTTP `status`).
fn canned(sandbox: &RunningSandbox, path: &str, status: u16, body: serde_json::Value) {
    sandbox.sandbox.add_canned_reply(CannedReply { path: path.into(), status, body, times: Some(1) });
}

#[tokio::test]
async fn every_envelope_error_is_an_error() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    wm.list_statuses().await.unwrap(); // token exchanged; canned replies below hit the calls
    let path = "/api/v1/assignments/statuses";
    let meta = |code: u16, errors: serde_json::Value| json!({"errors": errors, "status_code": code, "version": 1, "timestamp": 1});

    // meta.status_code ≠ 200 inside an HTTP 200.
    canned(&sandbox, path, 200, json!({"meta": meta(400, json!([])), "response": []}));
    let error = wm.list_statuses().await.unwrap_err();
    assert!(matches!(error, WorkMarketError::Rejected { http_status: 200, code: 400, .. }), "{error:?}");

    // Errors as strings, with status 200.
    canned(&sandbox, path, 200, json!({"meta": meta(200, json!(["Invalid date"])), "response": []}));
    match wm.list_statuses().await.unwrap_err() {
        WorkMarketError::Rejected { message, .. } => assert_eq!(message, "Invalid date"),
        other => panic!("{other:?}"),
    }

    // Errors as objects.
    canned(
        &sandbox,
        path,
        200,
        json!({"meta": meta(422, json!([{"message": "Bad pricing", "code": "7"}])), "response": []}),
    );
    match wm.list_statuses().await.unwrap_err() {
        WorkMarketError::Rejected { code: 422, message, .. } => {
            assert_eq!(message, "Bad pricing (code 7)")
        }
        other => panic!("{other:?}"),
    }

    // response.successful false.
    canned(&sandbox, path, 200, json!({"meta": meta(200, json!([])), "response": {"successful": false}}));
    let error = wm.list_statuses().await.unwrap_err();
    assert!(matches!(error, WorkMarketError::Rejected { .. }), "{error:?}");
    assert!(!error.is_retryable());

    // An HTTP error with the v1 envelope.
    canned(&sandbox, path, 400, json!({"meta": meta(400, json!(["limit is invalid"])), "response": {}}));
    let error = wm.list_statuses().await.unwrap_err();
    assert!(
        matches!(&error, WorkMarketError::Rejected { http_status: 400, code: 400, message } if message == "limit is invalid"),
        "{error:?}"
    );

    // The v2 envelope, from a real sandbox route: modified_since older than two months.
    let long_ago = sandbox.sandbox.now() - SignedDuration::from_hours(24 * 62);
    match wm.list_updated(long_ago).await.unwrap_err() {
        WorkMarketError::Rejected { http_status: 400, code: 400, message } => {
            assert_eq!(message, "modified_since cannot be more than 2 months ago")
        }
        other => panic!("{other:?}"),
    }

    // A missing token-exchange payload.
    canned(&sandbox, "/api/v1/authorization", 200, json!({"meta": meta(200, json!([])), "response": {}}));
    let fresh = client(&sandbox, PathStyle::Api);
    match fresh.list_statuses().await.unwrap_err() {
        WorkMarketError::Invalid { field, .. } => assert_eq!(field, "response.access_token"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_amount_fails_the_read_naming_the_field() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    let mut order = json!({"id": "1", "title": "t", "status": "active",
        "pricing": {"type": "FLAT FEE", "flat_price": "12.345", "spend_limit": "12.34"}});
    canned(
        &sandbox,
        "/api/v1/assignments/get",
        200,
        json!({"meta": {"status_code": 200, "errors": []}, "response": order.clone()}),
    );
    let error = wm.get_assignment("1").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "WorkMarket answer has an invalid response.pricing.flat_price: \"12.345\" is not an amount of money: more precise than a cent"
    );
    order["pricing"]["flat_price"] = json!(12.34);
    order["payment"] = json!({"total_cost": "1,234.50"});
    canned(
        &sandbox,
        "/api/v1/assignments/get",
        200,
        json!({"meta": {"status_code": 200, "errors": []}, "response": order}),
    );
    let read = wm.get_assignment("1").await.unwrap();
    assert_eq!(read.pricing.flat_price, Some(Cents(1234)));
    assert_eq!(read.payment.total_cost, Some(Cents(123450)));
}

#[tokio::test]
async fn credentials_and_permissions() {
    let sandbox = seeded().await;
    let wrong = WorkMarketClient::new(
        &sandbox.url,
        PathStyle::Api,
        Secret::new(API_TOKEN),
        Secret::new("not-the-secret"),
        fast_http(),
    );
    let error = wrong.get_assignment(CABLING).await.unwrap_err();
    assert!(matches!(error, WorkMarketError::Unauthorized { .. }), "{error:?}");
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(message.contains("WORKMARKET_API_SECRET"), "{message}");
    assert!(!message.contains("not-the-secret") && !message.contains(API_TOKEN));
    assert_eq!(calls_to(sandbox.sandbox.harness(), "/assignments/get"), 0);

    sandbox.sandbox.set_api_user_admin(false);
    let error = client(&sandbox, PathStyle::Api).get_assignment(CABLING).await.unwrap_err();
    assert!(matches!(error, WorkMarketError::Forbidden { .. }), "{error:?}");
    assert!(error.to_string().contains("admin role"), "{error}");
}

#[tokio::test]
async fn one_token_exchange_serves_many_calls() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    let clone = wm.clone();
    let (a, b) = tokio::join!(wm.get_assignment(CABLING), clone.get_assignment("6029116325"));
    a.unwrap();
    b.unwrap();
    for id in ["6029116326", "6029116327"] {
        wm.get_assignment(id).await.unwrap();
    }
    wm.list_statuses().await.unwrap();
    wm.list_industries().await.unwrap();
    let harness = sandbox.sandbox.harness();
    assert_eq!(calls_to(harness, "/authorization/request"), 1);
    assert_eq!(calls_to(harness, "/assignments/get"), 4);
}

#[tokio::test]
async fn a_refused_token_is_renewed_once() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Api);
    let harness = sandbox.sandbox.harness();
    wm.get_assignment(CABLING).await.unwrap();

    // The token stops working: one 401, one new exchange, the call retried and answered.
    sandbox.sandbox.revoke_access_tokens();
    wm.get_assignment(CABLING).await.unwrap();
    assert_eq!(calls_to(harness, "/authorization/request"), 2);
    let statuses: Vec<u16> =
        harness.calls().iter().filter(|c| c.path.ends_with("/assignments/get")).map(|c| c.status).collect();
    assert_eq!(statuses, [200, 401, 200]);

    // Still refused after renewing: the error, after exactly one renewal.
    harness.clear_calls();
    harness.inject(FaultRule::new("/api/v1/assignments/get", Fault::Status { status: 401 }));
    let error = wm.get_assignment(CABLING).await.unwrap_err();
    assert!(
        matches!(&error, WorkMarketError::Unauthorized { message } if message.contains("even after renewing")),
        "{error:?}"
    );
    assert_eq!(calls_to(harness, "/assignments/get"), 2);
    assert_eq!(calls_to(harness, "/authorization/request"), 1);
}

#[tokio::test]
async fn list_updated_pages_through_with_either_total_key() {
    let sandbox = seeded().await;
    let control = &sandbox.sandbox;
    for n in 0..5 {
        control
            .create_work_order(NewWorkOrder::new(format!("Extra {n}"), PricingSpec::Flat { price: SandboxCents(100) }))
            .unwrap();
    }
    let wm = client(&sandbox, PathStyle::Api).with_page_size(2);
    let since = control.now() - SignedDuration::from_mins(5);
    for camel in [false, true] {
        control.set_quirks(Quirks { total_results_camel_case: camel, ..Quirks::default() });
        control.harness().clear_calls();
        let updated = wm.list_updated(since).await.unwrap();
        assert_eq!(updated.changes.len(), 9, "4 seeded + 5 created");
        assert!(updated.changes.iter().any(|c| c.id == CABLING && c.last_modified.is_some()));
        assert_eq!(calls_to(control.harness(), "/list_updated"), 5, "pages of 2");
        assert!(updated.cursor > since);
    }
}

#[tokio::test]
async fn the_cursor_finds_only_later_changes() {
    let sandbox = seeded().await;
    let control = &sandbox.sandbox;
    let wm = client(&sandbox, PathStyle::Employer);
    let since = control.now() - SignedDuration::from_mins(5);
    // Whole seconds decide, so move the clock clear of the seed's second.
    control.advance_clock(Duration::from_secs(10)).unwrap();
    let before = Timestamp::from_second(control.now().as_second()).unwrap();
    let first = wm.list_updated(since).await.unwrap();
    assert_eq!(first.changes.len(), 4);
    assert!(first.cursor >= before, "the cursor is WorkMarket's clock");

    control.advance_clock(Duration::from_secs(10)).unwrap();
    control.assign("6029116326", "8823580").unwrap();
    let assigned = Timestamp::from_second(control.now().as_second()).unwrap();
    let second = wm.list_updated(first.cursor).await.unwrap();
    let changed = Updated { id: "6029116326".into(), last_modified: Some(assigned), status: WorkOrderStatus::Active };
    assert_eq!(second.changes, [changed]);
    assert!(second.cursor > first.cursor);

    // A started work order is `active` in list rows; its modified_status says it started.
    control.advance_clock(Duration::from_secs(10)).unwrap();
    control.check_in("6029116326").unwrap();
    let third = wm.list_updated(second.cursor).await.unwrap();
    assert_eq!(third.changes[0].status, WorkOrderStatus::InProgress);
}

#[tokio::test]
async fn industries_and_statuses() {
    let sandbox = seeded().await;
    let wm = client(&sandbox, PathStyle::Employer);
    let industries = wm.list_industries().await.unwrap();
    let names: Vec<(i64, &str)> = industries.iter().map(|i| (i.id, i.name.as_str())).collect();
    assert_eq!(names, [(1000, "Technology"), (1001, "Marketing"), (1002, "Construction")]);
    let statuses = wm.list_statuses().await.unwrap();
    assert!(statuses.iter().any(|s| s.id == "paymentPending" && s.name == "Invoiced"));
    assert_eq!(statuses.len(), 12);
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_by_the_shared_layer() {
    let sandbox = seeded().await;
    let harness = sandbox.sandbox.harness();
    let wm = client(&sandbox, PathStyle::Api);
    wm.list_statuses().await.unwrap();

    harness.clear_calls();
    harness.inject(FaultRule::new("/api/v1/assignments/get", Fault::Status { status: 503 }).times(2));
    assert_eq!(wm.get_assignment(CABLING).await.unwrap().id, CABLING);
    assert_eq!(calls_to(harness, "/assignments/get"), 3);

    harness.clear_calls();
    harness.inject(FaultRule::new("/api/v1/assignments/get", Fault::RateLimit { retry_after_secs: 0 }).times(1));
    assert_eq!(wm.get_assignment(CABLING).await.unwrap().id, CABLING);
    assert_eq!(calls_to(harness, "/assignments/get"), 2);

    // Past the retries: a typed, retryable error with WorkMarket's message.
    harness.inject(FaultRule::new("/api/v1/assignments/get", Fault::RateLimit { retry_after_secs: 0 }));
    let limited = wm.get_assignment(CABLING).await.unwrap_err();
    assert!(
        matches!(&limited, WorkMarketError::RateLimited { message, .. } if message == "Rate limit reached"),
        "{limited:?}"
    );
    assert!(limited.is_retryable());
    harness.clear_faults();

    harness.inject(FaultRule::new("/api/v1/assignments/get", Fault::Status { status: 500 }));
    let failed = wm.get_assignment(CABLING).await.unwrap_err();
    assert!(matches!(failed, WorkMarketError::Server { code: 500, .. }), "{failed:?}");
    assert!(failed.is_retryable());
    harness.clear_faults();

    harness.inject(FaultRule::new("/api/v1/assignments/get", Fault::DropBeforeProcessing));
    let dropped = wm.get_assignment(CABLING).await.unwrap_err();
    assert!(matches!(dropped, WorkMarketError::Transport(_)), "{dropped:?}");
    assert!(dropped.is_retryable());
    assert_eq!(dropped.reason(), "WorkMarketUnreachable");
}

/// A `tracing` writer into a shared buffer.
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

#[tokio::test]
async fn credentials_and_access_tokens_appear_in_no_debug_log_or_error() {
    let sandbox = start(WorkMarketSandboxConfig {
        api_token: "wm_tok_4d1f0c8e".into(),
        api_secret: "wm_sec_9a7b3e21".into(),
        ..WorkMarketSandboxConfig::default()
    })
    .await;
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let wm = WorkMarketClient::new(
        &sandbox.url,
        PathStyle::Api,
        Secret::new("wm_tok_4d1f0c8e"),
        Secret::new("wm_sec_9a7b3e21"),
        fast_http(),
    );
    let mut seen = vec![format!("{wm:?}")];
    wm.get_assignment(CABLING).await.unwrap();
    sandbox.sandbox.revoke_access_tokens();
    seen.push(format!("{:?}", wm.get_assignment(CABLING).await));
    seen.push(format!("{:?}", wm.get_assignment("404").await));
    sandbox.sandbox.harness().inject(FaultRule::new("/api/v1/assignments/get", Fault::Status { status: 401 }));
    let refused = wm.get_assignment(CABLING).await.unwrap_err();
    seen.push(format!("{refused:?} {refused}"));
    let wrong = WorkMarketClient::new(
        &sandbox.url,
        PathStyle::Api,
        Secret::new("wm_tok_4d1f0c8e"),
        Secret::new("wm_sec_wrong_0000"),
        fast_http(),
    );
    let refused = wrong.list_statuses().await.unwrap_err();
    seen.push(format!("{wrong:?} {refused:?} {refused}"));
    seen.push(String::from_utf8(logs.0.lock().unwrap().clone()).unwrap());

    let everything = seen.join("\n");
    assert!(everything.contains("workmarket"), "the log captured the calls");
    for secret in ["wm_tok_4d1f0c8e", "wm_sec_9a7b3e21", "wm_sec_wrong_0000", "wm_at_"] {
        assert!(!everything.contains(secret), "{secret} leaked:\n{everything}");
    }
}
