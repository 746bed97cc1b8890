//! Sending rendered webhooks the way WorkMarket does: asynchronously, one at a time per company
//! (so in order), any 2xx is success, otherwise one immediate retry and nothing more.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

/// A rendered webhook call. What does not vary between the webhooks of one template (usually
/// the URL, headers and content type) is shared, so a burst of queued webhooks stays small.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub method: reqwest::Method,
    pub url: Arc<str>,
    pub headers: Arc<[(String, String)]>,
    pub content_type: Arc<str>,
    pub body: Box<str>,
}

/// What became of one webhook.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Queued, not yet sent.
    Pending,
    /// Answered 2xx.
    Delivered {
        /// The HTTP status.
        status: u16,
    },
    /// Both attempts failed.
    Failed {
        /// The last failure: a status or a transport error.
        error: String,
    },
    /// Never sent, as WorkMarket logs and drops a template it cannot render.
    NotSent {
        /// Why.
        reason: String,
    },
}

/// One webhook the sandbox sent or meant to send.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The event's UI name.
    pub event: String,
    /// The assignment it is about.
    pub assignment_id: String,
    /// The URL, with any basic-auth password masked.
    pub url: String,
    /// Attempts made (0, 1 or 2).
    pub attempts: u32,
    /// What became of it.
    #[serde(flatten)]
    pub outcome: Outcome,
}

struct Job {
    index: usize,
    outgoing: Outgoing,
}

/// A delivery record as kept: event name and URL shared with the template's other records.
struct Kept {
    event: Arc<str>,
    assignment_id: Box<str>,
    url: Arc<str>,
    attempts: u32,
    outcome: Outcome,
}

impl Kept {
    fn record(&self) -> DeliveryRecord {
        DeliveryRecord {
            event: self.event.to_string(),
            assignment_id: self.assignment_id.to_string(),
            url: self.url.to_string(),
            attempts: self.attempts,
            outcome: self.outcome.clone(),
        }
    }
}

/// The delivery queue of the sandbox's one company.
pub(crate) struct Dispatcher {
    sender: mpsc::UnboundedSender<Job>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Job>>>,
    pending: watch::Sender<usize>,
    log: Arc<Mutex<Vec<Kept>>>,
    timeout: Duration,
}

impl Dispatcher {
    pub fn new(timeout: Duration) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            sender,
            receiver: Mutex::new(Some(receiver)),
            pending: watch::Sender::new(0),
            log: Arc::new(Mutex::new(Vec::new())),
            timeout,
        }
    }

    /// Queues `outgoing` (or records why it is not sent) as `event` about `assignment_id`, to
    /// the (masked) `url`.
    pub fn enqueue(&self, event: Arc<str>, assignment_id: &str, url: Arc<str>, outgoing: Result<Outgoing, String>) {
        let mut log = lock(&self.log);
        let mut kept = Kept { event, assignment_id: assignment_id.into(), url, attempts: 0, outcome: Outcome::Pending };
        match outgoing {
            Ok(outgoing) => {
                log.push(kept);
                self.pending.send_modify(|n| *n += 1);
                let job = Job { index: log.len() - 1, outgoing };
                // The receiver lives as long as the dispatcher, so sending cannot fail.
                let _ = self.sender.send(job);
            }
            Err(reason) => {
                tracing::warn!(event = %kept.event, %reason, "WorkMarket sandbox webhook not sent");
                kept.outcome = Outcome::NotSent { reason };
                log.push(kept);
            }
        }
        drop(log);
        self.start_worker();
    }

    /// Starts the sending task once a Tokio runtime is at hand; events queued before then wait.
    pub fn start_worker(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(mut receiver) = lock(&self.receiver).take() else {
            return;
        };
        let client = reqwest::Client::builder().timeout(self.timeout).build().expect("the TLS backend initialises");
        let log = self.log.clone();
        let pending = self.pending.clone();
        runtime.spawn(async move {
            while let Some(job) = receiver.recv().await {
                let (attempts, outcome) = deliver(&client, &job.outgoing).await;
                if let Some(record) = lock(&log).get_mut(job.index) {
                    record.attempts = attempts;
                    record.outcome = outcome;
                }
                pending.send_modify(|n| *n -= 1);
            }
        });
    }

    /// Every webhook so far.
    pub fn records(&self) -> Vec<DeliveryRecord> {
        lock(&self.log).iter().map(Kept::record).collect()
    }

    /// Waits until every queued webhook has been sent or has failed.
    pub async fn flush(&self) {
        self.start_worker();
        let mut pending = self.pending.subscribe();
        // The sender lives in self, so waiting cannot fail.
        let _ = pending.wait_for(|n| *n == 0).await;
    }
}

/// Sends once and, on a non-2xx or no answer, once more at once.
async fn deliver(client: &reqwest::Client, outgoing: &Outgoing) -> (u32, Outcome) {
    let mut error = String::new();
    for attempt in 1..=2 {
        match send(client, outgoing).await {
            Ok(status) if (200..300).contains(&status) => {
                return (attempt, Outcome::Delivered { status });
            }
            Ok(status) => error = format!("HTTP {status}"),
            Err(e) => error = e,
        }
    }
    (2, Outcome::Failed { error })
}

async fn send(client: &reqwest::Client, outgoing: &Outgoing) -> Result<u16, String> {
    let mut request = client
        .request(outgoing.method.clone(), &*outgoing.url)
        .header(reqwest::header::CONTENT_TYPE, &*outgoing.content_type);
    for (name, value) in outgoing.headers.iter() {
        request = request.header(name, value);
    }
    // WorkMarket sends no body with DELETE (nor GET).
    if !matches!(outgoing.method, reqwest::Method::DELETE | reqwest::Method::GET) {
        request = request.body(outgoing.body.to_string());
    }
    let response = request
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { format!("no answer: {}", e.without_url()) })?;
    Ok(response.status().as_u16())
}

/// `url` with a basic-auth password replaced by `***`, for the record.
pub(crate) fn masked(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
