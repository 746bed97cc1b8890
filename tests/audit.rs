//! `coverbridge audit` as compliance runs it: the binary over real HTTP against both sandboxes
//! after the operator's own flows have run (the local runtime, as the demo drives it), without a
//! cluster and with one (the fake Kubernetes API). Read-only: the call logs prove it.

mod support;

use std::process::Output;

use coverbridge_sandbox::ten99policy::CertificateReview;
use serde_json::{Value, json};
use support::kube_api::FakeKube;
use support::world::World;

/// Runs `coverbridge audit` with `args` against the world's sandboxes.
async fn audit(world: &World, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = support::platforms::coverbridge("audit", &world.workmarket, &world.ten99policy);
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().await.expect("coverbridge runs")
}

/// The demo's four engagements: three covered (a new policy, an assignment under a returning
/// worker's policy, an approved certificate) and one assigned with no binding at all.
async fn engagements() -> World {
    let world = World::start().await;
    for file in
        ["category-mapping.yaml", "binding-flat-fee.yaml", "binding-returning-worker.yaml", "binding-own-coi.yaml"]
    {
        world.apply_example(file).await;
    }
    let wm = &world.workmarket.sandbox;
    for (order, worker) in
        [("6029116324", "8823578"), ("6029116325", "8823579"), ("6029116326", "8823580"), ("6029116327", "8823581")]
    {
        wm.assign(order, worker).unwrap();
    }
    world.settle().await;
    let session = world.status("cabling-6029116324").application_session_id.unwrap();
    world.ten99policy.sandbox.complete_application(&session).unwrap();
    let certificate = world.status("repair-6029116327").certificate_id.unwrap();
    world.ten99policy.sandbox.review_certificate(&certificate, CertificateReview::Approve).unwrap();
    world.settle().await;
    for name in ["cabling-6029116324", "pos-install-6029116326", "repair-6029116327"] {
        assert_eq!(world.status(name).phase, Some(coverbridge::resources::Phase::Bound), "{name}");
    }
    world.ten99policy.sandbox.harness().clear_calls();
    world.workmarket.sandbox.harness().clear_calls();
    world
}

fn rows(output: &Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    });
    report["rows"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], work_order: &str) -> &'a Value {
    rows.iter().find(|r| r["workOrderId"] == work_order).unwrap_or_else(|| panic!("no row for {work_order}: {rows:#?}"))
}

fn assert_read_only(world: &World) {
    let calls: Vec<String> = world
        .workmarket
        .sandbox
        .harness()
        .calls()
        .into_iter()
        .chain(world.ten99policy.sandbox.harness().calls())
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert!(!calls.is_empty());
    let writes: Vec<&String> =
        calls.iter().filter(|c| !c.starts_with("GET ") && *c != "POST /api/v1/authorization/request").collect();
    assert!(writes.is_empty(), "audit wrote: {writes:?}");
}

#[tokio::test]
async fn without_a_cluster_every_engagement_is_judged_from_1099policy_and_uncovered_work_fails_it() {
    let world = engagements().await;
    let output = audit(&world, &["--no-cluster", "-o", "json"], &[]).await;
    assert_eq!(output.status.code(), Some(2), "active work is not covered");
    let rows = rows(&output);
    assert_eq!(rows.len(), 4, "{rows:#?}");

    let policy = row(&rows, "6029116324");
    assert_eq!((&policy["cover"]["kind"], &policy["verdict"]), (&json!("policy"), &json!("coveredWholeWindow")));
    assert_eq!(policy["cover"]["id"], json!(world.status("cabling-6029116324").policy_id.unwrap()));
    assert_eq!(policy["contractorId"], json!(world.status("cabling-6029116324").contractor_id.unwrap()));
    assert!(policy["coiUrl"].as_str().unwrap().ends_with(".pdf"), "{policy}");
    assert_eq!(policy["worker"], "8823578 Alex Nguyen");
    assert_eq!(policy["binding"], "none", "no cluster, no bindings");

    let assignment = row(&rows, "6029116326");
    assert_eq!(assignment["cover"]["kind"], "assignment");
    assert_eq!(assignment["cover"]["policy"][0], "pl_JL88235801", "the returning worker's policy");
    assert_eq!(assignment["verdict"], "coveredWholeWindow");

    let certificate = row(&rows, "6029116327");
    assert_eq!(
        (&certificate["cover"]["kind"], &certificate["verdict"]),
        (&json!("certificate"), &json!("coveredWholeWindow"))
    );

    let nothing = row(&rows, "6029116325");
    assert_eq!((&nothing["cover"]["kind"], &nothing["verdict"]), (&json!("none"), &json!("notCovered")));

    // Called off: nothing needed covering, and nothing active is left uncovered.
    world.workmarket.sandbox.cancel("6029116325").unwrap();
    let output = audit(&world, &["--no-cluster", "-o", "csv"], &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    let csv = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("work order,status,start,end,worker,binding,contractor,covered by,policy"), "{csv}");
    assert!(lines.iter().all(|l| l.split(',').count() == 14), "fourteen fields a line:\n{csv}");
    assert!(csv.contains("6029116325,cancelled,") && csv.contains(",cancelled\n"), "{csv}");
    assert!(csv.contains(",assignment under policy,pl_JL88235801,active,"), "{csv}");
    assert_read_only(&world);
}

#[tokio::test]
async fn with_a_cluster_rows_name_their_binding_and_the_window_is_respected() {
    let world = engagements().await;
    let fake = FakeKube::start().await;
    for name in ["cabling-6029116324", "pos-install-6029116326"] {
        let bound = world.binding(name);
        let spec = serde_json::to_value(&bound.spec).unwrap();
        fake.insert("coveragebindings", Some("demo"), json!({"metadata": {"name": name}, "spec": spec}));
        fake.replace_status("coveragebindings", Some("demo"), name, serde_json::to_value(bound.status).unwrap());
    }
    let kubeconfig = fake.kubeconfig("audit");
    let env = [("KUBECONFIG", kubeconfig.to_str().unwrap())];
    let output = audit(&world, &["-o", "json"], &env).await;
    let all = rows(&output);
    assert_eq!(row(&all, "6029116324")["binding"], "demo/cabling-6029116324");
    assert_eq!(row(&all, "6029116327")["binding"], "none");
    // Its status records the assignment and the policy it falls under: the assignment covers it.
    let assigned = row(&all, "6029116326");
    assert_eq!(
        (&assigned["binding"], &assigned["cover"]["kind"]),
        (&json!("demo/pos-install-6029116326"), &json!("assignment"))
    );

    // A window that ends before the work is scheduled holds none of it.
    let output = audit(&world, &["--from", "2026-01-01", "--to", "2026-01-31", "-o", "json"], &env).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(rows(&output).is_empty());
    let table = audit(&world, &["--no-cluster"], &[]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.starts_with("WORK ORDER") && text.contains("covered for the whole window") && text.contains("not covered"),
        "{text}"
    );

    let refused = audit(&world, &["--from", "2026-02-01", "--to", "2026-01-01"], &[]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not before"));
    let kube_writes: Vec<_> = fake.requests().into_iter().filter(|r| r.method != "GET").collect();
    assert!(kube_writes.is_empty(), "{kube_writes:?}");
    assert_read_only(&world);
}
