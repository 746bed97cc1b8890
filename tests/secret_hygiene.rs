//! Secret hygiene: the demo's flow with a distinctive value for every secret (and wrong values
//! as distinctive), capturing every log line at TRACE, every notice, every binding's status and
//! every error we can provoke, then checking that none of it holds a secret, plainly or in
//! base64. A global subscriber can be set once per test binary, so this file stands alone.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use coverbridge::reconcile::{Notice, ObjectKey, Reconciler, Settings};
use coverbridge::resources::{CertificateStatus, ConditionType, CoverageBinding, Phase};
use coverbridge::runtime::local::{LocalRuntime, Store};
use coverbridge::secret::{self, Secret};
use coverbridge::ten99policy::{Ten99PolicyClient, Verifier};
use coverbridge::webhooks::{self, Counters, Credentials, Source};
use coverbridge::workmarket::{PathStyle, WorkMarketClient};
use coverbridge_sandbox::ten99policy::{CertificateReview, RunningSandbox as Ten99Running, Ten99PolicySandboxConfig};
use coverbridge_sandbox::workmarket::{RunningSandbox as WmRunning, WorkMarketSandboxConfig};
use support::recording::logs::LogBuffer;
use support::world::fast_http;
use tracing_subscriber::util::SubscriberInitExt;

// What the platforms accept. Only URL-safe characters, so form and percent encodings of these
// are the values themselves.
const WM_API_TOKEN: &str = "wmtok-HYG-3b7c1d9e5a";
const WM_API_SECRET: &str = "wmsec-HYG-8f2a6c4e0d";
const T9_API_KEY: &str = "t9k_test_HYG_5d1f7b3a9c";
const T9_WEBHOOK_SECRET: &str = "whsec_HYG_2e8c4a6f1b";
const WM_WEBHOOK_TOKEN: &str = "whtok-HYG-7a9e3c1b5d";
// What a misconfigured operator holds instead: just as secret.
const WRONG_WM_API_SECRET: &str = "wmsec-WRONG-4c6e8a2f7b";
const WRONG_T9_API_KEY: &str = "t9k_test_WRONG_9b1d3f5e2a";
const WRONG_WEBHOOK_TOKEN: &str = "whtok-WRONG-1f3b5d7a9c";
const WRONG_WEBHOOK_SECRET: &str = "whsec_WRONG_6b8d0f2a4c";
const SECRETS: [&str; 9] = [
    WM_API_TOKEN,
    WM_API_SECRET,
    T9_API_KEY,
    T9_WEBHOOK_SECRET,
    WM_WEBHOOK_TOKEN,
    WRONG_WM_API_SECRET,
    WRONG_T9_API_KEY,
    WRONG_WEBHOOK_TOKEN,
    WRONG_WEBHOOK_SECRET,
];
/// Prefix of the access tokens the WorkMarket sandbox issues: credentials too.
const ACCESS_TOKEN_PREFIX: &str = "wm_at_";

/// Who the demo assigns to each seeded work order.
const ASSIGNMENTS: [(&str, &str); 4] =
    [("6029116324", "8823578"), ("6029116325", "8823579"), ("6029116326", "8823580"), ("6029116327", "8823581")];
const NAMESPACE: &str = "demo";

/// Every log line of this test binary, at every level, from every thread.
fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        // Also routes the `log` crate's records into it.
        logs.subscriber().try_init().expect("the only subscriber of this binary");
        logs
    })
}

/// The pieces of a secret's base64 that do not depend on what surrounds it, at each of the
/// three alignments: they show up in any base64 text that holds the secret, such as basic-auth
/// `user:secret` credentials.
fn base64_cores(secret: &str) -> Vec<String> {
    (0..3)
        .map(|offset| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{}{secret}", "x".repeat(offset)));
            let (first, end) = (offset.div_ceil(3), (offset + secret.len()) / 3);
            encoded[first * 4..end * 4].to_owned()
        })
        .collect()
}

/// The first secret (or form of one) found in `text`, and where.
fn leak(text: &str) -> Option<(String, usize)> {
    for secret in SECRETS {
        if let Some(at) = text.find(secret) {
            return Some((secret.to_owned(), at));
        }
        for core in base64_cores(secret) {
            if let Some(at) = text.find(core.as_str()) {
                return Some((format!("{secret} as base64 {core}"), at));
            }
        }
    }
    text.find(ACCESS_TOKEN_PREFIX).map(|at| ("a WorkMarket access token".to_owned(), at))
}

/// Everything a person or a cluster could see, by where it came from.
#[derive(Default)]
struct Exhibits(Vec<(String, String)>);

impl Exhibits {
    fn add(&mut self, source: impl Into<String>, text: impl Into<String>) {
        self.0.push((source.into(), text.into()));
    }

    /// Adds every binding's whole object (JSON, and its status as the demo's YAML), the mappings,
    /// the demo's table and every notice so far.
    fn add_world(&mut self, flow: &Flow) {
        let bindings = flow.runtime.store().bindings();
        for binding in &bindings {
            let name = binding.metadata.name.clone().unwrap_or_default();
            self.add(format!("binding {name}"), serde_json::to_string(binding).unwrap());
            self.add(format!("status YAML {name}"), serde_saphyr::to_string(&binding.status).unwrap());
        }
        for mapping in flow.runtime.store().mappings() {
            self.add("mapping", serde_json::to_string(&mapping).unwrap());
        }
        self.add("demo table", coverbridge::demo::table(&bindings));
        for notice in flow.notices.lock().unwrap().iter() {
            self.add("notice", notice.clone());
        }
    }

    /// Adds the log so far and fails on the first leak anywhere.
    fn assert_clean(mut self) {
        self.add("log", logs().text());
        for (source, text) in &self.0 {
            if let Some((secret, at)) = leak(text) {
                let context: String =
                    text[text.floor_char_boundary(at.saturating_sub(300))..].chars().take(600).collect();
                panic!("{source} leaks {secret}:\n…{context}…");
            }
        }
    }
}

/// What coverbridge is configured with; the sandboxes always expect the right values.
struct Config {
    wm_api_secret: &'static str,
    t9_api_key: &'static str,
    webhook_token: &'static str,
    webhook_secret: &'static str,
}

const RIGHT: Config = Config {
    wm_api_secret: WM_API_SECRET,
    t9_api_key: T9_API_KEY,
    webhook_token: WM_WEBHOOK_TOKEN,
    webhook_secret: T9_WEBHOOK_SECRET,
};

/// Both sandboxes, the receiver and the local runtime, wired as the demo wires them.
struct Flow {
    workmarket: WmRunning,
    ten99policy: Ten99Running,
    runtime: LocalRuntime,
    counters: Arc<Counters>,
    notices: Arc<Mutex<Vec<String>>>,
    receiver: tokio::task::JoinHandle<()>,
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

impl Flow {
    async fn start(config: &Config) -> Self {
        logs();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver_url = format!("http://{}", listener.local_addr().unwrap());
        let workmarket = WorkMarketSandboxConfig {
            webhook_token: Some(WM_WEBHOOK_TOKEN.into()),
            api_token: WM_API_TOKEN.into(),
            api_secret: WM_API_SECRET.into(),
            ..WorkMarketSandboxConfig::default()
        };
        let ten99policy = Ten99PolicySandboxConfig {
            api_key: T9_API_KEY.into(),
            webhook_secret: Some(coverbridge_sandbox::secret::Secret::new(T9_WEBHOOK_SECRET)),
            ..Ten99PolicySandboxConfig::default()
        };
        let (workmarket, ten99policy) = support::platforms::start(&receiver_url, workmarket, ten99policy).await;

        let (wm_client, t9_client) = clients(&workmarket, &ten99policy, config);
        let settings = Settings { proxy_email_domain: Some("relay.example.com".into()), ..Settings::default() };
        let notices = Arc::new(Mutex::new(Vec::new()));
        let sink_notices = notices.clone();
        let sink = Arc::new(move |key: &ObjectKey, notice: &Notice| {
            sink_notices.lock().unwrap().push(format!("{key} {notice:?}"));
        });
        let runtime = LocalRuntime::new(Store::new(), Reconciler::new(wm_client, t9_client, settings), sink);
        let credentials = Credentials {
            workmarket_token: Some(Secret::new(config.webhook_token)),
            ten99policy: Some(Verifier::new(Secret::new(config.webhook_secret))),
        };
        let counters = Arc::new(Counters::default());
        let app = webhooks::router(Arc::new(runtime.clone()), credentials, counters.clone());
        let receiver = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { workmarket, ten99policy, runtime, counters, notices, receiver }
    }

    /// Loads every manifest in `examples/`, as the demo does.
    async fn load_examples(&self) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
        files.sort();
        for file in files {
            self.runtime.apply(&std::fs::read_to_string(file).unwrap(), NAMESPACE).await.unwrap();
        }
    }

    fn assign_all(&self) {
        for (work_order, worker) in ASSIGNMENTS {
            self.workmarket.sandbox.assign(work_order, worker).unwrap();
        }
    }

    /// Works the queue, plays the worker and the reviewer (as the demo does), until every
    /// binding is Bound or a minute has passed; whether all were.
    async fn drive(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut done: Vec<String> = Vec::new();
        while Instant::now() < deadline {
            self.workmarket.sandbox.flush_webhooks().await;
            self.runtime.run_until_quiet(Duration::from_millis(300)).await;
            let bindings = self.runtime.store().bindings();
            if bindings.iter().all(|b| phase(b) == Some(Phase::Bound)) {
                return true;
            }
            let sandbox = &self.ten99policy.sandbox;
            for status in bindings.iter().filter_map(|b| b.status.as_ref()) {
                if let (Some(session), None) = (&status.application_session_id, &status.policy_id)
                    && !done.contains(session)
                    && sandbox.complete_application(session).is_ok()
                {
                    done.push(session.clone());
                }
                if let (Some(id), Some(CertificateStatus::Pending)) =
                    (&status.certificate_id, status.certificate_status)
                    && !done.contains(id)
                    && sandbox.review_certificate(id, CertificateReview::Approve).is_ok()
                {
                    done.push(id.clone());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    fn binding(&self, name: &str) -> CoverageBinding {
        self.runtime.store().binding(&ObjectKey::new(NAMESPACE, name)).unwrap()
    }
}

fn clients(
    workmarket: &WmRunning,
    ten99policy: &Ten99Running,
    config: &Config,
) -> (WorkMarketClient, Ten99PolicyClient) {
    let wm = WorkMarketClient::new(
        workmarket.url.clone(),
        PathStyle::Api,
        Secret::new(WM_API_TOKEN),
        Secret::new(config.wm_api_secret),
        fast_http(),
    );
    let t9 = Ten99PolicyClient::new(&ten99policy.url, Secret::new(config.t9_api_key), fast_http()).unwrap();
    (wm, t9)
}

fn phase(binding: &CoverageBinding) -> Option<Phase> {
    binding.status.as_ref().and_then(|s| s.phase)
}

/// The `Synced` condition's reason and message.
fn synced(binding: &CoverageBinding) -> (String, String) {
    let status = binding.status.clone().unwrap_or_default();
    let condition = status.conditions.iter().find(|c| c.type_ == ConditionType::Synced.as_str()).expect("Synced");
    assert_eq!(condition.status, "False", "{condition:?}");
    (condition.reason.clone(), condition.message.clone())
}

#[test]
fn the_leak_check_finds_secrets_in_every_form() {
    // The check itself must be able to fail, or the tests below prove nothing.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("workmarket:{WM_WEBHOOK_TOKEN}"));
    let bearer_key = base64::engine::general_purpose::STANDARD.encode(format!("{T9_API_KEY}:"));
    for text in [format!("token={WM_API_SECRET}&x"), format!("Basic {basic}"), format!("Basic {bearer_key}")] {
        assert!(leak(&text).is_some(), "{text}");
    }
    assert!(leak("Authorization: Bearer wm_at_0123").is_some());
    assert_eq!(leak("refused a WorkMarket webhook reason=\"wrong_token\""), None);
}

#[tokio::test]
async fn the_whole_flow_leaks_no_secret() {
    let flow = Flow::start(&RIGHT).await;
    flow.load_examples().await;
    flow.assign_all();
    let bound = flow.drive().await;
    let mut exhibits = Exhibits::default();
    exhibits.add_world(&flow);
    assert!(bound, "every example binding reaches Bound: {:#?}", flow.runtime.store().bindings());
    assert_eq!(flow.runtime.store().bindings().len(), 4);
    // The capture works: webhooks arrived and were logged, down to TRACE.
    let log = logs().text();
    for expected in ["WorkMarket webhook", "1099Policy webhook", "obtained a WorkMarket access token", "TRACE"] {
        assert!(log.contains(expected), "the log has {expected:?}");
    }
    assert!(flow.notices.lock().unwrap().len() > 10);
    exhibits.assert_clean();
}

#[tokio::test]
async fn a_wrong_workmarket_secret_is_named_without_the_secret() {
    let flow = Flow::start(&Config { wm_api_secret: WRONG_WM_API_SECRET, ..RIGHT }).await;
    flow.load_examples().await;
    flow.assign_all();
    let mut exhibits = Exhibits::default();
    let key = ObjectKey::new(NAMESPACE, "cabling-6029116324");
    let error = flow.runtime.reconcile(&key).await.expect_err("WorkMarket refuses the credentials");
    exhibits.add("reconcile error", format!("{error} {error:?} {}", error.category()));
    let (wm, _) = clients(&flow.workmarket, &flow.ten99policy, &Config { wm_api_secret: WRONG_WM_API_SECRET, ..RIGHT });
    let direct = wm.get_assignment("6029116324").await.expect_err("refused");
    exhibits.add("client error", format!("{direct} {direct:?} {}", direct.reason()));
    assert_eq!(direct.reason(), "WorkMarketUnauthorized");

    let (reason, message) = synced(&flow.binding("cabling-6029116324"));
    assert_eq!(reason, "WorkMarketRejected");
    assert!(message.contains("refused the API credentials") && message.contains("WORKMARKET_API_SECRET"), "{message}");
    exhibits.add_world(&flow);
    exhibits.assert_clean();
}

#[tokio::test]
async fn a_wrong_1099policy_key_is_named_without_the_key() {
    let config = Config { t9_api_key: WRONG_T9_API_KEY, ..RIGHT };
    let flow = Flow::start(&config).await;
    flow.load_examples().await;
    flow.assign_all();
    let mut exhibits = Exhibits::default();
    let key = ObjectKey::new(NAMESPACE, "cabling-6029116324");
    let error = flow.runtime.reconcile(&key).await.expect_err("1099Policy refuses the key");
    exhibits.add("reconcile error", format!("{error} {error:?} {}", error.category()));
    let (_, t9) = clients(&flow.workmarket, &flow.ten99policy, &config);
    let direct = t9.list_category_codes().await.expect_err("refused");
    exhibits.add("client error", format!("{direct} {direct:?} {t9:?}"));

    let (reason, message) = synced(&flow.binding("cabling-6029116324"));
    assert_eq!(reason, "Ten99PolicyRejected");
    assert!(message.contains("invalid_api_key"), "{message}");
    flow.runtime.run_until_quiet(Duration::from_millis(300)).await;
    exhibits.add_world(&flow);
    exhibits.assert_clean();
}

#[tokio::test]
async fn refused_webhooks_and_secret_errors_show_no_secret() {
    let config = Config { webhook_token: WRONG_WEBHOOK_TOKEN, webhook_secret: WRONG_WEBHOOK_SECRET, ..RIGHT };
    let flow = Flow::start(&config).await;
    flow.load_examples().await;
    flow.assign_all();
    // Webhooks are refused, so the resync has to notice the assignments.
    flow.workmarket.sandbox.flush_webhooks().await;
    flow.runtime.trigger_all();
    flow.runtime.run_until_quiet(Duration::from_millis(300)).await;
    let session = flow.binding("cabling-6029116324").status.unwrap().application_session_id.expect("a session");
    flow.ten99policy.sandbox.complete_application(&session).unwrap();
    let refused =
        |source: Source| flow.counters.unauthorized[source as usize].load(std::sync::atomic::Ordering::Relaxed);
    support::eventually("a 1099Policy webhook is refused", Duration::from_secs(30), || {
        refused(Source::Ten99Policy) > 0
    })
    .await;
    assert!(refused(Source::WorkMarket) > 0 && refused(Source::Ten99Policy) > 0, "both sides were refused");
    assert!(logs().text().contains("refused a 1099Policy webhook"));

    let mut exhibits = Exhibits::default();
    // Loading secrets wrongly says which variable, never the value.
    let both = |name: &str| Some(if name.ends_with("_FILE") { "/nonexistent".into() } else { WM_API_SECRET.into() });
    let error = secret::from_lookup("WORKMARKET_API_SECRET", both).unwrap_err();
    exhibits.add("secret error", format!("{error} {error:?}"));
    exhibits.add("verifier", format!("{:?}", Verifier::new(Secret::new(T9_WEBHOOK_SECRET))));
    exhibits.add_world(&flow);
    exhibits.assert_clean();
}
