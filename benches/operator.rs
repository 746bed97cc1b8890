//! The operator benchmark (issue 13): `coverbridge run` itself, as a child process, against the
//! in-process fake Kubernetes API of the tests and both sandboxes in-process. Objects are shaped
//! as a real API server stores them: `managedFields` for the applying client and for the
//! operator's status field manager, kubectl's last-applied copy, resourceVersions.
//!
//! ```sh
//! cargo bench --bench operator                                   # 1 000 bindings
//! cargo bench --bench operator -- --bindings 10000 --concurrency 64
//! ```
//!
//! Every flag has an environment twin (`--bindings` ↔ `OPERATOR_BINDINGS`, …); `--help` lists
//! them. The scenario: N workers and work orders in WorkMarket, N bindings applied; the operator
//! starts and brings every binding to WaitingForTrigger; then every work order is assigned at
//! once, the simulated worker completes each application as soon as its session is recorded,
//! and the clock runs until every binding is Bound. Then nothing happens for `--rest-secs`, with
//! the operator resyncing every `--resync-secs`, and every write is counted.
//!
//! Memory is the child's own (`/proc/<pid>/status`), so the fake API and the sandboxes, which
//! live in this process, are not in it. Figures and their meaning: `docs/benchmarks.md`.

#[path = "../tests/support/kube_api.rs"]
#[allow(dead_code)]
mod kube_api;

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coverbridge_sandbox::harness::Call;
use coverbridge_sandbox::money::Cents;
use coverbridge_sandbox::ten99policy::seed::{COMPUTER_REPAIR, ENTITY_ID};
use coverbridge_sandbox::ten99policy::{Ten99PolicySandbox, Ten99PolicySandboxConfig};
use coverbridge_sandbox::workmarket::{
    NewWorkOrder, NewWorker, PricingSpec, SandboxAddress, WorkMarketSandbox, WorkMarketSandboxConfig,
};
use kube_api::FakeKube;
use serde_json::{Value, json};

const NAMESPACE: &str = "bench";
const WEBHOOK_TOKEN: &str = "bench-webhook-token";

#[derive(Clone, Debug)]
struct Options {
    bindings: usize,
    concurrency: u16,
    rps: u32,
    rest_secs: u64,
    api_write_ms: u64,
    resync_secs: u64,
    timeout_secs: u64,
}

/// The flags and what they set.
const FLAGS: [(&str, &str); 7] = [
    ("--api-write-ms", "how long the fake API server takes to answer a write (default 10)"),
    ("--bindings", "bindings to converge (default 1000)"),
    ("--concurrency", "the operator's --concurrency (default 16)"),
    ("--rps", "the operator's request rate to each platform (default 1000)"),
    ("--rest-secs", "how long writes are counted at rest (default 60)"),
    ("--resync-secs", "the operator's resync interval (default 20)"),
    ("--timeout-secs", "give up after (default 1800)"),
];

impl Options {
    fn set(&mut self, flag: &str, value: &str) -> Result<(), String> {
        match flag {
            "--bindings" => self.bindings = parse(value)?,
            "--concurrency" => self.concurrency = parse(value)?,
            "--rps" => self.rps = parse(value)?,
            "--rest-secs" => self.rest_secs = parse(value)?,
            "--api-write-ms" => self.api_write_ms = parse(value)?,
            "--resync-secs" => self.resync_secs = parse(value)?,
            "--timeout-secs" => self.timeout_secs = parse(value)?,
            _ => return Err(format!("unknown flag {flag}; --help lists them")),
        }
        Ok(())
    }
}

/// Flags, each with an `OPERATOR_*` environment twin (`--rest-secs` ↔ `OPERATOR_REST_SECS`).
fn options() -> Options {
    let mut options = Options {
        bindings: 1000,
        concurrency: 16,
        rps: 1000,
        rest_secs: 60,
        api_write_ms: 10,
        resync_secs: 20,
        timeout_secs: 1800,
    };
    for (flag, _) in FLAGS {
        let twin = format!("OPERATOR_{}", flag.trim_start_matches("--").replace('-', "_").to_uppercase());
        if let Ok(value) = std::env::var(&twin) {
            options.set(flag, &value).unwrap_or_else(|e| fail(&format!("{twin}: {e}")));
        }
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            println!("cargo bench --bench operator -- [flags]");
            for (flag, help) in FLAGS {
                println!("  {flag} N   {help}");
            }
            std::process::exit(0);
        }
        let value = args.next().unwrap_or_else(|| fail(&format!("{arg} needs a value")));
        options.set(arg, value).unwrap_or_else(|e| fail(&e));
    }
    options
}

fn parse<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{value:?} is not a number"))
}

fn fail(message: &str) -> ! {
    eprintln!("operator bench: {message}");
    std::process::exit(2)
}

/// A loopback address for the child to listen on. The child cannot be handed a listener, so
/// another server could take the port first; it then fails at once, naming the address.
fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `coverbridge`, or under `OPERATOR_WRAP` (a profiler such as `heaptrack`; the RSS figures are
/// then the wrapper's, not the operator's).
fn operator_command() -> tokio::process::Command {
    let operator = env!("CARGO_BIN_EXE_coverbridge");
    match std::env::var("OPERATOR_WRAP") {
        Ok(wrapper) if !wrapper.is_empty() => {
            let mut words = wrapper.split_whitespace();
            let mut command = tokio::process::Command::new(words.next().unwrap_or_default());
            command.args(words).arg(operator);
            command
        }
        _ => tokio::process::Command::new(operator),
    }
}

/// A binding as `kubectl apply` stores it: with its last-applied copy.
fn binding(index: usize, work_order: &str) -> Value {
    let manifest = json!({
        "apiVersion": "coverbridge.io/v1alpha1",
        "kind": "CoverageBinding",
        "metadata": {"name": format!("bench-{index:05}"), "namespace": NAMESPACE},
        "spec": {"workOrderId": work_order, "coverageTypes": ["general"], "entity": ENTITY_ID, "categoryCode": COMPUTER_REPAIR},
    });
    let mut stored = manifest.clone();
    stored["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": format!("{manifest}\n")});
    stored
}

/// Kibibytes of `field` (`VmRSS:`, `VmHWM:`) of process `pid`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// Bindings by phase, and the sessions waiting for their worker.
fn census(fake: &FakeKube) -> (HashMap<String, usize>, Vec<String>) {
    let (mut phases, mut sessions) = (HashMap::new(), Vec::new());
    fake.scan("coveragebindings", |b| {
        let status = &b["status"];
        *phases.entry(status["phase"].as_str().unwrap_or("").to_owned()).or_default() += 1;
        if let (Some(session), true) = (status["applicationSessionId"].as_str(), status["policyId"].is_null()) {
            sessions.push(session.to_owned());
        }
    });
    (phases, sessions)
}

/// Waits until `done` holds for the census, completing applications meanwhile; false on timeout.
async fn converge(
    fake: &FakeKube,
    deadline: Instant,
    mut complete: impl FnMut(&str),
    done: impl Fn(&HashMap<String, usize>) -> bool,
) -> bool {
    let mut completed = HashSet::new();
    loop {
        let (phases, sessions) = census(fake);
        for session in sessions {
            if completed.insert(session.clone()) {
                complete(&session);
            }
        }
        if done(&phases) {
            return true;
        }
        if Instant::now() > deadline {
            eprintln!("operator bench: gave up; phases {phases:?}");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The sum of a counter's samples in a Prometheus scrape.
fn metric_sum(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Writes the fake received (not reads, not the Lease): to bindings, and Events.
fn writes(requests: &[kube_api::Recorded]) -> (usize, usize, usize) {
    let binding_writes = |r: &&kube_api::Recorded| r.method != "GET" && r.path.contains("/coveragebindings");
    let status = requests.iter().filter(binding_writes).filter(|r| r.path.ends_with("/status")).count();
    let other = requests.iter().filter(binding_writes).filter(|r| !r.path.ends_with("/status")).count();
    let events = requests.iter().filter(|r| r.method == "POST" && r.path.ends_with("/events")).count();
    (status, other, events)
}

#[tokio::main]
async fn main() {
    let options = options();
    let n = options.bindings;
    println!(
        "operator bench: {n} bindings, --concurrency {}, {} requests/s to each platform, API writes {} ms, rest {} s (resync every {} s)",
        options.concurrency, options.rps, options.api_write_ms, options.rest_secs, options.resync_secs
    );
    let fake = FakeKube::start().await;
    fake.delay_writes(Duration::from_millis(options.api_write_ms));
    let (webhook_addr, metrics_addr) = (free_addr(), free_addr());
    let receiver = format!("http://{webhook_addr}");
    let workmarket = WorkMarketSandbox::new(WorkMarketSandboxConfig {
        webhook_url: Some(format!("{receiver}/webhooks/workmarket")),
        webhook_token: Some(WEBHOOK_TOKEN.into()),
        ..WorkMarketSandboxConfig::default()
    })
    .start()
    .await
    .expect("the WorkMarket sandbox starts");
    let ten99policy = Ten99PolicySandbox::new(Ten99PolicySandboxConfig {
        webhook_url: Some(format!("{receiver}/webhooks/1099policy")),
        ..Ten99PolicySandboxConfig::default()
    })
    .start()
    .await
    .expect("the 1099Policy sandbox starts");
    let posts: Arc<Mutex<(usize, usize, HashSet<String>)>> = Arc::default();
    ten99policy.sandbox.harness().stream_calls({
        let posts = posts.clone();
        Arc::new(move |call: &Call| {
            if call.method == "POST" {
                let mut posts = posts.lock().unwrap();
                posts.0 += 1;
                if let Some(key) = &call.idempotency_key
                    && !posts.2.insert(key.clone())
                {
                    posts.1 += 1;
                }
            }
        })
    });
    workmarket.sandbox.harness().stream_calls(Arc::new(|_: &Call| {}));

    // The fleet.
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
    for i in 0..n {
        let worker = workmarket
            .sandbox
            .create_worker(NewWorker {
                id: None,
                first_name: "Bench".into(),
                last_name: format!("Worker{i}"),
                email: Some(format!("bench.worker{i}@example.com")),
                phone: Some("+1 415 555 0101".into()),
                address: home.clone(),
            })
            .expect("a valid worker");
        let order = workmarket
            .sandbox
            .create_work_order(NewWorkOrder {
                location: Some(site.clone()),
                ..NewWorkOrder::new(format!("Bench job {i}"), PricingSpec::Flat { price: Cents(32_500) })
            })
            .expect("a valid work order");
        fake.insert("coveragebindings", Some(NAMESPACE), binding(i, &order));
        orders.push((order, worker));
    }

    // The operator.
    let defaults = WorkMarketSandboxConfig::default();
    let started = Instant::now();
    let mut operator = operator_command()
        .args(["run", "--log-format", "json", "--namespaces", NAMESPACE])
        .args(["--workmarket-url", &workmarket.url, "--ten99policy-url", &ten99policy.url])
        .args(["--webhook-addr", &webhook_addr.to_string(), "--metrics-addr", &metrics_addr.to_string()])
        .args(["--concurrency", &options.concurrency.to_string(), "--resync-interval"])
        .arg(format!("{}s", options.resync_secs))
        .args(["--ten99policy-rps", &options.rps.to_string(), "--workmarket-rps", &options.rps.to_string()])
        .args(["--proxy-email-domain", "relay.bench.example"])
        .env_clear()
        .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
        .env("KUBECONFIG", fake.kubeconfig("operator-bench"))
        .env("POD_NAMESPACE", "coverbridge-system")
        .env("RUST_LOG", "warn")
        .env("WORKMARKET_API_TOKEN", &defaults.api_token)
        .env("WORKMARKET_API_SECRET", &defaults.api_secret)
        .env("TEN99POLICY_API_KEY", ten99policy.sandbox.api_key())
        .env("TEN99POLICY_WEBHOOK_SECRET", ten99policy.sandbox.configured_webhook_secret().expose())
        .env("COVERBRIDGE_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("coverbridge runs");
    let pid = operator.id().expect("a running child");
    let deadline = Instant::now() + Duration::from_secs(options.timeout_secs);
    let sandbox = ten99policy.sandbox.clone();
    let complete = |session: &str| {
        if let Err(error) = sandbox.complete_application(session) {
            eprintln!("operator bench: completing {session}: {error}");
        }
    };
    let waiting = converge(&fake, deadline, complete, |p| p.get("WaitingForTrigger") == Some(&n)).await;
    if !waiting {
        std::process::exit(1);
    }
    let to_waiting = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_waiting = status_kib(pid, "VmRSS:");

    // Assign every work order; the clock runs until every binding is Bound.
    let before_converge = fake.request_count();
    let assigning = Instant::now();
    for (order, worker) in &orders {
        workmarket.sandbox.assign(order, worker).expect("the work order takes its worker");
    }
    let bound = converge(&fake, deadline, complete, |p| p.get("Bound") == Some(&n)).await;
    let to_bound = assigning.elapsed();
    if !bound {
        std::process::exit(1);
    }
    let metrics_url = format!("http://{metrics_addr}/metrics");
    let scrape =
        || async { reqwest::get(&metrics_url).await.expect("metrics answer").text().await.unwrap_or_default() };
    // Let the last webhooks land before counting what converging took.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let converged = fake.requests_since(before_converge);
    let (status_writes, binding_writes, events) = writes(&converged);
    let reconciles = metric_sum(&scrape().await, "coverbridge_reconciles_total");
    let (posts_converged, replayed) = {
        let posts = posts.lock().unwrap();
        (posts.0, posts.1)
    };

    // At rest: nothing changes; resyncs come and go.
    let at_rest = fake.request_count();
    tokio::time::sleep(Duration::from_secs(options.rest_secs)).await;
    let rested = fake.requests_since(at_rest);
    let (rest_status, rest_binding, rest_events) = writes(&rested);
    let rest_posts = posts.lock().unwrap().0 - posts_converged;
    let reconciles_rest = metric_sum(&scrape().await, "coverbridge_reconciles_total") - reconciles;
    let (peak, idle_bound) = (status_kib(pid, "VmHWM:"), status_kib(pid, "VmRSS:"));

    let per = |count: f64| count / n as f64;
    println!(
        "operator: peak RSS {}, idle RSS {} (all waiting), {} (all Bound, at rest)",
        mib(peak),
        mib(idle_waiting),
        mib(idle_bound)
    );
    println!("start → all WaitingForTrigger: {:.1} s", to_waiting.as_secs_f64());
    println!(
        "assign → all Bound: {:.1} s, {:.1} bindings/s",
        to_bound.as_secs_f64(),
        n as f64 / to_bound.as_secs_f64()
    );
    println!(
        "per binding, start to Bound: {:.2} reconciles; after assignment: {:.2} status writes, {:.2} other binding writes, {:.2} Events",
        per(reconciles),
        per(status_writes as f64),
        per(binding_writes as f64),
        per(events as f64)
    );
    println!("1099Policy POSTs: {posts_converged}, replayed (an idempotency key sent twice): {replayed}");
    println!(
        "at rest ({} s, {reconciles_rest:.0} reconciles): {rest_status} status writes, {rest_binding} other binding writes, {rest_events} Events, {rest_posts} 1099Policy POSTs",
        options.rest_secs
    );
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = tokio::time::timeout(Duration::from_secs(25), operator.wait()).await;
}
