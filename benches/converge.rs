//! The convergence benchmark (issue 8): a fleet of CoverageBindings driven to Bound through both
//! in-process sandboxes, their webhooks over real loopback HTTP and the local runtime — the demo,
//! bigger and measured.
//!
//! ```sh
//! cargo bench --bench converge                              # the default scenario
//! cargo bench --bench converge -- --bindings 1000 --rps 100 # 1 000 bindings at 100 requests/s
//! ```
//!
//! Every flag has an environment twin (`--bindings` ↔ `CONVERGE_BINDINGS`, …); `--help` lists
//! them. The scenario: N bindings spread over three paths — a contractor new to 1099Policy
//! (contractor, job, quote, application session, then a policy once the simulated worker
//! completes the application), a returning contractor who already holds a matching policy
//! (coverage by assignment), and a worker with their own certificate (upload, then the
//! simulated reviewer approves). Bindings are applied and observed first; then every work order
//! is assigned at once and the clock runs until every binding is Bound. Then the converged fleet
//! is resynced (every binding triggered again and again) for a while and the writes counted.
//!
//! Calls are counted on the sandboxes' side (the harness streams each call here instead of
//! logging it) and attributed to bindings by what they carry: work order, idempotency key,
//! e-mail or external id. Figures and their meaning: `docs/benchmarks.md`.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coverbridge::http::{HttpClient, HttpSettings};
use coverbridge::reconcile::{Notice, ObjectKey, Reconciler, Settings};
use coverbridge::resources::{
    CertificateSource, CertificateStatus, CoverageBinding, CoverageBindingSpec, CoverageBindingStatus, CoverageType,
    Phase, SecretKeyRef,
};
use coverbridge::runtime::local::{LocalRuntime, Store};
use coverbridge::sandbox_clients::{Ten99PolicySandboxClient, WorkMarketSandboxClient};
use coverbridge::secret::Secret;
use coverbridge::ten99policy::{IdempotencyKey, NewWebhookEndpoint, Verifier};
use coverbridge::webhooks::{self, Bindings, Counters, Credentials};
use coverbridge::workmarket::PathStyle;
use coverbridge_sandbox::harness::{Call, Fault, FaultRule};
use coverbridge_sandbox::money::Cents;
use coverbridge_sandbox::ten99policy::seed::{COMPUTER_REPAIR, ENTITY_ID};
use coverbridge_sandbox::ten99policy::{
    CertificateReview, ReturningContractor, Ten99PolicySandbox, Ten99PolicySandboxConfig,
};
use coverbridge_sandbox::workmarket::{
    NewWorkOrder, NewWorker, PricingSpec, SandboxAddress, WorkMarketSandbox, WorkMarketSandboxConfig,
};

const NAMESPACE: &str = "bench";
const WEBHOOK_TOKEN: &str = "bench-webhook-token";
/// What the 1099Policy endpoint subscribes to: the events that change what a binding shows.
const EVENTS: [&str; 9] = [
    "policy.active",
    "policy.cancelled",
    "policy.expired",
    "policy.reactivated",
    "assignment.cancelled",
    "application.expired",
    "certificate.approved",
    "certificate.flagged",
    "certificate.denied",
];

// ------------------------------------------------------------------------------------------
// Options

#[derive(Clone, Debug)]
struct Options {
    bindings: usize,
    latency_ms: u64,
    rps: u32,
    wm_rps: u32,
    concurrency: usize,
    resync_secs: u64,
    mix: [usize; 3],
    all_events: bool,
    timeout_secs: u64,
    assign_rate: u64,
    worker_delay_ms: u64,
}

const FLAGS: &[(&str, &str, &str, &str)] = &[
    ("--bindings", "CONVERGE_BINDINGS", "300", "bindings in the fleet"),
    ("--latency-ms", "CONVERGE_LATENCY_MS", "10", "simulated latency of every API call, both sandboxes"),
    ("--rps", "CONVERGE_RPS", "100", "coverbridge's 1099Policy client rate limit (requests/s)"),
    ("--wm-rps", "CONVERGE_WM_RPS", "same as --rps", "coverbridge's WorkMarket client rate limit"),
    ("--concurrency", "CONVERGE_CONCURRENCY", "32", "bindings the local runtime reconciles at once"),
    ("--resync-secs", "CONVERGE_RESYNC_SECS", "60", "how long to resync the converged fleet"),
    ("--mix", "CONVERGE_MIX", "1:1:1", "weights of new : returning : own-certificate bindings"),
    ("--all-events", "CONVERGE_ALL_EVENTS", "off", "subscribe the 1099Policy endpoint to every event"),
    ("--timeout-secs", "CONVERGE_TIMEOUT_SECS", "900", "give up converging after this long"),
    ("--assign-rate", "CONVERGE_ASSIGN_RATE", "0", "work orders assigned per second (0: all at once)"),
    ("--worker-delay-ms", "CONVERGE_WORKER_DELAY_MS", "0", "how long the simulated worker and reviewer take"),
];

fn options() -> Options {
    let mut given: HashMap<&str, String> = HashMap::new();
    for (flag, env, _, _) in FLAGS {
        if let Ok(value) = std::env::var(env) {
            given.insert(flag, value);
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--help" || arg == "-h" {
            println!("cargo bench --bench converge -- [flags]\n");
            for (flag, env, default, what) in FLAGS {
                println!("  {flag:<18} {env:<26} {what} (default {default})");
            }
            std::process::exit(0);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg, None),
        };
        match FLAGS.iter().find(|(flag, ..)| *flag == name) {
            Some((flag, ..)) if *flag == "--all-events" => {
                given.insert(flag, inline.unwrap_or_else(|| "on".into()));
            }
            Some((flag, ..)) => {
                let value = match inline {
                    Some(value) => value,
                    None => {
                        i += 1;
                        args.get(i).cloned().unwrap_or_else(|| fail(&format!("{flag} needs a value")))
                    }
                };
                given.insert(flag, value);
            }
            // `cargo bench` passes `--bench`, and maybe a filter: neither means anything here.
            None if arg == "--bench" || !arg.starts_with('-') => {}
            None => fail(&format!("unknown flag {arg} (try --help)")),
        }
        i += 1;
    }
    let number = |flag: &str, default: u64| -> u64 {
        given.get(flag).map_or(default, |v| v.parse().unwrap_or_else(|_| fail(&format!("{flag}: not a number: {v}"))))
    };
    let rps = number("--rps", 100).max(1) as u32;
    let mix: Vec<usize> = given
        .get("--mix")
        .map_or("1:1:1", String::as_str)
        .split(':')
        .map(|w| w.parse().unwrap_or_else(|_| fail("--mix: expected three weights like 1:1:1")))
        .collect();
    if mix.len() != 3 || mix.iter().sum::<usize>() == 0 {
        fail("--mix: expected three weights like 1:1:1");
    }
    Options {
        bindings: number("--bindings", 300).max(1) as usize,
        latency_ms: number("--latency-ms", 10),
        rps,
        wm_rps: number("--wm-rps", rps as u64).max(1) as u32,
        concurrency: number("--concurrency", 32).max(1) as usize,
        resync_secs: number("--resync-secs", 60),
        mix: [mix[0], mix[1], mix[2]],
        all_events: given.get("--all-events").is_some_and(|v| !matches!(v.as_str(), "off" | "0" | "false" | "")),
        timeout_secs: number("--timeout-secs", 900),
        assign_rate: number("--assign-rate", 0),
        worker_delay_ms: number("--worker-delay-ms", 0),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("converge: {message}");
    std::process::exit(2)
}

// ------------------------------------------------------------------------------------------
// The three paths and their documented minimum (docs/benchmarks.md explains each call).

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Path {
    New,
    Returning,
    OwnCertificate,
}

impl Path {
    const ALL: [Path; 3] = [Path::New, Path::Returning, Path::OwnCertificate];

    fn title(self) -> &'static str {
        match self {
            Path::New => "new contractor (quote → application → policy)",
            Path::Returning => "returning contractor (matching policy → assignment)",
            Path::OwnCertificate => "own certificate (upload → approval)",
        }
    }

    /// The fewest calls the core's flow makes for one binding of this path, from apply to Bound.
    fn minimum(self) -> &'static [(&'static str, f64)] {
        const WM_GET: &str = "WorkMarket GET /api/v1/assignments/get";
        match self {
            Path::New => &[
                (WM_GET, 3.0),
                ("1099Policy POST /api/v1/contractors", 1.0),
                ("1099Policy POST /api/v1/jobs", 1.0),
                ("1099Policy POST /api/v1/quotes", 1.0),
                ("1099Policy POST /api/v1/apply/sessions", 1.0),
                ("1099Policy GET /api/v1/policies?quote=", 1.0),
            ],
            Path::Returning => &[
                (WM_GET, 2.0),
                ("1099Policy POST /api/v1/contractors (400)", 1.0),
                ("1099Policy GET /api/v1/contractors?email=", 1.0),
                ("1099Policy POST /api/v1/jobs", 1.0),
                ("1099Policy POST /api/v1/quotes (400)", 1.0),
                ("1099Policy POST /api/v1/assignments", 1.0),
                ("1099Policy GET /api/v1/policies/{id}", 1.0),
            ],
            Path::OwnCertificate => &[
                (WM_GET, 3.0),
                ("1099Policy POST /api/v1/contractors", 1.0),
                ("1099Policy POST /api/v1/files/certificates", 1.0),
                ("1099Policy GET /api/v1/files/certificates/{id}", 1.0),
            ],
        }
    }
}

fn path_of(index: usize, mix: [usize; 3]) -> Path {
    let total: usize = mix.iter().sum();
    let slot = index % total;
    if slot < mix[0] {
        Path::New
    } else if slot < mix[0] + mix[1] {
        Path::Returning
    } else {
        Path::OwnCertificate
    }
}

fn binding_name(index: usize) -> String {
    format!("cb-{index:05}")
}

fn index_of(key: &ObjectKey) -> Option<usize> {
    key.name.strip_prefix("cb-")?.parse().ok()
}

// ------------------------------------------------------------------------------------------
// Call accounting

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Stage {
    Setup = 0,
    Converge = 1,
    Resync = 2,
}

/// What the harnesses' calls are attributed by. Compact (numeric ids as numbers), since it is
/// counted in the process's memory: work orders, workers and binding uids are digits (hex for
/// uids), and e-mails carry the binding's index.
#[derive(Default)]
struct Attribution {
    by_work_order: HashMap<u64, u32>,
    by_worker: HashMap<u64, u32>,
    by_uid: HashMap<u64, u32>,
    /// Returning contractors' seeded policies (read before any status holds them).
    by_policy: HashMap<String, u32>,
}

fn number(id: &str) -> Option<u64> {
    id.parse().ok()
}

/// The store mints uids `00000000-0000-4000-8000-<12 hex digits>`.
fn uid_number(uid: &str) -> Option<u64> {
    u64::from_str_radix(uid.rsplit('-').next()?, 16).ok()
}

fn email(index: usize) -> String {
    format!("worker{index}@bench.example")
}

fn email_index(email: &str) -> Option<usize> {
    email.strip_prefix("worker")?.strip_suffix("@bench.example")?.parse().ok()
}

/// Calls counted by stage, path (`None`: not one binding's) and kind.
type TallyKey = (Stage, Option<Path>, String);
type Tally = BTreeMap<TallyKey, u64>;

struct Accounting {
    stage: AtomicUsize,
    attribution: std::sync::RwLock<Attribution>,
    paths: std::sync::RwLock<Vec<Path>>,
    store: Store,
    tally: Mutex<Tally>,
}

impl Accounting {
    fn stage(&self) -> Stage {
        match self.stage.load(Ordering::SeqCst) {
            0 => Stage::Setup,
            1 => Stage::Converge,
            _ => Stage::Resync,
        }
    }

    fn count(&self, api: &'static str, call: &Call) {
        let kind = kind(api, call);
        let index = self.attribute(api, call);
        let path = index.and_then(|i| self.paths.read().unwrap().get(i).copied());
        *self.tally.lock().unwrap().entry((self.stage(), path, kind)).or_default() += 1;
    }

    fn attribute(&self, api: &'static str, call: &Call) -> Option<usize> {
        let attribution = self.attribution.read().unwrap();
        let query: Vec<(String, String)> =
            call.query.as_deref().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let by_id = |id: &str| self.store.by_external_id(id).first().and_then(index_of);
        let found = |map: &HashMap<u64, u32>, id: Option<u64>| id.and_then(|id| map.get(&id)).map(|i| *i as usize);
        if api == "WorkMarket" {
            return found(&attribution.by_work_order, param("id").and_then(number));
        }
        if let Some(key) = &call.idempotency_key {
            if let Some(worker) = key.strip_prefix("workmarket-worker-") {
                return found(&attribution.by_worker, worker.split(':').next().and_then(number));
            }
            let uid = key.strip_prefix("cb:").and_then(|rest| rest.split(':').next());
            return found(&attribution.by_uid, uid.and_then(uid_number));
        }
        if let Some(email) = param("email") {
            return email_index(email);
        }
        if let Some(quote) = param("quote") {
            return by_id(quote);
        }
        let id = call.path.rsplit('/').next().filter(|s| is_id(s))?;
        attribution.by_policy.get(id).map(|i| *i as usize).or_else(|| by_id(id))
    }

    fn tally(&self) -> Tally {
        self.tally.lock().unwrap().clone()
    }
}

/// `pl_Ab12…`, `ias_01…`: an object id rather than a path word.
fn is_id(segment: &str) -> bool {
    match segment.split_once('_') {
        Some((prefix, rest)) => {
            (2..=3).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_lowercase()) && !rest.is_empty()
        }
        None => false,
    }
}

/// API, method and endpoint pattern (ids as `{id}`, list filters by name), and the status when
/// it is not a success: `1099Policy POST /api/v1/quotes (400)`.
fn kind(api: &str, call: &Call) -> String {
    let path: Vec<&str> = call.path.split('/').map(|s| if is_id(s) { "{id}" } else { s }).collect();
    let mut kind = format!("{api} {} {}", call.method, path.join("/"));
    let skip = ["limit", "starting_after", "ending_before", "id", "access_token"];
    let filters: Vec<String> = call
        .query
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, _)| format!("{k}="))
        .collect();
    if !filters.is_empty() {
        kind.push('?');
        kind.push_str(&filters.join("&"));
    }
    if !(200..300).contains(&call.status) {
        kind.push_str(&format!(" ({})", call.status));
    }
    kind
}

// ------------------------------------------------------------------------------------------
// Watching the fleet: the store tells us every status written.

struct Watch {
    base: Instant,
    /// Nanoseconds after `base` each work order was assigned / its binding first showed Bound
    /// (0: not yet).
    assigned_at: Vec<AtomicU64>,
    bound_at: Vec<AtomicU64>,
    waiting: Vec<AtomicBool>,
    acted: Vec<AtomicBool>,
    bound: AtomicUsize,
    ready_for_trigger: AtomicUsize,
    failed: Mutex<BTreeMap<String, u64>>,
    actions: tokio::sync::mpsc::UnboundedSender<Action>,
}

enum Action {
    CompleteApplication(String),
    ApproveCertificate(String),
}

impl Watch {
    fn nanos(&self) -> u64 {
        (self.base.elapsed().as_nanos() as u64).max(1)
    }

    fn saw(&self, key: &ObjectKey, status: &CoverageBindingStatus) {
        let Some(i) = index_of(key).filter(|i| *i < self.bound_at.len()) else { return };
        match status.phase {
            Some(Phase::WaitingForTrigger) if !self.waiting[i].swap(true, Ordering::SeqCst) => {
                self.ready_for_trigger.fetch_add(1, Ordering::SeqCst);
            }
            Some(Phase::Bound)
                if self.bound_at[i].compare_exchange(0, self.nanos(), Ordering::SeqCst, Ordering::SeqCst).is_ok() =>
            {
                self.bound.fetch_add(1, Ordering::SeqCst);
            }
            Some(Phase::Failed) => {
                let reason = status
                    .conditions
                    .iter()
                    .find(|c| c.type_ == "Ready")
                    .map_or_else(|| "?".to_owned(), |c| format!("{}: {}", c.reason, c.message));
                *self.failed.lock().unwrap().entry(reason).or_default() += 1;
            }
            _ => {}
        }
        // The simulated worker and reviewer act as soon as the status asks them to.
        if let (Some(session), None) = (&status.application_session_id, &status.policy_id)
            && !self.acted[i].swap(true, Ordering::SeqCst)
        {
            let _ = self.actions.send(Action::CompleteApplication(session.clone()));
        }
        if let (Some(id), Some(CertificateStatus::Pending)) = (&status.certificate_id, status.certificate_status)
            && !self.acted[i].swap(true, Ordering::SeqCst)
        {
            let _ = self.actions.send(Action::ApproveCertificate(id.clone()));
        }
    }
}

// ------------------------------------------------------------------------------------------

fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn http(rps: u32) -> HttpClient {
    HttpClient::new(HttpSettings {
        requests_per_second: NonZeroU32::new(rps).expect("at least 1"),
        ..HttpSettings::default()
    })
}

fn binding(index: usize, work_order: &str, path: Path) -> CoverageBinding {
    let certificate = (path == Path::OwnCertificate).then(|| CertificateSource {
        secret_ref: SecretKeyRef { name: "bench-coi".into(), key: "certificate.pdf".into() },
    });
    let spec = CoverageBindingSpec {
        entity: Some(ENTITY_ID.into()),
        category_code: Some(COMPUTER_REPAIR.into()),
        certificate,
        ..CoverageBindingSpec::new(work_order, vec![CoverageType::General])
    };
    CoverageBinding::new(&binding_name(index), spec)
}

const CERTIFICATE_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: bench-coi}\nstringData:\n  certificate.pdf: \"%PDF-1.4 bench certificate of insurance\"\n";

/// Polls `done` until it holds (`true`) or `deadline` passes (`false`; said on stderr unless
/// `what` is empty).
async fn wait_for(what: &str, deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    while !done() {
        if Instant::now() >= deadline {
            if !what.is_empty() {
                eprintln!("converge: gave up waiting for {what}");
            }
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::main]
async fn main() {
    tokio::spawn(run()).await.expect("the benchmark runs");
}

async fn run() {
    let options = options();
    let n = options.bindings;
    let paths: Vec<Path> = (0..n).map(|i| path_of(i, options.mix)).collect();
    let uptime_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "converge: {n} bindings, latency {} ms, 1099Policy limit {} req/s, WorkMarket limit {} req/s, concurrency {}, mix {:?}, {}, worker and reviewer act after {} ms{}",
        options.latency_ms,
        options.rps,
        options.wm_rps,
        options.concurrency,
        options.mix,
        match options.assign_rate {
            0 => "all assigned at once".to_owned(),
            rate => format!("{rate} assignments/s"),
        },
        options.worker_delay_ms,
        if options.all_events { ", every 1099Policy event" } else { "" }
    );

    // Both sandboxes, and where their webhooks go.
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let receiver_url = format!("http://{}", receiver.local_addr().unwrap());
    let workmarket = WorkMarketSandbox::new(WorkMarketSandboxConfig {
        webhook_url: Some(format!("{receiver_url}/webhooks/workmarket")),
        webhook_token: Some(WEBHOOK_TOKEN.into()),
        ..WorkMarketSandboxConfig::default()
    })
    .start()
    .await
    .expect("the WorkMarket sandbox starts");
    let ten99policy = Ten99PolicySandbox::new(Ten99PolicySandboxConfig::default())
        .start()
        .await
        .expect("the 1099Policy sandbox starts");
    // Empty events: every event.
    let events = if options.all_events { Vec::new() } else { EVENTS.map(str::to_owned).to_vec() };
    let endpoint = NewWebhookEndpoint { url: format!("{receiver_url}/webhooks/1099policy"), description: None, events };
    let webhook_secret = ten99policy
        .client(http(options.rps))
        .create_webhook_endpoint(&endpoint, &IdempotencyKey::new("bench-endpoint"))
        .await
        .expect("the webhook endpoint registers")
        .secret
        .expect("the endpoint has a secret");
    if options.latency_ms > 0 {
        let latency = Fault::Latency { millis: options.latency_ms };
        workmarket.sandbox.harness().inject(FaultRule::new("/", latency.clone()));
        ten99policy.sandbox.harness().inject(FaultRule::new("/", latency));
    }

    // The operator side: store, reconciler, runtime, webhook receiver.
    let store = Store::new();
    let accounting = Arc::new(Accounting {
        stage: AtomicUsize::new(Stage::Setup as usize),
        attribution: Default::default(),
        paths: std::sync::RwLock::new(paths.clone()),
        store: store.clone(),
        tally: Mutex::default(),
    });
    for (api, harness) in [("WorkMarket", workmarket.sandbox.harness()), ("1099Policy", ten99policy.sandbox.harness())]
    {
        let accounting = accounting.clone();
        harness.stream_calls(Arc::new(move |call: &Call| accounting.count(api, call)));
    }
    let (actions, mut to_do) = tokio::sync::mpsc::unbounded_channel();
    let watch = Arc::new(Watch {
        base: Instant::now(),
        assigned_at: (0..n).map(|_| AtomicU64::new(0)).collect(),
        bound_at: (0..n).map(|_| AtomicU64::new(0)).collect(),
        waiting: (0..n).map(|_| AtomicBool::new(false)).collect(),
        acted: (0..n).map(|_| AtomicBool::new(false)).collect(),
        bound: AtomicUsize::new(0),
        ready_for_trigger: AtomicUsize::new(0),
        failed: Mutex::default(),
        actions,
    });
    store.observe_status({
        let watch = watch.clone();
        Arc::new(move |key: &ObjectKey, status: &CoverageBindingStatus| watch.saw(key, status))
    });
    let wm_client = workmarket.client(PathStyle::Api, http(options.wm_rps));
    let settings = Settings { proxy_email_domain: Some("relay.bench.example".into()), ..Settings::default() };
    let reconciler = Reconciler::new(wm_client, ten99policy.client(http(options.rps)), settings);
    let warnings: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let sink = {
        let warnings = warnings.clone();
        Arc::new(move |_: &ObjectKey, notice: &Notice| {
            if notice.warning {
                *warnings.lock().unwrap().entry(format!("{}: {}", notice.reason, notice.message)).or_default() += 1;
            }
        })
    };
    let runtime = LocalRuntime::new(store.clone(), reconciler, sink).with_concurrency(options.concurrency);
    let credentials = Credentials {
        workmarket_token: Some(Secret::new(WEBHOOK_TOKEN)),
        ten99policy: Some(Verifier::new(webhook_secret)),
    };
    let app = webhooks::router(Arc::new(runtime.clone()), credentials, Arc::new(Counters::default()));
    let server = tokio::spawn(async move { axum::serve(receiver, app).await });
    let worker = tokio::spawn({
        let runtime = runtime.clone();
        async move { runtime.run().await }
    });
    // The simulated worker and reviewer.
    let player = tokio::spawn({
        let sandbox = ten99policy.sandbox.clone();
        let delay = Duration::from_millis(options.worker_delay_ms);
        async move {
            while let Some(action) = to_do.recv().await {
                let sandbox = sandbox.clone();
                let act = move || match &action {
                    Action::CompleteApplication(session) => sandbox.complete_application(session).map(drop),
                    Action::ApproveCertificate(id) => {
                        sandbox.review_certificate(id, CertificateReview::Approve).map(drop)
                    }
                };
                let report = |result: Result<(), coverbridge_sandbox::ten99policy::ApiError>| {
                    if let Err(error) = result {
                        eprintln!("converge: the simulated worker or reviewer failed: {error}");
                    }
                };
                if delay.is_zero() {
                    report(act());
                } else {
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        report(act());
                    });
                }
            }
        }
    });

    // Where the resident set peaks: sampled every 20 ms, by stage.
    let rss_peaks: Arc<Mutex<[u64; 3]>> = Arc::default();
    let sampler = tokio::spawn({
        let (peaks, accounting) = (rss_peaks.clone(), accounting.clone());
        async move {
            loop {
                if let Some(rss) = rss_kib() {
                    let stage = accounting.stage() as usize;
                    let mut peaks = peaks.lock().unwrap();
                    peaks[stage] = peaks[stage].max(rss);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });

    // The fleet: workers (returning ones with a policy), work orders, bindings.
    let setup_started = Instant::now();
    let home = SandboxAddress {
        line1: "100 Market St".into(),
        city: "San Francisco".into(),
        state: "California".into(),
        postal_code: "94105".into(),
        country: "USA".into(),
    };
    let site = SandboxAddress {
        line1: "150 W San Carlos St".into(),
        city: "San Jose".into(),
        state: "CA".into(),
        postal_code: "95113".into(),
        country: "USA".into(),
    };
    let mut orders = Vec::with_capacity(n);
    {
        let mut attribution = accounting.attribution.write().unwrap();
        for (i, path) in paths.iter().enumerate() {
            let email = email(i);
            let worker = workmarket
                .sandbox
                .create_worker(NewWorker {
                    id: None,
                    first_name: "Bench".into(),
                    last_name: format!("Worker{i}"),
                    email: Some(email.clone()),
                    phone: Some("+1 415 555 0101".into()),
                    address: home.clone(),
                })
                .expect("a valid worker");
            if *path == Path::Returning {
                let returning = ten99policy
                    .sandbox
                    .add_returning_contractor(ReturningContractor {
                        first_name: "Bench".into(),
                        last_name: format!("Worker{i}"),
                        email: email.clone(),
                        phone: "+1 415 555 0101".into(),
                        address: coverbridge_sandbox::ten99policy::Address {
                            line1: Some(home.line1.clone()),
                            locality: Some(home.city.clone()),
                            region: Some("CA".into()),
                            postalcode: Some(home.postal_code.clone()),
                            country: Some("US".into()),
                            ..coverbridge_sandbox::ten99policy::Address::default()
                        },
                        workmarket_worker_id: Some(worker.clone()),
                        entity: ENTITY_ID.into(),
                        category_code: COMPUTER_REPAIR.into(),
                        coverage: vec![coverbridge_sandbox::ten99policy::CoverageType::General],
                    })
                    .expect("a returning contractor");
                attribution.by_policy.insert(returning.policy_id, i as u32);
            }
            let order = workmarket
                .sandbox
                .create_work_order(NewWorkOrder {
                    location: Some(site.clone()),
                    ..NewWorkOrder::new(format!("Bench job {i}"), PricingSpec::Flat { price: Cents(32_500) })
                })
                .expect("a valid work order");
            let (order, worker) = (number(&order).expect("assignment numbers"), number(&worker).expect("user numbers"));
            attribution.by_work_order.insert(order, i as u32);
            attribution.by_worker.insert(worker, i as u32);
            orders.push((order, worker));
        }
    }
    runtime.apply(CERTIFICATE_SECRET, NAMESPACE).await.expect("the certificate Secret applies");
    let mut keys = Vec::with_capacity(n);
    for (i, (order, _)) in orders.iter().enumerate() {
        keys.push(store.apply_binding(binding(i, &order.to_string(), paths[i]), NAMESPACE));
    }
    {
        let mut attribution = accounting.attribution.write().unwrap();
        for (i, key) in keys.iter().enumerate() {
            let uid = store.binding(key).and_then(|b| b.metadata.uid).expect("the store gives every binding a uid");
            attribution.by_uid.insert(uid_number(&uid).expect("uids end in hex digits"), i as u32);
        }
    }
    runtime.trigger(keys);
    let deadline = Instant::now() + Duration::from_secs(options.timeout_secs);
    let ready = wait_for("every binding to wait for its trigger", deadline, || {
        watch.ready_for_trigger.load(Ordering::SeqCst) == n && runtime.is_idle()
    })
    .await;
    workmarket.sandbox.flush_webhooks().await;
    let setup = setup_started.elapsed();
    if !ready {
        std::process::exit(1);
    }
    let rss_fleet = rss_kib();

    // Assign every work order at once; the clock runs until every binding is Bound.
    accounting.stage.store(Stage::Converge as usize, Ordering::SeqCst);
    let started = watch.nanos();
    let assigning = Instant::now();
    for (i, (order, worker)) in orders.iter().enumerate() {
        if options.assign_rate > 0 {
            let due = assigning + Duration::from_secs_f64(i as f64 / options.assign_rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        watch.assigned_at[i].store(watch.nanos(), Ordering::SeqCst);
        workmarket.sandbox.assign(&order.to_string(), &worker.to_string()).expect("the work order takes its worker");
    }
    let converged = wait_for("every binding to be Bound", deadline, || watch.bound.load(Ordering::SeqCst) == n).await;
    let finished = (0..n).map(|i| watch.bound_at[i].load(Ordering::SeqCst)).max().unwrap_or(0);
    let elapsed = Duration::from_nanos(finished.saturating_sub(started));
    let peak_converged = peak_rss_kib();
    let (anon_converged, file_converged) = (status_kib("RssAnon:"), status_kib("RssFile:"));
    let reconciles_converge = runtime.reconciles();
    // Let the last webhooks and reconciles finish before the resync is counted.
    wait_for("the runtime to settle", Instant::now() + Duration::from_secs(30), || runtime.is_idle()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    wait_for("the runtime to settle", Instant::now() + Duration::from_secs(30), || runtime.is_idle()).await;
    let reconciles_settled = runtime.reconciles();

    // Resync the converged fleet: trigger every binding, wait for the queue to drain, repeat.
    accounting.stage.store(Stage::Resync as usize, Ordering::SeqCst);
    let resync_started = Instant::now();
    let resync_until = resync_started + Duration::from_secs(options.resync_secs);
    let mut sweeps = 0;
    while Instant::now() < resync_until {
        runtime.trigger_all();
        // The last sweep may outlast the window; it is waited for below.
        if wait_for("", resync_until, || runtime.is_idle()).await {
            sweeps += 1;
        }
    }
    // At a low limit one sweep of a big fleet outlasts the window; it is finished, not cut.
    let sweep_deadline = Instant::now() + Duration::from_secs(options.timeout_secs);
    wait_for("the last resync sweep", sweep_deadline, || runtime.is_idle()).await;
    let resync_elapsed = resync_started.elapsed();
    let reconciles_resync = runtime.reconciles() - reconciles_settled;
    let peak_end = peak_rss_kib();
    let uptime_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    worker.abort();
    server.abort();
    player.abort();
    sampler.abort();

    // ---------------------------------------------------------------------------------------
    // Report.
    let tally = accounting.tally();
    let per_path = |path: Path| paths.iter().filter(|p| **p == path).count();
    let sum =
        |filter: &dyn Fn(&TallyKey) -> bool| -> u64 { tally.iter().filter(|(k, _)| filter(k)).map(|(_, v)| *v).sum() };
    let writes =
        |stage: Stage, api: &str| sum(&|(s, _, kind)| *s == stage && kind.starts_with(api) && !kind.contains(" GET "));
    let calls = |stage: Stage, api: &str| sum(&|(s, _, kind)| *s == stage && kind.starts_with(api));

    println!();
    println!("setup: {n} bindings applied and observed (WaitingForTrigger) in {:.1}s", setup.as_secs_f64());
    if !converged {
        println!("NOT CONVERGED: {} of {n} bindings Bound", watch.bound.load(Ordering::SeqCst));
    }
    let seconds = elapsed.as_secs_f64();
    println!("converged: {n} bindings Bound {seconds:.2}s after the first assignment");
    println!("  bindings per second      {:.1}", n as f64 / seconds);
    let t99_writes = writes(Stage::Converge, "1099Policy");
    let t99_calls = calls(Stage::Converge, "1099Policy");
    let burst = options.rps as f64;
    let write_bound = t99_writes as f64 / options.rps as f64;
    let call_bound = (t99_calls as f64 - burst).max(0.0) / options.rps as f64;
    println!(
        "  1099Policy calls         {t99_calls} ({t99_writes} writes, {} reads) at {} req/s",
        t99_calls - t99_writes,
        options.rps
    );
    println!(
        "  bound (writes ÷ limit)   {write_bound:.2}s → ratio {:.2}",
        if write_bound > 0.0 { seconds / write_bound } else { f64::NAN }
    );
    println!(
        "  bound (all 1099Policy calls less the {burst:.0}-call burst ÷ limit) {call_bound:.2}s → ratio {:.2}",
        if call_bound > 0.0 { seconds / call_bound } else { f64::NAN }
    );
    println!(
        "  reconciles               {reconciles_converge} until the last Bound, {} per binding once settled",
        fmt_ratio((reconciles_settled) as f64 / n as f64)
    );

    let mut latencies: BTreeMap<Path, Vec<f64>> = BTreeMap::new();
    for (i, path) in paths.iter().enumerate() {
        let (a, b) = (watch.assigned_at[i].load(Ordering::SeqCst), watch.bound_at[i].load(Ordering::SeqCst));
        if a > 0 && b > a {
            latencies.entry(*path).or_default().push((b - a) as f64 / 1e6);
        }
    }
    let mut all: Vec<f64> = latencies.values().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    println!("\nassigned → Bound (ms)            p50       p99       max");
    println!(
        "  all                       {:>9.0} {:>9.0} {:>9.0}",
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        percentile(&all, 100.0)
    );
    for (path, values) in &mut latencies {
        values.sort_by(f64::total_cmp);
        println!(
            "  {:<25} {:>9.0} {:>9.0} {:>9.0}",
            format!("{path:?}"),
            percentile(values, 50.0),
            percentile(values, 99.0),
            percentile(values, 100.0)
        );
    }

    println!("\nexternal calls per binding, apply → Bound (setup + converge), against the documented minimum");
    let mut at_minimum = true;
    for path in Path::ALL {
        let count = per_path(path);
        if count == 0 {
            continue;
        }
        println!("  {} — {count} bindings", path.title());
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for ((stage, p, kind), value) in &tally {
            if *stage != Stage::Resync && *p == Some(path) {
                *kinds.entry(kind.clone()).or_default() += value;
            }
        }
        for (kind, _) in path.minimum() {
            kinds.entry((*kind).to_owned()).or_default();
        }
        for (kind, value) in &kinds {
            let measured = *value as f64 / count as f64;
            let minimum = path.minimum().iter().find(|(k, _)| k == kind).map_or(0.0, |(_, m)| *m);
            let mark = if (measured - minimum).abs() < 1e-9 { "=" } else { "≠" };
            if mark != "=" {
                at_minimum = false;
            }
            println!("    {kind:<52} {:>7} {mark} {minimum}", fmt_ratio(measured));
        }
        let total: u64 = kinds.values().sum();
        let minimum: f64 = path.minimum().iter().map(|(_, m)| m).sum();
        println!("    {:<52} {:>7}   {minimum}", "total", fmt_ratio(total as f64 / count as f64));
    }
    let unattributed: Vec<(String, u64)> = tally
        .iter()
        .filter(|((stage, p, _), _)| *stage != Stage::Resync && p.is_none())
        .map(|((s, _, k), v)| (format!("{s:?} {k}"), *v))
        .collect();
    println!(
        "  fleet-wide, not per binding: {}",
        if unattributed.is_empty() {
            "none".to_owned()
        } else {
            unattributed.iter().map(|(k, v)| format!("{k} ×{v}")).collect::<Vec<_>>().join(", ")
        }
    );
    println!("  every path at its minimum: {}", if at_minimum { "yes" } else { "NO" });

    println!(
        "\nresync of the converged fleet: {:.0}s, {sweeps} full sweeps, {reconciles_resync} reconciles",
        resync_elapsed.as_secs_f64()
    );
    println!(
        "  calls: WorkMarket {} (writes {}), 1099Policy {} (writes {})",
        calls(Stage::Resync, "WorkMarket"),
        writes(Stage::Resync, "WorkMarket"),
        calls(Stage::Resync, "1099Policy"),
        writes(Stage::Resync, "1099Policy")
    );
    println!(
        "  write calls during resync: {}",
        writes(Stage::Resync, "WorkMarket") + writes(Stage::Resync, "1099Policy")
    );
    let mut resync: BTreeMap<&str, u64> = BTreeMap::new();
    for ((stage, _, kind), value) in &tally {
        if *stage == Stage::Resync {
            *resync.entry(kind.as_str()).or_default() += value;
        }
    }
    for (kind, value) in resync {
        println!("    {kind:<60} {value}");
    }

    println!("\nmemory (whole process: operator, both sandboxes, receiver)");
    let peaks = *rss_peaks.lock().unwrap();
    println!("  RSS with the fleet applied   {}", mib(rss_fleet));
    println!(
        "  highest RSS sampled (20 ms) in setup / converge / resync: {} / {} / {}",
        mib(Some(peaks[0])),
        mib(Some(peaks[1])),
        mib(Some(peaks[2]))
    );
    println!(
        "  peak RSS at convergence      {} (resident then: {} anonymous, {} file-backed)",
        mib(peak_converged),
        mib(anon_converged),
        mib(file_converged)
    );
    println!("  peak RSS at the end (VmHWM)  {}", mib(peak_end));
    println!("\nload average before: {}  after: {}", uptime_before.trim(), uptime_after.trim());

    let failed = watch.failed.lock().unwrap();
    if !failed.is_empty() {
        println!("\nbindings seen Failed:");
        for (reason, count) in failed.iter() {
            println!("  {count} × {reason}");
        }
    }
    let warnings = warnings.lock().unwrap();
    if !warnings.is_empty() {
        println!("\nwarnings:");
        for (warning, count) in warnings.iter().take(10) {
            println!("  {count} × {warning}");
        }
    }
    if !converged {
        std::process::exit(1);
    }
}

fn fmt_ratio(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 { format!("{value:.0}") } else { format!("{value:.3}") }
}
