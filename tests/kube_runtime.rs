//! The operator runtime against an in-process fake of the Kubernetes API, with both sandboxes
//! standing in for the platforms: the exact requests it makes, cleanup for both deletion
//! policies, auto-binding races, leader election and graceful shutdown.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coverbridge::reconcile::{Reconciler, Settings as CoreSettings};
use coverbridge::resources::{CoverageBindingStatus, ObservedWorkOrder};
use coverbridge::runtime::kube::{
    AutoBinder, Considered, Leadership, Operator, Settings, Telemetry, Template, WAKE_ANNOTATION,
};
use coverbridge::secret::Secret;
use coverbridge::webhooks::Credentials;
use coverbridge::workmarket::{PathStyle, WorkMarketClient};
use coverbridge_sandbox::harness::{Fault, FaultRule};
use coverbridge_sandbox::workmarket::{WebhookTemplate, WorkMarketSandbox, WorkMarketSandboxConfig};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use support::WorkMarketSandboxClient;
use support::cluster::{ANY_PORT, Cluster, NAMESPACE, Replica, TOKEN, phase};
use support::kube_api::FakeKube;
use support::world::fast_http;

/// How long a binding may take to reach what a test waits for.
const WITHIN: Duration = Duration::from_secs(15);

/// The sandboxes and one leading replica watching `demo`, auto-binding with `auto_bind`.
async fn operator(fake: FakeKube, auto_bind: Option<Template>) -> (Cluster, Replica) {
    let cluster = Cluster::new(fake).await;
    let replica = cluster.replica(Settings { auto_bind, ..cluster.settings("pod-a") }).await;
    (cluster, replica)
}

/// A binding with the job category set, so no mapping is needed.
fn binding(name: &str, work_order: &str, extra: Value) -> Value {
    let mut spec = json!({"categoryCode": "jc_MTqpkbkp6G"});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    support::cluster::binding(name, work_order, spec)
}

#[tokio::test]
async fn a_binding_reaches_bound_through_both_webhooks_with_the_expected_requests() {
    let fake = FakeKube::start().await;
    fake.insert("coveragebindings", Some("demo"), binding("cabling", "6029116324", json!({})));
    let (cluster, replica) = operator(fake.clone(), None).await;

    // The finalizer must be in place before anything is written to 1099Policy.
    let calls_at_finalizer: Arc<Mutex<Option<usize>>> = Arc::default();
    let (seen, sandbox) = (calls_at_finalizer.clone(), cluster.ten99policy.sandbox.clone());
    fake.on_request(move |request| {
        if request.method == "PATCH"
            && request.content_type.starts_with("application/json-patch")
            && request.body.to_string().contains("finalizers")
        {
            seen.lock().unwrap().get_or_insert(sandbox.harness().calls().iter().filter(|c| c.method == "POST").count());
        }
    });

    let waiting = cluster.wait_for("cabling", "WaitingForTrigger", WITHIN, |o| phase(o) == "WaitingForTrigger").await;
    assert!(waiting["metadata"]["finalizers"].is_null(), "no finalizer before any external write");
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let awaiting =
        cluster.wait_for("cabling", "AwaitingApplication", WITHIN, |o| phase(o) == "AwaitingApplication").await;
    assert_eq!(*calls_at_finalizer.lock().unwrap(), Some(0), "the finalizer came before the first 1099Policy write");
    assert_eq!(awaiting["metadata"]["finalizers"], json!(["coverbridge.io/cleanup"]));
    let session = awaiting["status"]["applicationSessionId"].as_str().unwrap().to_owned();
    cluster.ten99policy.sandbox.complete_application(&session).unwrap();
    let bound = cluster.wait_for("cabling", "Bound", WITHIN, |o| phase(o) == "Bound").await;
    assert_eq!(bound["status"]["policyStatus"], "active");
    // The Event follows the status write that records the transition.
    support::eventually("a PolicyActive event", Duration::from_secs(5), || {
        fake.requests().iter().any(|r| r.path.ends_with("/events") && r.body["reason"] == "PolicyActive")
    })
    .await;

    let requests = fake.requests();
    let finalizer_patches: Vec<_> =
        requests.iter().filter(|r| r.content_type.starts_with("application/json-patch")).collect();
    assert_eq!(finalizer_patches.len(), 1, "added once");
    assert_eq!(finalizer_patches[0].path, "/apis/coverbridge.io/v1alpha1/namespaces/demo/coveragebindings/cabling");
    assert_eq!(
        finalizer_patches[0].body[1],
        json!({"op": "add", "path": "/metadata/finalizers", "value": ["coverbridge.io/cleanup"]})
    );

    let status_writes: Vec<_> =
        requests.iter().filter(|r| r.path.ends_with("/coveragebindings/cabling/status")).collect();
    assert!(!status_writes.is_empty());
    for write in &status_writes {
        assert_eq!(write.method, "PATCH");
        assert!(write.content_type.starts_with("application/apply-patch"), "server-side apply: {}", write.content_type);
        assert!(
            write.query.contains("fieldManager=coverbridge") && write.query.contains("force=true"),
            "{}",
            write.query
        );
        assert_eq!(
            (write.body["apiVersion"].as_str(), write.body["kind"].as_str()),
            (Some("coverbridge.io/v1alpha1"), Some("CoverageBinding"))
        );
        assert!(write.body["status"]["conditions"].is_array(), "the whole status is applied");
    }
    // One write per new id (contractor, job, quote, session: each recorded before the next step),
    // each already carrying the phase it leads to, and one per change seen (waiting, Bound); the
    // controller's own writes do not wake it again.
    let phases: Vec<&str> = status_writes.iter().map(|w| w.body["status"]["phase"].as_str().unwrap_or("")).collect();
    assert_eq!(
        phases,
        ["WaitingForTrigger", "Provisioning", "Provisioning", "Provisioning", "AwaitingApplication", "Bound"],
        "status writes"
    );

    let reasons: Vec<String> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/apis/events.k8s.io/v1/namespaces/demo/events")
        .map(|r| {
            assert_eq!(r.body["regarding"]["name"], "cabling");
            r.body["reason"].as_str().unwrap().to_owned()
        })
        .collect();
    for reason in ["ContractorCreated", "JobCreated", "QuoteCreated", "ApplicationStarted", "PolicyActive"] {
        assert!(reasons.contains(&reason.to_owned()), "event {reason} in {reasons:?}");
    }

    let metrics = replica.metrics().await;
    for line in [
        r#"coverbridge_bindings{phase="Bound"} 1"#,
        r#"coverbridge_webhook_deliveries_total{source="workmarket",result="accepted"}"#,
        r#"coverbridge_webhook_deliveries_total{source="1099policy",result="accepted"}"#,
        r#"coverbridge_external_calls_total{api="1099policy",endpoint="POST /api/v1/jobs",status="201"} 1"#,
        r#"coverbridge_reconciles_total{kind="CoverageBinding",result="success"}"#,
        "coverbridge_time_to_bound_seconds_count 1",
        "coverbridge_work_started_uninsured 0",
    ] {
        assert!(metrics.contains(line), "metrics show {line}:\n{metrics}");
    }
    assert_eq!(reqwest::get(format!("{}/healthz", replica.metrics_url)).await.unwrap().status(), 200);

    replica.stop().await.unwrap();
    let lease = fake.get("leases", Some("coverbridge-system"), "coverbridge").unwrap();
    assert!(lease["spec"]["holderIdentity"].is_null(), "the lease is released on shutdown: {lease:#}");
}

#[tokio::test]
async fn a_follower_passes_webhooks_on_to_the_leader() {
    let fake = FakeKube::start().await;
    fake.insert("coveragebindings", Some("demo"), binding("cabling", "6029116324", json!({})));
    let (cluster, leader) = operator(fake.clone(), None).await;
    cluster.wait_for("cabling", "WaitingForTrigger", WITHIN, |o| phase(o) == "WaitingForTrigger").await;

    // A second replica, which does not lead; WorkMarket delivers to it alone from now on.
    let mut follower = cluster.start(Settings { webhook_addr: ANY_PORT, ..cluster.settings("pod-b") });
    follower.wait_ready().await;
    let webhook_addr = follower.webhook_addr;
    cluster.workmarket.sandbox.clear_webhooks();
    for event in coverbridge::workmarket::webhook::EVENTS {
        let url = format!("http://{webhook_addr}/webhooks/workmarket");
        cluster.workmarket.sandbox.add_webhook(WebhookTemplate::shipped(event, &url, Some(TOKEN))).unwrap();
    }

    // The follower stamps the binding; the leader reconciles it long before any sweep or resync.
    let earlier = cluster.workmarket.sandbox.deliveries().len();
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let awaiting =
        cluster.wait_for("cabling", "AwaitingApplication", WITHIN, |o| phase(o) == "AwaitingApplication").await;
    assert!(awaiting["metadata"]["annotations"][WAKE_ANNOTATION].is_string(), "{awaiting:#}");
    let deliveries = cluster.workmarket.sandbox.deliveries().split_off(earlier);
    assert!(
        !deliveries.is_empty() && deliveries.iter().all(|d| d.url.starts_with(&format!("http://{webhook_addr}/"))),
        "only the follower was told: {deliveries:#?}"
    );
    let wakes: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.body["metadata"]["annotations"][WAKE_ANNOTATION].is_string())
        .collect();
    assert!(!wakes.is_empty(), "the follower patched the wake annotation");
    for wake in &wakes {
        assert_eq!(wake.path, "/apis/coverbridge.io/v1alpha1/namespaces/demo/coveragebindings/cabling");
        assert!(wake.content_type.starts_with("application/merge-patch"), "{}", wake.content_type);
    }

    follower.stop().await.unwrap();
    leader.stop().await.unwrap();
}

#[tokio::test]
async fn deletion_cleans_up_by_policy_and_then_releases() {
    let fake = FakeKube::start().await;
    fake.insert("coveragebindings", Some("demo"), binding("pos", "6029116326", json!({"deletionPolicy": "Cancel"})));
    fake.insert(
        "coveragebindings",
        Some("demo"),
        binding("cabling", "6029116324", json!({"deletionPolicy": "Orphan"})),
    );
    fake.insert("coveragebindings", Some("demo"), binding("idle", "6029116325", json!({"deletionPolicy": "Cancel"})));
    let (cluster, replica) = operator(fake.clone(), None).await;
    cluster.workmarket.sandbox.assign("6029116326", "8823580").unwrap();
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    cluster.wait_for("pos", "Bound", WITHIN, |o| phase(o) == "Bound").await;
    cluster.wait_for("cabling", "AwaitingApplication", WITHIN, |o| phase(o) == "AwaitingApplication").await;
    cluster.wait_for("idle", "WaitingForTrigger", WITHIN, |o| phase(o) == "WaitingForTrigger").await;

    // Never wrote outside: no finalizer, gone at once.
    fake.delete("coveragebindings", Some("demo"), "idle");
    assert!(fake.get("coveragebindings", Some("demo"), "idle").is_none());

    // Cancel: the assignment is cancelled before the binding goes.
    fake.delete("coveragebindings", Some("demo"), "pos");
    support::eventually("the Cancel binding is released", Duration::from_secs(10), || {
        fake.get("coveragebindings", Some("demo"), "pos").is_none()
    })
    .await;
    let cancels: Vec<_> = cluster
        .ten99policy
        .sandbox
        .harness()
        .calls()
        .into_iter()
        .filter(|c| c.path == "/api/v1/assignments/cancel")
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].status, 200);

    // Orphan: nothing is touched; the binding goes.
    let before = cluster.ten99policy.sandbox.harness().calls().iter().filter(|c| c.method == "POST").count();
    fake.delete("coveragebindings", Some("demo"), "cabling");
    support::eventually("the Orphan binding is released", Duration::from_secs(10), || {
        fake.get("coveragebindings", Some("demo"), "cabling").is_none()
    })
    .await;
    let after = cluster.ten99policy.sandbox.harness().calls().iter().filter(|c| c.method == "POST").count();
    assert_eq!(before, after, "Orphan leaves coverage alone");
    replica.stop().await.unwrap();
}

#[tokio::test]
async fn cleanup_holds_the_finalizer_until_it_succeeds() {
    let fake = FakeKube::start().await;
    fake.insert("coveragebindings", Some("demo"), binding("pos", "6029116326", json!({"deletionPolicy": "Cancel"})));
    let (cluster, replica) = operator(fake.clone(), None).await;
    cluster.workmarket.sandbox.assign("6029116326", "8823580").unwrap();
    cluster.wait_for("pos", "Bound", WITHIN, |o| phase(o) == "Bound").await;
    let harness = cluster.ten99policy.sandbox.harness().clone();
    // Two cleanups fail (each tries three times), the third succeeds.
    harness.inject(FaultRule::new("/api/v1/assignments/cancel", Fault::Status { status: 503 }).times(6));
    fake.delete("coveragebindings", Some("demo"), "pos");
    support::eventually("cleanup was attempted", Duration::from_secs(10), || {
        harness.calls().iter().filter(|c| c.path == "/api/v1/assignments/cancel").count() >= 3
    })
    .await;
    let held = fake.get("coveragebindings", Some("demo"), "pos").expect("held while cleanup fails");
    assert_eq!(held["metadata"]["finalizers"], json!(["coverbridge.io/cleanup"]));
    support::eventually("released after the retry succeeded", Duration::from_secs(15), || {
        fake.get("coveragebindings", Some("demo"), "pos").is_none()
    })
    .await;
    let cancels: Vec<u16> =
        harness.calls().iter().filter(|c| c.path == "/api/v1/assignments/cancel").map(|c| c.status).collect();
    assert_eq!(cancels, [503, 503, 503, 503, 503, 503, 200]);
    replica.stop().await.unwrap();
}

#[tokio::test]
async fn auto_binding_creates_one_binding_however_deliveries_race() {
    let fake = FakeKube::start().await;
    let workmarket = WorkMarketSandbox::new(WorkMarketSandboxConfig::default()).start().await.unwrap();
    let client = || workmarket.client(PathStyle::Api, fast_http());
    let template =
        Template::parse("namespace: demo\ncoverageTypes: [general]\nselector:\n  industries: [technology]\n").unwrap();
    let binder = AutoBinder::new(template.clone(), fake.client(), client());
    assert_eq!(binder.consider("6029116324").await.unwrap(), Considered::Skipped, "not assigned yet");
    workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let binder = binder.clone();
            tokio::spawn(async move { binder.consider("6029116324").await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.unwrap());
    }
    let created = outcomes.iter().filter(|o| matches!(o, Considered::Created(_))).count();
    assert_eq!(created, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(o, Considered::Created(n) | Considered::Exists(n) if n == "wo-6029116324"))
    );
    let bindings = fake.list("coveragebindings");
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0]["metadata"]["labels"]["coverbridge.io/auto-created"], "true");
    assert_eq!(bindings[0]["spec"]["workOrderId"], "6029116324");

    // A second replica racing with its own client: still one.
    let other = AutoBinder::new(template, fake.client(), client());
    assert!(matches!(other.consider("6029116324").await.unwrap(), Considered::Exists(_)));
    // The selector keeps others out.
    let marketing =
        Template::parse("namespace: demo\ncoverageTypes: [general]\nselector:\n  industries: [Marketing]\n").unwrap();
    workmarket.sandbox.assign("6029116327", "8823581").unwrap();
    assert_eq!(
        AutoBinder::new(marketing, fake.client(), client()).consider("6029116327").await.unwrap(),
        Considered::Skipped
    );
    assert_eq!(fake.list("coveragebindings").len(), 1);
}

#[tokio::test]
async fn an_accepted_work_order_without_a_binding_gets_one_through_the_operator() {
    let fake = FakeKube::start().await;
    let template =
        Template::parse("namespace: demo\ncoverageTypes: [general]\ncategoryCode: jc_MTqpkbkp6G\nentity: en_Ah3tqYn\n")
            .unwrap();
    let (cluster, replica) = operator(fake.clone(), Some(template)).await;
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let created = cluster
        .wait_for("wo-6029116324", "auto-created and provisioned", WITHIN, |o| phase(o) == "AwaitingApplication")
        .await;
    assert_eq!(created["metadata"]["labels"]["coverbridge.io/auto-created"], "true");
    replica.stop().await.unwrap();
}

#[tokio::test]
async fn one_leader_at_a_time_and_the_lease_moves_when_it_is_released() {
    let fake = FakeKube::start().await;
    let a = Leadership::campaign_with(fake.client(), "ns", "lease", "a", 3, 1).await.unwrap();
    let b = Leadership::campaign_with(fake.client(), "ns", "lease", "b", 3, 1).await.unwrap();
    let leaders = || [*a.is_leader.borrow(), *b.is_leader.borrow()];
    support::eventually("somebody becomes leader", Duration::from_secs(10), || leaders() != [false, false]).await;
    for _ in 0..20 {
        assert_ne!(leaders(), [true, true], "two leaders at once");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (leader, follower, follower_name) = if *a.is_leader.borrow() { (a, b, "b") } else { (b, a, "a") };
    leader.resign().await;
    support::eventually("the follower takes over", Duration::from_secs(10), || *follower.is_leader.borrow()).await;
    assert_eq!(fake.get("leases", Some("ns"), "lease").unwrap()["spec"]["holderIdentity"], follower_name);
    follower.resign().await;
}

#[tokio::test]
async fn shutdown_lets_a_running_reconcile_finish_and_record_what_it_made() {
    let fake = FakeKube::start().await;
    fake.insert("coveragebindings", Some("demo"), binding("cabling", "6029116324", json!({})));
    let (cluster, replica) = operator(fake.clone(), None).await;
    cluster
        .ten99policy
        .sandbox
        .harness()
        .inject(FaultRule::new("/api/v1/jobs", Fault::Latency { millis: 800 }).method("POST"));
    cluster.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    cluster.wait_for("cabling", "contractor recorded", WITHIN, |o| o["status"]["contractorId"].is_string()).await;
    replica.stop().await.unwrap();
    let object = fake.get("coveragebindings", Some("demo"), "cabling").unwrap();
    let jobs = cluster
        .ten99policy
        .sandbox
        .harness()
        .calls()
        .into_iter()
        .filter(|c| c.path == "/api/v1/jobs" && c.method == "POST")
        .count();
    // The job was being created when the stop came: it is finished and recorded, not abandoned.
    assert_eq!(jobs, 1);
    assert!(object["status"]["jobId"].is_string(), "the job the in-flight reconcile made is recorded: {object:#}");
    // Nothing is written after shutdown.
    let writes = fake.requests().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests().len(), writes);
}

/// An operator over `fake` whose platforms are never reached: start-up fails before it asks them.
fn unstartable(fake: &FakeKube, webhook_addr: std::net::SocketAddr) -> Operator {
    let workmarket =
        WorkMarketClient::new("http://127.0.0.1:9", PathStyle::Api, Secret::new("t"), Secret::new("s"), fast_http());
    let ten99 =
        coverbridge::ten99policy::Ten99PolicyClient::new("http://127.0.0.1:9", Secret::new("k"), fast_http()).unwrap();
    let settings = Settings {
        namespaces: vec![],
        webhook_addr,
        metrics_addr: ANY_PORT,
        lease_namespace: "ns".into(),
        lease_name: "coverbridge".into(),
        identity: "pod".into(),
        resync: Duration::from_secs(60),
        sweep_interval: Duration::from_secs(120),
        credentials: Credentials::default(),
        auto_bind: None,
        concurrency: 16,
        certificate_secrets: true,
    };
    let reconciler = Reconciler::new(workmarket.clone(), ten99, CoreSettings::default());
    Operator::new(fake.client(), reconciler, workmarket, settings, Telemetry::new())
}

#[tokio::test]
async fn a_missing_crd_stops_startup_with_the_install_command() {
    let fake = FakeKube::start().await;
    fake.remove_quietly("customresourcedefinitions", None, "categorymappings.coverbridge.io");
    let error = unstartable(&fake, ANY_PORT).run(std::future::pending()).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("categorymappings.coverbridge.io") && message.contains("kubectl apply"), "{message}");
}

#[tokio::test]
async fn a_taken_port_stops_startup_naming_the_listener_and_address() {
    let fake = FakeKube::start().await;
    let taken = support::cluster::listener(ANY_PORT);
    let addr = taken.local_addr().unwrap();
    let error = unstartable(&fake, addr).run(std::future::pending()).await.unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with(&format!("cannot listen for webhooks on {addr}: ")), "{message}");
}

#[tokio::test]
async fn the_sweep_wakes_changed_bindings_and_offers_unbound_work_orders() {
    use coverbridge::runtime::kube::{Fleet, sweep_once};
    use kube::runtime::watcher;
    let workmarket = WorkMarketSandbox::new(WorkMarketSandboxConfig::default()).start().await.unwrap();
    let client = workmarket.client(PathStyle::Api, fast_http());
    let offered = Arc::new(Mutex::new(Vec::new()));
    let record = offered.clone();
    let fleet = Fleet::new(Some(Arc::new(move |id: String| record.lock().unwrap().push(id))));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    fleet.add_trigger(Some("demo".into()), tx);
    let mut covered: coverbridge::resources::CoverageBinding =
        serde_json::from_value(binding("cabling", "6029116324", json!({}))).unwrap();
    covered.metadata.namespace = Some("demo".into());
    fleet.observe(Some("demo"), &watcher::Event::Apply(covered.into()));

    // A lost webhook: later, WorkMarket changed two work orders and told nobody.
    workmarket.sandbox.advance_clock(Duration::from_secs(60)).unwrap();
    let since = workmarket.sandbox.now() - jiff::SignedDuration::from_secs(1);
    workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    workmarket.sandbox.assign("6029116327", "8823581").unwrap();
    let cursor = sweep_once(&client, &fleet, since).await.unwrap();
    assert!(cursor >= since);
    assert_eq!(rx.try_recv().unwrap(), kube::runtime::reflector::ObjectRef::new("cabling").within("demo"));
    assert!(rx.try_recv().is_err(), "each binding once");
    assert_eq!(*offered.lock().unwrap(), ["6029116327"], "the unbound one goes to auto-binding");

    // The woken binding read the work order and recorded when it last changed: a sweep over the
    // same change wakes nothing (its webhook was handled), a later change wakes it again.
    let read = client.get_assignment("6029116324").await.unwrap();
    let mut seen: coverbridge::resources::CoverageBinding =
        serde_json::from_value(binding("cabling", "6029116324", json!({}))).unwrap();
    seen.metadata.namespace = Some("demo".into());
    let observed = ObservedWorkOrder { last_modified: read.last_modified.map(Time), ..Default::default() };
    seen.status = Some(CoverageBindingStatus { work_order: Some(observed), ..Default::default() });
    fleet.observe(Some("demo"), &watcher::Event::Apply(seen.into()));
    sweep_once(&client, &fleet, since).await.unwrap();
    assert!(rx.try_recv().is_err(), "a change the binding has seen wakes nothing");
    workmarket.sandbox.advance_clock(Duration::from_secs(60)).unwrap();
    workmarket.sandbox.check_in("6029116324").unwrap();
    sweep_once(&client, &fleet, since).await.unwrap();
    assert_eq!(rx.try_recv().unwrap(), kube::runtime::reflector::ObjectRef::new("cabling").within("demo"));
}

#[tokio::test]
async fn work_orders_nothing_covers_are_counted_until_a_binding_covers_them() {
    let cluster = Cluster::new(FakeKube::start().await).await;
    let (covered, covered_worker) = cluster.work_order(0);
    let (uncovered, uncovered_worker) = cluster.work_order(1);
    cluster.fake.insert("coveragebindings", Some(NAMESPACE), binding("covered", &covered, json!({})));
    let settings = Settings { sweep_interval: Duration::from_millis(300), ..cluster.settings("pod-a") };
    let replica = cluster.replica(settings).await;
    cluster.workmarket.sandbox.assign(&covered, &covered_worker).unwrap();
    cluster.workmarket.sandbox.assign(&uncovered, &uncovered_worker).unwrap();
    cluster.workmarket.sandbox.check_in(&uncovered).unwrap();

    let gauge = |metrics: &str, name: &str| -> Option<f64> {
        metrics.lines().find(|l| l.starts_with(name))?.rsplit(' ').next()?.parse().ok()
    };
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = replica.metrics().await;
        if gauge(&metrics, "coverbridge_work_orders_uncovered{status=\"inProgress\"}") == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gauge(&metrics, "coverbridge_work_orders_uncovered{status=\"inProgress\"}"), Some(1.0), "{metrics}");
    assert_eq!(gauge(&metrics, "coverbridge_work_orders_uncovered{status=\"active\"}"), Some(0.0), "the covered one");
    assert!(gauge(&metrics, "coverbridge_sweep_last_success_timestamp_seconds").unwrap() > 1.7e9, "{metrics}");
    assert_eq!(gauge(&metrics, "coverbridge_sweep_interval_seconds"), Some(0.0), "whole seconds: {metrics}");

    // A binding for it arrives: covered, and no longer counted.
    cluster.fake.insert("coveragebindings", Some(NAMESPACE), binding("late", &uncovered, json!({})));
    for _ in 0..100 {
        metrics = replica.metrics().await;
        if gauge(&metrics, "coverbridge_work_orders_uncovered{status=\"inProgress\"}") == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gauge(&metrics, "coverbridge_work_orders_uncovered{status=\"inProgress\"}"), Some(0.0), "{metrics}");
    replica.stop().await.unwrap();
}

#[tokio::test]
async fn a_code_1099policy_does_not_know_holds_back_every_write_until_the_mapping_is_fixed() {
    use coverbridge::resources::CategoryMapping;
    use kube::api::{Api, Patch, PatchParams};
    let cluster = Cluster::new(FakeKube::start().await).await;
    let rule = |code: &str| json!({"rules": [{"industry": "Technology", "categoryCode": code}]});
    cluster.fake.insert(
        "categorymappings",
        Some(NAMESPACE),
        json!({"metadata": {"name": "default"}, "spec": rule("jc_Unkn0wn1")}),
    );
    let (order, worker) = cluster.work_order(0);
    // No categoryCode: the mapping named "default" picks it.
    cluster.fake.insert("coveragebindings", Some(NAMESPACE), support::cluster::binding("held", &order, json!({})));
    let replica = cluster.replica(cluster.settings("pod-a")).await;
    cluster.workmarket.sandbox.assign(&order, &worker).unwrap();

    let unknown = |o: &Value| {
        o["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "CategoryUnmapped" && c["reason"] == "UnknownCategoryCode"))
    };
    let held = cluster
        .wait_for("held", "UnknownCategoryCode", Duration::from_secs(20), |o| unknown(o) && phase(o) == "Pending")
        .await;
    let message = held["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "CategoryUnmapped")
        .unwrap()["message"]
        .clone();
    assert!(
        message.as_str().unwrap().contains("jc_Unkn0wn1 (from CategoryMapping default, spec.rules[0] (rule 1))"),
        "{message}"
    );
    let writes: Vec<_> =
        cluster.ten99policy.sandbox.harness().calls().into_iter().filter(|c| c.method != "GET").collect();
    assert!(writes.is_empty(), "not even the contractor: {writes:?}");

    // Fixing the mapping wakes the binding at once.
    let mappings: Api<CategoryMapping> = Api::namespaced(cluster.fake.client(), NAMESPACE);
    let fix = json!({"spec": rule("jc_MTqpkbkp6G")});
    mappings.patch("default", &PatchParams::default(), &Patch::Merge(&fix)).await.unwrap();
    cluster
        .wait_for("held", "AwaitingApplication", Duration::from_secs(20), |o| phase(o) == "AwaitingApplication")
        .await;
    replica.stop().await.unwrap();
}
