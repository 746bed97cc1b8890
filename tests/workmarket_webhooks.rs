//! WorkMarket webhooks end to end: template → render → delivery over real HTTP to a loopback
//! receiver → authenticate and parse, for every event the README lists, JSON and form-encoded.

// Each test binary uses only part of the shared support.
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use coverbridge::secret::Secret;
use coverbridge::workmarket::WorkOrderStatus;
use coverbridge::workmarket::webhook::{self, AuthFailure, Delivery, EVENTS, WorkOrderEvent, authenticate, parse};
use coverbridge_sandbox::money::Cents;
use coverbridge_sandbox::workmarket::{
    DateFormat, Outcome, PricingSpec, WebhookTemplate, WorkMarketSandbox, WorkMarketSandboxConfig,
};
use jiff::{SignedDuration, Timestamp};
use support::workmarket::{Answer, Hit, Receiver, start};

const TOKEN: &str = "whk_3c9d2e7f1a";

/// Fires every listed event once, in this order, and says what each delivery should parse to:
/// (event meaning, assignment, raw status).
fn fire_every_event(sandbox: &WorkMarketSandbox) -> Vec<(WorkOrderEvent, &'static str, &'static str)> {
    use WorkOrderEvent::*;
    let (a, b, c, d) = ("6029116324", "6029116325", "6029116326", "6029116327");
    sandbox.assign(a, "8823578").unwrap();
    sandbox.check_in(a).unwrap();
    sandbox.complete(a).unwrap();
    sandbox.approve(a).unwrap();
    sandbox.pay(a, Some(Cents(34000))).unwrap();
    sandbox.void(b).unwrap();
    sandbox.assign(c, "8823580").unwrap();
    sandbox.cancel(c).unwrap();
    let start = sandbox.now() + SignedDuration::from_hours(72);
    sandbox.reschedule(d, start, start + SignedDuration::from_hours(4)).unwrap();
    sandbox.increase_budget(d, PricingSpec::Flat { price: Cents(45000) }).unwrap();
    vec![
        (Assigned, a, "active"),
        (InProgress, a, "active"),
        (Completed, a, "complete"),
        (Completed, a, "paymentPending"),
        (Paid, a, "paid"),
        (Cancelled, b, "void"),
        (Assigned, c, "active"),
        (Cancelled, c, "cancelled"),
        (Rescheduled, d, "sent"),
        (Repriced, d, "sent"),
    ]
}

fn parsed(hit: &Hit) -> Delivery {
    parse(hit.content_type.as_deref(), &hit.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&hit.body)))
}

fn check_round_trip(hits: &[Hit], expected: &[(WorkOrderEvent, &str, &str)], sent_after: Timestamp) {
    assert_eq!(hits.len(), expected.len(), "one delivery per event, no more");
    for (hit, (meaning, id, status)) in hits.iter().zip(expected) {
        assert_eq!(hit.method, "POST");
        assert_eq!(authenticate(&hit.headers, &Secret::new(TOKEN)), Ok(()));
        let delivery = parsed(hit);
        assert_eq!(delivery.event.as_ref(), Some(meaning));
        assert_eq!(delivery.assignment_id, *id);
        assert_eq!(delivery.status, Some(WorkOrderStatus::parse(status)));
        let sent_at = delivery.sent_at.expect("${now} is a date");
        assert!(sent_at >= sent_after, "{sent_at} < {sent_after}");
    }
}

fn seconds_now(sandbox: &WorkMarketSandbox) -> Timestamp {
    Timestamp::from_second(sandbox.now().as_second()).unwrap()
}

#[tokio::test]
async fn every_event_round_trips_with_the_shipped_json_template() {
    let receiver = Receiver::start(vec![Answer::Status(204)]).await;
    let running = start(WorkMarketSandboxConfig {
        webhook_url: Some(format!("{}/webhooks/workmarket", receiver.url)),
        webhook_token: Some(TOKEN.into()),
        ..WorkMarketSandboxConfig::default()
    })
    .await;
    let sandbox = &running.sandbox;
    let saved: Vec<String> = sandbox.webhooks().into_iter().map(|t| t.event).collect();
    assert_eq!(saved, EVENTS);

    let before = seconds_now(sandbox);
    let expected = fire_every_event(sandbox);
    sandbox.flush_webhooks().await;
    let hits = receiver.hits();
    check_round_trip(&hits, &expected, before);
    for hit in &hits {
        assert_eq!(hit.uri, "/webhooks/workmarket");
        assert_eq!(hit.content_type.as_deref(), Some("application/json"));
        assert!(hit.headers.get("x-wm-signature").is_none());
    }
    // The user typed each event's name into its template.
    let names: Vec<Option<String>> = hits.iter().map(|h| parsed(h).event_name).collect();
    assert_eq!(names[1].as_deref(), Some("Check In"));
    assert_eq!(names[9].as_deref(), Some("Budget Increase Approved"));
    assert!(sandbox.deliveries().iter().all(|d| d.outcome == Outcome::Delivered { status: 204 } && d.attempts == 1));
}

#[tokio::test]
async fn every_event_round_trips_form_encoded_with_basic_auth_and_iso_dates() {
    let receiver = Receiver::start(vec![Answer::Status(200)]).await;
    let running = start(WorkMarketSandboxConfig::default()).await;
    let sandbox = &running.sandbox;
    sandbox.set_webhook_date_format(DateFormat::Iso8601);
    let host = receiver.url.trim_start_matches("http://");
    for event in EVENTS {
        sandbox
            .add_webhook(WebhookTemplate {
                event: event.into(),
                url: format!("http://coverbridge:{TOKEN}@{host}/hook?wm=${{assignment_id}}"),
                method: "POST".into(),
                content_type: "application/x-www-form-urlencoded".into(),
                headers: BTreeMap::new(),
                body: format!(
                    "event={}&assignment_id=${{assignment_id}}&status=${{status}}&now=${{now}}",
                    event.replace(' ', "+")
                ),
            })
            .unwrap();
    }
    let before = seconds_now(sandbox);
    let expected = fire_every_event(sandbox);
    sandbox.flush_webhooks().await;
    let hits = receiver.hits();
    check_round_trip(&hits, &expected, before);
    assert!(hits[0].headers["authorization"].to_str().unwrap().starts_with("Basic "));
    assert_eq!(hits[0].uri, "/hook?wm=6029116324", "URL variables are filled in");
    let body = String::from_utf8(hits[0].body.to_vec()).unwrap();
    assert!(body.contains("now=20"), "ISO 8601, URL-encoded: {body}");
    assert!(body.contains("%3A"), "{body}");
    // The record of the delivery masks the password.
    let record = &sandbox.deliveries()[0];
    assert!(record.url.contains("***") && !record.url.contains(TOKEN), "{}", record.url);
}

#[tokio::test]
async fn worker_variables_only_on_accepted() {
    let receiver = Receiver::start(vec![Answer::Status(200)]).await;
    let running = start(WorkMarketSandboxConfig::default()).await;
    let sandbox = &running.sandbox;
    let template = |event: &str, body: &str, headers: BTreeMap<String, String>| WebhookTemplate {
        event: event.into(),
        url: format!("{}/hook", receiver.url),
        method: "POST".into(),
        content_type: "application/json".into(),
        headers,
        body: body.into(),
    };
    let with_worker = r#"{"event":"Accepted","assignment_id":"${assignment_id}","status":"${status}",
        "resource_id":"${resource_id}","resource_email":"${resource_email}","resource_state":"${resource_state}"}"#;
    sandbox.add_webhook(template("Accepted", with_worker, BTreeMap::new())).unwrap();
    // WorkMarket refuses to save a body using them for another event...
    assert!(sandbox.add_webhook(template("Check In", with_worker, BTreeMap::new())).is_err());
    // ...and renders them empty where it does not check (headers).
    let header = BTreeMap::from([("X-Worker".to_owned(), "[${resource_id}]".to_owned())]);
    sandbox.add_webhook(template("Check In", r#"{"assignment_id":"${assignment_id}"}"#, header)).unwrap();

    sandbox.assign("6029116324", "8823578").unwrap();
    sandbox.check_in("6029116324").unwrap();
    sandbox.flush_webhooks().await;
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    let accepted: serde_json::Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(accepted["resource_id"], "8823578");
    assert_eq!(accepted["resource_email"], "alex.nguyen@example.com");
    assert_eq!(accepted["resource_state"], "California");
    assert_eq!(parsed(&hits[0]).event, Some(WorkOrderEvent::Assigned), "extra fields are tolerated");
    assert_eq!(hits[1].headers["x-worker"], "[]");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_once_at_once() {
    let receiver = Receiver::start(vec![Answer::Status(500), Answer::Status(200), Answer::Status(503)]).await;
    let running = start(WorkMarketSandboxConfig {
        webhook_url: Some(receiver.url.clone()),
        webhook_token: Some(TOKEN.into()),
        ..WorkMarketSandboxConfig::default()
    })
    .await;
    let sandbox = &running.sandbox;
    sandbox.assign("6029116324", "8823578").unwrap(); // 500, then 200
    sandbox.check_in("6029116324").unwrap(); // 503, 503: given up
    sandbox.complete("6029116324").unwrap(); // 503, 503: given up, not redelivered later
    sandbox.flush_webhooks().await;
    let records = sandbox.deliveries();
    assert_eq!(records[0].outcome, Outcome::Delivered { status: 200 });
    assert_eq!(records[0].attempts, 2);
    assert_eq!(records[1].outcome, Outcome::Failed { error: "HTTP 503".into() });
    assert_eq!(records[1].attempts, 2);
    assert_eq!(receiver.hits().len(), 6, "exactly one retry each");
    let ids: Vec<String> = receiver.hits().iter().map(|h| parsed(h).event_name.unwrap()).collect();
    assert_eq!(ids, ["Accepted", "Accepted", "Check In", "Check In", "Completed", "Completed"]);
}

#[tokio::test]
async fn a_delivery_that_times_out_is_retried() {
    let receiver = Receiver::start(vec![Answer::Hang, Answer::Status(202)]).await;
    let running = start(WorkMarketSandboxConfig {
        webhook_url: Some(receiver.url.clone()),
        webhook_token: Some(TOKEN.into()),
        webhook_timeout: Duration::from_millis(200),
        ..WorkMarketSandboxConfig::default()
    })
    .await;
    running.sandbox.assign("6029116324", "8823578").unwrap();
    running.sandbox.flush_webhooks().await;
    let record = &running.sandbox.deliveries()[0];
    assert_eq!((record.attempts, &record.outcome), (2, &Outcome::Delivered { status: 202 }));
}

#[tokio::test]
async fn a_template_with_an_unknown_variable_is_not_sent() {
    let receiver = Receiver::start(vec![Answer::Status(200)]).await;
    let running = start(WorkMarketSandboxConfig::default()).await;
    let sandbox = &running.sandbox;
    let mut template = WebhookTemplate::shipped("Accepted", &format!("{}/${{bogus}}", receiver.url), None);
    template.method = "PUT".into();
    sandbox.add_webhook(template).unwrap();
    sandbox.add_webhook(WebhookTemplate::shipped("Accepted", &receiver.url, Some(TOKEN))).unwrap();
    sandbox.assign("6029116324", "8823578").unwrap();
    sandbox.flush_webhooks().await;
    let records = sandbox.deliveries();
    assert_eq!(records[0].outcome, Outcome::NotSent { reason: "unknown variable ${bogus}".into() });
    assert_eq!(receiver.hits().len(), 1, "only the good template was sent");
}

#[tokio::test]
async fn the_receiver_side_rejects_what_it_should() {
    let receiver = Receiver::start(vec![Answer::Status(200)]).await;
    let running = start(WorkMarketSandboxConfig {
        webhook_url: Some(receiver.url.clone()),
        webhook_token: Some("some-other-token".into()),
        ..WorkMarketSandboxConfig::default()
    })
    .await;
    let sandbox = &running.sandbox;
    let mut custom = WebhookTemplate::shipped("Voided", &receiver.url, None);
    custom.headers.insert("X-Coverbridge-Token".into(), TOKEN.into());
    sandbox.add_webhook(custom).unwrap();
    sandbox.void("6029116325").unwrap();
    sandbox.assign("6029116324", "8823578").unwrap();
    sandbox.flush_webhooks().await;
    let token = Secret::new(TOKEN);
    let results: Vec<Result<(), AuthFailure>> =
        receiver.hits().iter().map(|h| authenticate(&h.headers, &token)).collect();
    // Voided: the configured wrong token, then the custom header with the right one.
    // Accepted: the wrong token only.
    assert_eq!(results, [Err(AuthFailure::WrongToken), Ok(()), Err(AuthFailure::WrongToken)]);

    let basic = |credentials: &str| {
        let mut headers = axum::http::HeaderMap::new();
        let value = base64::engine::general_purpose::STANDARD.encode(credentials);
        headers.insert("authorization", format!("Basic {value}").parse().unwrap());
        authenticate(&headers, &token)
    };
    assert_eq!(basic(&format!("wm:{TOKEN}")), Ok(()));
    assert_eq!(basic("wm:nope"), Err(AuthFailure::WrongToken));
    assert_eq!(authenticate(&axum::http::HeaderMap::new(), &token), Err(AuthFailure::Missing));
}

#[test]
fn the_shipped_template_is_minimal_and_uses_only_every_event_variables() {
    let template: serde_json::Value = serde_json::from_str(webhook::TEMPLATE).unwrap();
    let fields: Vec<&str> = template.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields.len(), 4);
    for field in ["event", "assignment_id", "status", "now"] {
        assert!(fields.contains(&field), "{field}");
    }
    assert_eq!(template["assignment_id"], "${assignment_id}");
    assert_eq!(template["status"], "${status}");
    assert_eq!(template["now"], "${now}");
    assert_eq!(webhook::TEMPLATE, std::fs::read_to_string("examples/workmarket-webhook.json").unwrap());
}
