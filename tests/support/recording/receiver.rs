//! The webhook receiver alone on loopback, over a [`Recorder`] that remembers everything the
//! receiver asked of it, so a test can tell that a refused delivery changed nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coverbridge::reconcile::ObjectKey;
use coverbridge::secret::Secret;
use coverbridge::ten99policy::Verifier;
use coverbridge::webhooks::{self, Bindings, Counters, Credentials, Source, Unmatched};

/// The token the receiver expects on WorkMarket deliveries.
pub const TOKEN: &str = "wm-hook-7d3f9a1c";
/// The secret the receiver verifies 1099Policy signatures with.
pub const SECRET: &str = "whsec_hardening_5e2b";

/// Every call the receiver made into the runtime. Every work order and external id "has" one
/// binding, named after it, so an accepted delivery always shows up here.
#[derive(Default)]
pub struct Recorder {
    calls: Mutex<Vec<String>>,
}

impl Recorder {
    /// The calls so far, as `lookup work order 1`, `trigger ns/1`, `unmatched work order 1`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Bindings for Recorder {
    fn by_work_order(&self, work_order_id: &str) -> Vec<ObjectKey> {
        self.record(format!("lookup work order {work_order_id}"));
        vec![ObjectKey::new("ns", work_order_id)]
    }

    fn by_external_id(&self, external_id: &str) -> Vec<ObjectKey> {
        self.record(format!("lookup id {external_id}"));
        vec![ObjectKey::new("ns", external_id)]
    }

    fn trigger(&self, keys: Vec<ObjectKey>) {
        for key in keys {
            self.record(format!("trigger {key}"));
        }
    }

    fn unmatched(&self, wake: Unmatched) {
        match wake {
            Unmatched::WorkOrder(delivery) => self.record(format!("unmatched work order {}", delivery.assignment_id)),
            Unmatched::ExternalIds(ids) => self.record(format!("unmatched ids {}", ids.join(","))),
        }
    }
}

/// A running receiver.
pub struct Receiver {
    /// Its base URL.
    pub url: String,
    /// Its address, for raw TCP clients.
    pub addr: std::net::SocketAddr,
    /// What it asked of the runtime.
    pub recorder: Arc<Recorder>,
    /// Its delivery counters.
    pub counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// A receiver with both secrets configured and the given read timeout.
    pub async fn start(read_timeout: Duration) -> Self {
        let credentials = Credentials {
            workmarket_token: Some(Secret::new(TOKEN)),
            ten99policy: Some(Verifier::new(Secret::new(SECRET))),
        };
        Self::with_credentials(credentials, read_timeout).await
    }

    /// A receiver with `credentials`.
    pub async fn with_credentials(credentials: Credentials, read_timeout: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let recorder = Arc::new(Recorder::default());
        let counters = Arc::new(Counters::default());
        let app = webhooks::router_with_timeout(recorder.clone(), credentials, counters.clone(), read_timeout);
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}"), addr, recorder, counters, task }
    }

    /// Counts for `source`: (accepted, unauthorized, malformed).
    pub fn counts(&self, source: Source) -> (u64, u64, u64) {
        let get = |counter: &[std::sync::atomic::AtomicU64; 2]| {
            counter[source as usize].load(std::sync::atomic::Ordering::Relaxed)
        };
        (get(&self.counters.accepted), get(&self.counters.unauthorized), get(&self.counters.malformed))
    }

    /// Refusals before the handler for `source`: (too large, timed out).
    pub fn refusals(&self, source: Source) -> (u64, u64) {
        let get = |counter: &[std::sync::atomic::AtomicU64; 2]| {
            counter[source as usize].load(std::sync::atomic::Ordering::Relaxed)
        };
        (get(&self.counters.too_large), get(&self.counters.timed_out))
    }
}
