//! The operator against a Kubernetes API that is as unkind as a real one: a restart whose
//! mapping list answers last, an API server that goes away and comes back having forgotten
//! every resource version, RBAC that never lets a cluster-wide list through, and a new leader
//! that finds what the old one made by replaying its creates.

mod support;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use coverbridge::runtime::kube::SHUTDOWN_BOUND;
use serde_json::{Value, json};
use support::cluster::{Cluster, NAMESPACE, binding, free_addr, phase};
use support::kube_api::FakeKube;
use tokio::io::AsyncReadExt;

fn mapping() -> Value {
    json!({"metadata": {"name": "default"}, "spec": {"rules": [{"industry": "Technology", "categoryCode": "jc_MTqpkbkp6G"}]}})
}

/// Requests since `since` that wrote a binding's status, with the binding's name.
fn status_writes(fake: &FakeKube, since: usize) -> Vec<(String, Value)> {
    fake.requests()
        .into_iter()
        .skip(since)
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/status") && r.path.contains("/coveragebindings/"))
        .map(|r| (r.path.rsplit('/').nth(1).unwrap().to_owned(), r.body["status"].clone()))
        .collect()
}

/// Events created since `since`, as (type, reason).
fn events(fake: &FakeKube, since: usize) -> Vec<(String, String)> {
    fake.requests()
        .into_iter()
        .skip(since)
        .filter(|r| r.method == "POST" && r.path.ends_with("/events"))
        .map(|r| {
            (
                r.body["type"].as_str().unwrap_or_default().to_owned(),
                r.body["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// How often WorkMarket was asked for a work order.
fn work_order_reads(cluster: &Cluster) -> usize {
    let calls = cluster.workmarket.sandbox.harness().calls();
    calls.iter().filter(|c| c.method == "GET" && c.path.ends_with("/assignments/get")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_whose_mapping_list_answers_last_changes_no_phase_and_warns_nobody() {
    let fake = FakeKube::start().await;
    let cluster = Cluster::new(fake.clone()).await;
    fake.insert("categorymappings", Some(NAMESPACE), mapping());
    let mut bound = Vec::new();
    for i in 0..50 {
        let (work_order, worker) = cluster.work_order(i);
        let name = format!("bound-{i}");
        fake.insert("coveragebindings", Some(NAMESPACE), binding(&name, &work_order, json!({})));
        bound.push((name, work_order, worker));
    }
    // These have no job yet, so they still read their mapping.
    let waiting: Vec<String> = (50..55)
        .map(|i| {
            let (work_order, _) = cluster.work_order(i);
            let name = format!("waiting-{i}");
            fake.insert("coveragebindings", Some(NAMESPACE), binding(&name, &work_order, json!({})));
            name
        })
        .collect();

    let first = cluster.replica(cluster.settings("pod-a")).await;
    for (_, work_order, worker) in &bound {
        cluster.workmarket.sandbox.assign(work_order, worker).unwrap();
    }
    let within = Duration::from_secs(60);
    for (name, _, _) in &bound {
        let awaiting =
            cluster.wait_for(name, "AwaitingApplication", within, |o| phase(o) == "AwaitingApplication").await;
        let session = awaiting["status"]["applicationSessionId"].as_str().unwrap();
        cluster.ten99policy.sandbox.complete_application(session).unwrap();
    }
    for (name, _, _) in &bound {
        cluster.wait_for(name, "Bound", within, |o| phase(o) == "Bound").await;
    }
    for name in &waiting {
        cluster.wait_for(name, "WaitingForTrigger", within, |o| phase(o) == "WaitingForTrigger").await;
    }
    first.stop().await.unwrap();

    // The restart: every list answers at once but the mappings', which take three seconds.
    fake.delay_lists("categorymappings", Duration::from_secs(3));
    let (since, reads) = (fake.requests().len(), work_order_reads(&cluster));
    let second = cluster.replica(cluster.settings("pod-b")).await;
    support::eventually("every binding is looked at again", Duration::from_secs(30), || {
        work_order_reads(&cluster) >= reads + 55
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let before: HashMap<&str, &str> = bound
        .iter()
        .map(|(name, _, _)| (name.as_str(), "Bound"))
        .chain(waiting.iter().map(|name| (name.as_str(), "WaitingForTrigger")))
        .collect();
    for (name, status) in status_writes(&fake, since) {
        assert_eq!(status["phase"].as_str(), Some(before[name.as_str()]), "{name} changed phase: {status:#}");
        let conditions = status["conditions"].as_array().cloned().unwrap_or_default();
        assert!(!conditions.iter().any(|c| c["type"] == "CategoryUnmapped"), "{name}: {status:#}");
    }
    let warnings: Vec<_> = events(&fake, since).into_iter().filter(|(kind, _)| kind == "Warning").collect();
    assert!(warnings.is_empty(), "warnings after the restart: {warnings:?}");
    for (name, _, _) in &bound {
        assert_eq!(phase(&cluster.binding(name).unwrap()), "Bound");
    }
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_created_as_the_api_server_returns_follows_its_webhook_without_a_resync() {
    let fake = FakeKube::start().await;
    let cluster = Cluster::new(fake.clone()).await;
    let replica = cluster.replica(cluster.settings("pod-a")).await;
    let (work_order, worker) = cluster.work_order(1);

    fake.go_down();
    tokio::time::sleep(Duration::from_secs(20)).await;
    // Back, having forgotten every resource version; the binding relist is slow, so the
    // webhook below arrives while the caches relist.
    fake.delay_lists("coveragebindings", Duration::from_secs(2));
    fake.come_back().await;
    let code = json!({"categoryCode": "jc_MTqpkbkp6G"});
    fake.insert("coveragebindings", Some(NAMESPACE), binding("after", &work_order, code));
    cluster.workmarket.sandbox.assign(&work_order, &worker).unwrap();
    cluster.workmarket.sandbox.flush_webhooks().await;

    // Sweep (2 min) and resync (15 min) are far off: only the watch and the webhook can do it.
    cluster
        .wait_for("after", "AwaitingApplication", Duration::from_secs(15), |o| phase(o) == "AwaitingApplication")
        .await;
    replica.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_that_replays_the_creates_reports_nothing_twice() {
    let fake = FakeKube::start().await;
    let cluster = Cluster::new(fake.clone()).await;
    let code = json!({"categoryCode": "jc_MTqpkbkp6G"});
    fake.insert("coveragebindings", Some(NAMESPACE), binding("cabling", "6029116324", code));
    let first = cluster.replica(cluster.settings("pod-a")).await;
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let within = Duration::from_secs(15);
    let made = cluster.wait_for("cabling", "AwaitingApplication", within, |o| phase(o) == "AwaitingApplication").await;
    first.stop().await.unwrap();

    // The new leader does not see what the old one recorded, so it creates everything again
    // under the same keys, and 1099Policy replays the first answers.
    fake.replace_status("coveragebindings", Some(NAMESPACE), "cabling", json!({}));
    let second = cluster.replica(cluster.settings("pod-b")).await;
    let again = cluster
        .wait_for("cabling", "provisioned again", within, |o| o["status"]["applicationSessionId"].is_string())
        .await;
    for id in ["contractorId", "jobId", "quoteId", "applicationSessionId"] {
        assert_eq!(again["status"][id], made["status"][id], "{id} is the replayed one");
    }
    let stored = fake.list("events");
    for reason in ["ContractorCreated", "JobCreated", "QuoteCreated", "ApplicationStarted"] {
        let reported = stored.iter().filter(|e| e["reason"] == reason).count();
        assert_eq!(reported, 1, "{reason} reported {reported} times");
    }
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_operator_in_time_when_rbac_never_lets_its_caches_sync() {
    let fake = FakeKube::start().await;
    fake.forbid_cluster_scope(true);
    let metrics = free_addr();
    let mut operator = tokio::process::Command::new(env!("CARGO_BIN_EXE_coverbridge"))
        .args(["run", "--log-format", "json", "--workmarket-url", "http://127.0.0.1:9", "--ten99policy-url"])
        .arg("http://127.0.0.1:9")
        .args(["--webhook-addr", &free_addr().to_string(), "--metrics-addr", &metrics.to_string()])
        .env_clear()
        .env("KUBECONFIG", fake.kubeconfig("forbidden"))
        .env("POD_NAMESPACE", "coverbridge-system")
        .env("RUST_LOG", "info")
        .env("WORKMARKET_API_TOKEN", "t")
        .env("WORKMARKET_API_SECRET", "s")
        .env("TEN99POLICY_API_KEY", "k")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    // /readyz says what is wrong, in the words of the log.
    let until = Instant::now() + Duration::from_secs(20);
    let body = loop {
        if let Ok(answer) = reqwest::get(format!("http://{metrics}/readyz")).await {
            let status = answer.status();
            let body = answer.text().await.unwrap();
            if status == 503 && body.contains("forbidden") {
                break body;
            }
        }
        assert!(Instant::now() < until, "/readyz never said why it is not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        body.contains("may not list")
            && body.contains("at the cluster scope")
            && body.contains("COVERBRIDGE_NAMESPACES"),
        "{body}"
    );
    // A few more refused retries, then SIGTERM.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let pid = operator.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let signalled = Instant::now();
    let exit = tokio::time::timeout(SHUTDOWN_BOUND + Duration::from_secs(10), operator.wait())
        .await
        .expect("the operator exits within its shutdown bound")
        .unwrap();
    assert!(exit.success(), "{exit:?} after {:?}", signalled.elapsed());

    let mut log = String::new();
    operator.stderr.take().unwrap().read_to_string(&mut log).await.unwrap();
    let refusals: Vec<&str> =
        log.lines().filter(|l| l.contains("\"level\":\"ERROR\"") && l.contains("forbidden")).collect();
    // One ERROR per refused watch (bindings, mappings, certificate Secrets), not one per retry.
    assert!((1..=3).contains(&refusals.len()), "{} refusals logged:\n{}", refusals.len(), refusals.join("\n"));
    assert!(log.contains("stopped"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_watches_are_followed_again_and_mapping_changes_still_wake_their_bindings() {
    let fake = FakeKube::start().await;
    let cluster = Cluster::new(fake.clone()).await;
    let replica = cluster.replica(cluster.settings("pod-a")).await;
    let (work_order, worker) = cluster.work_order(7);
    cluster.workmarket.sandbox.assign(&work_order, &worker).unwrap();
    fake.insert("coveragebindings", Some(NAMESPACE), binding("late", &work_order, json!({})));
    let within = Duration::from_secs(10);
    let blocked = cluster.wait_for("late", "blocked on its mapping", within, |o| phase(o) == "Pending").await;
    let conditions = blocked["status"]["conditions"].as_array().unwrap();
    assert!(conditions.iter().any(|c| c["type"] == "CategoryUnmapped" && c["reason"] == "MappingNotFound"));

    // Every watch is cut, as a load balancer does; meanwhile the mapping appears.
    fake.cut_watches();
    fake.insert("categorymappings", Some(NAMESPACE), mapping());
    let provisioned = cluster.wait_for("late", "provisioned", within, |o| phase(o) == "AwaitingApplication").await;
    let conditions = provisioned["status"]["conditions"].as_array().unwrap();
    assert!(!conditions.iter().any(|c| c["type"] == "CategoryUnmapped"), "{provisioned:#}");
    replica.stop().await.unwrap();
}

/// 1099Policy POSTs that carried a key an earlier POST carried: writes the idempotency key
/// saved, and that should never have been sent.
fn replayed_posts(cluster: &Cluster) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let calls = cluster.ten99policy.sandbox.harness().calls();
    calls
        .into_iter()
        .filter(|c| c.method == "POST")
        .filter_map(|c| c.idempotency_key.map(|key| (c.path, key)))
        .filter(|(_, key)| !seen.insert(key.clone()))
        .map(|(path, _)| path)
        .collect()
}

/// With watch events arriving late, webhooks keep asking for reconciles while the operator's
/// own status writes are still on their way to its cache: no reconcile acts on the older copy,
/// so no create is sent twice (issue 13: 11 of 3 000 bindings replayed their session POST).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reconcile_acts_on_a_copy_older_than_its_own_last_write() {
    let fake = FakeKube::start().await;
    fake.insert(
        "coveragebindings",
        Some(NAMESPACE),
        binding("cabling", "6029116324", json!({"categoryCode": "jc_MTqpkbkp6G"})),
    );
    let cluster = Cluster::new(fake.clone()).await;
    fake.delay_watch_events(Duration::from_millis(400));
    let replica = cluster.replica(cluster.settings("pod-a")).await;
    cluster
        .wait_for("cabling", "WaitingForTrigger", Duration::from_secs(10), |o| phase(o) == "WaitingForTrigger")
        .await;
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let receiver = format!("http://{}/webhooks/workmarket", cluster.webhook_addr);
    let delivery = r#"{"event":"Accepted","assignment_id":"6029116324","status":"active","now":"1764000000"}"#;
    let client = reqwest::Client::new();
    for _ in 0..30 {
        let sent = client
            .post(&receiver)
            .bearer_auth(support::cluster::TOKEN)
            .header("content-type", "application/json")
            .body(delivery)
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success(), "{}", sent.status());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster
        .wait_for("cabling", "AwaitingApplication", Duration::from_secs(20), |o| phase(o) == "AwaitingApplication")
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let binding_writes: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/coveragebindings/"))
        .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    let finalizer_writes = binding_writes.iter().filter(|last| *last == "cabling").count();
    assert_eq!(finalizer_writes, 1, "one finalizer patch, none from an older copy: {binding_writes:?}");
    assert_eq!(replayed_posts(&cluster), Vec::<String>::new(), "creates sent twice");
    let posts = cluster.ten99policy.sandbox.harness().calls().into_iter().filter(|c| c.method == "POST").count();
    assert_eq!(posts, 4, "contractor, job, quote and session, once each");
    replica.stop().await.unwrap();
}
