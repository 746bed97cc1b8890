//! Shared setup for the 1099Policy client and sandbox tests: a served sandbox, a fast client,
//! request builders and a webhook receiver.

// Each test binary uses a different part of this file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use coverbridge::http::{HttpClient, HttpSettings, RetryPolicy};
use coverbridge::money::Cents;
use coverbridge::resources::{CoverageType, WageType};
use coverbridge::sandbox_clients::Ten99PolicySandboxClient;
use coverbridge::ten99policy::{
    Address, EpochSeconds, IdempotencyKey, Metadata, NewContractor, NewJob, NewQuote, Ten99PolicyClient,
};
use coverbridge_sandbox::ten99policy::seed::{COMPUTER_REPAIR, ENTITY_ID};
use coverbridge_sandbox::ten99policy::{DeliveryPolicy, RunningSandbox, Ten99PolicySandbox, Ten99PolicySandboxConfig};
use tokio::sync::mpsc;

/// HTTP settings that retry quickly, so retry tests take milliseconds.
pub fn fast_settings() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_wait: Duration::from_secs(5),
        },
        requests_per_second: std::num::NonZeroU32::new(1000).unwrap(),
        ..HttpSettings::default()
    }
}

/// A seeded sandbox on a loopback port.
pub async fn start() -> RunningSandbox {
    start_with(Ten99PolicySandboxConfig::default()).await
}

/// A sandbox built from `config`, served on a loopback port.
pub async fn start_with(config: Ten99PolicySandboxConfig) -> RunningSandbox {
    Ten99PolicySandbox::new(config).start().await.unwrap()
}

/// Delivery retries measured in milliseconds.
pub fn fast_delivery() -> DeliveryPolicy {
    DeliveryPolicy { attempts: 4, backoff: Duration::from_millis(10), timeout: Duration::from_secs(5) }
}

/// A client for `running` that retries fast.
pub fn client(running: &RunningSandbox) -> Ten99PolicyClient {
    running.client(HttpClient::new(fast_settings()))
}

/// A client for `running` that never retries.
pub fn client_once(running: &RunningSandbox) -> Ten99PolicyClient {
    running.client(HttpClient::new(HttpSettings { retry: RetryPolicy::none(), ..fast_settings() }))
}

static KEYS: AtomicU32 = AtomicU32::new(0);

/// A fresh idempotency key named for what it is for.
pub fn key(what: &str) -> IdempotencyKey {
    let n = KEYS.fetch_add(1, Ordering::SeqCst);
    IdempotencyKey::from_parts(["test", what, &n.to_string(), &fastrand::u64(..).to_string()])
}

/// A unique e-mail address.
pub fn email(name: &str) -> String {
    format!("{name}.{}@example.com", fastrand::u64(..))
}

/// A contractor with every required field.
pub fn contractor(email: &str) -> NewContractor {
    NewContractor {
        first_name: "Alex".into(),
        last_name: "Nguyen".into(),
        email: email.into(),
        phone: "+1 415 555 0100".into(),
        address: Address {
            line1: Some("1 Market St".into()),
            locality: Some("San Francisco".into()),
            region: Some("CA".into()),
            postalcode: Some("94105".into()),
            country: Some("US".into()),
            ..Address::default()
        },
        middle_name: None,
        company_name: None,
        custom_metadata: Metadata::default().with("workmarket_worker_id", "wk_421"),
        withhold_premium: None,
    }
}

/// A job for the seeded entity in an approved category.
pub fn job(work_order: &str) -> NewJob {
    NewJob {
        name: format!("WO {work_order} — Low Voltage Cabling"),
        description: "Install Cat6 and test drops at client site".into(),
        entity: ENTITY_ID.into(),
        category_code: COMPUTER_REPAIR.into(),
        wage: Cents(32500),
        wage_type: WageType::Flatfee,
        years_experience: None,
        address: Some(Address { region: Some("CA".into()), ..Address::default() }),
        custom_metadata: Metadata::default().with("work_order_id", work_order),
    }
}

/// A quote for a two-day window starting `days_ahead` days from the sandbox's now.
pub fn quote(now: EpochSeconds, contractor: &str, job: &str, coverage: &[CoverageType]) -> NewQuote {
    NewQuote {
        contractor: contractor.into(),
        job: job.into(),
        coverage_type: coverage.to_vec(),
        effective_date: Some(now.plus_seconds(86_400)),
        end_date: Some(now.plus_seconds(3 * 86_400)),
        custom_metadata: Metadata::default(),
    }
}

/// A minimal PDF.
pub fn pdf() -> Bytes {
    Bytes::from_static(b"%PDF-1.4\n% certificate of insurance\n%%EOF\n")
}

/// One webhook as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A webhook receiver on a loopback port. It answers the statuses of `script` in turn (the
/// last one repeats) and passes every request on.
pub async fn receiver(script: Vec<StatusCode>) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let count = Arc::new(AtomicU32::new(0));
    let router = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let n = count.fetch_add(1, Ordering::SeqCst) as usize;
            let _ = tx.send(Received { headers, body });
            let status = script[n.min(script.len() - 1)];
            async move { status }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, rx)
}

/// The next webhook, or a failure after `secs` seconds (an upper bound on a wait, never a
/// timing assertion).
pub async fn next_webhook(rx: &mut mpsc::UnboundedReceiver<Received>, secs: u64) -> Received {
    tokio::time::timeout(Duration::from_secs(secs), rx.recv())
        .await
        .expect("a webhook arrives")
        .expect("the receiver is alive")
}
