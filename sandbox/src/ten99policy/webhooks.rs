//! Webhook delivery: every endpoint gets the events it subscribed to, signed with its secret,
//! one at a time and in order, retried with exponential backoff on anything but a 2xx.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::signature::{SIGNATURE_HEADER, sign};
use super::state::{Clock, StoredEvent};
use crate::secret::Secret;
use crate::ten99policy::{EventType, WebhookEndpoint};

/// How deliveries are retried.
#[derive(Clone, Debug)]
pub struct DeliveryPolicy {
    /// Attempts per event, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubles with every further one.
    pub backoff: Duration,
    /// Limit on one attempt.
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self { attempts: 5, backoff: Duration::from_millis(250), timeout: Duration::from_secs(10) }
    }
}

/// One delivery attempt, for tests and the control API.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Delivery {
    /// Endpoint (`whe_…`).
    pub endpoint: String,
    /// Event (`ev_…`).
    pub event: String,
    /// Event type.
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// HTTP status received; `None` when no answer came.
    pub status: Option<u16>,
}

/// A delivery attempt as kept: endpoint and event id shared, the type as parsed.
pub(crate) struct Attempt {
    endpoint: Arc<str>,
    event: Arc<str>,
    event_type: EventType,
    attempt: u32,
    status: Option<u16>,
}

impl Attempt {
    pub fn delivery(&self) -> Delivery {
        Delivery {
            endpoint: self.endpoint.to_string(),
            event: self.event.to_string(),
            event_type: self.event_type.as_str().to_owned(),
            attempt: self.attempt,
            status: self.status,
        }
    }
}

/// Shared log of delivery attempts.
pub(crate) type DeliveryLog = Arc<Mutex<Vec<Attempt>>>;

/// A registered endpoint and its queue.
pub(crate) struct Endpoint {
    pub endpoint: WebhookEndpoint,
    queue: UnboundedSender<StoredEvent>,
    /// Taken by the delivery task when it starts (lazily: the sandbox may be built before a
    /// Tokio runtime exists).
    pending: Option<UnboundedReceiver<StoredEvent>>,
    worker: Option<Worker>,
}

struct Worker {
    policy: DeliveryPolicy,
    clock: Arc<Clock>,
    log: DeliveryLog,
}

impl Endpoint {
    pub fn new(endpoint: WebhookEndpoint, policy: DeliveryPolicy, clock: Arc<Clock>, log: DeliveryLog) -> Self {
        let (queue, pending) = unbounded_channel();
        Self { endpoint, queue, pending: Some(pending), worker: Some(Worker { policy, clock, log }) }
    }

    /// Queues `event` if this endpoint subscribed to its type.
    pub fn offer(&mut self, event: &StoredEvent) {
        let events = &self.endpoint.events;
        let wanted = events.is_empty() || events.iter().any(|e| e == "*" || e == event.event_type.as_str());
        if !wanted {
            return;
        }
        self.start();
        // The receiver lives as long as the task; a send fails only after shutdown.
        let _ = self.queue.send(event.clone());
    }

    fn start(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if let (Some(pending), Some(worker)) = (self.pending.take(), self.worker.take()) {
            let url = self.endpoint.url.clone().unwrap_or_default();
            let secret = self.endpoint.secret.clone().unwrap_or_else(|| Secret::new(""));
            let id = Arc::from(self.endpoint.id.as_str());
            tokio::spawn(deliver_all(id, url, secret, pending, worker));
        }
    }
}

async fn deliver_all(
    endpoint: Arc<str>,
    url: String,
    secret: Secret,
    mut queue: UnboundedReceiver<StoredEvent>,
    worker: Worker,
) {
    let http = reqwest::Client::builder().timeout(worker.policy.timeout).build().expect("the TLS backend initialises");
    while let Some(event) = queue.recv().await {
        let body = event.json.clone();
        for attempt in 1..=worker.policy.attempts {
            // Signed afresh per attempt, as a real sender would, so retries are never stale.
            let signature = sign(&secret, worker.clock.now().get(), &body);
            let answer = http
                .post(&url)
                .header("content-type", "application/json")
                .header(SIGNATURE_HEADER, signature)
                .body(body.clone())
                .send()
                .await;
            let status = answer.as_ref().ok().map(|r| r.status().as_u16());
            worker.log.lock().unwrap_or_else(|p| p.into_inner()).push(Attempt {
                endpoint: endpoint.clone(),
                event: event.id.clone(),
                event_type: event.event_type.clone(),
                attempt,
                status,
            });
            if status.is_some_and(|s| (200..300).contains(&s)) {
                break;
            }
            if attempt < worker.policy.attempts {
                tokio::time::sleep(worker.policy.backoff * 2u32.saturating_pow(attempt - 1)).await;
            }
        }
    }
}
