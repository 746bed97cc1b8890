//! `coverbridge plan` as users run it: the binary, over real HTTP against both sandboxes (and,
//! with `--cluster`, the fake Kubernetes API), configured from the environment as `run` is. Its
//! clients are read-only, and the sandboxes' call logs prove it.

mod support;

use std::path::Path;
use std::process::Output;

use coverbridge::reconcile::{Host, HostError, Notice, ObjectKey};
use coverbridge::resources::{CategoryMapping, CoverageBinding, CoverageBindingStatus};
use coverbridge_sandbox::harness::Call;
use coverbridge_sandbox::ten99policy::RunningSandbox as Ten99Running;
use coverbridge_sandbox::workmarket::RunningSandbox as WmRunning;
use serde_json::{Value, json};
use support::kube_api::FakeKube;
use support::world::World;

struct Platforms {
    workmarket: WmRunning,
    ten99policy: Ten99Running,
}

async fn platforms() -> Platforms {
    // Nothing the plan does makes either platform send a webhook; none is listening.
    let (workmarket, ten99policy) = support::platforms::seeded("http://127.0.0.1:9", "unused").await;
    Platforms { workmarket, ten99policy }
}

fn examples(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(path).display().to_string()
}

/// Runs `coverbridge plan` with `args`, configured through the environment only.
async fn plan(platforms: &Platforms, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut command = support::platforms::coverbridge("plan", &platforms.workmarket, &platforms.ten99policy);
    command.args(args).env("COVERBRIDGE_PROXY_EMAIL_DOMAIN", "relay.example.com");
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.output().await.expect("coverbridge runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every call either platform received, as `METHOD path`.
fn calls(platforms: &Platforms) -> Vec<String> {
    let line = |c: Call| format!("{} {}", c.method, c.path);
    let mut calls: Vec<String> = platforms.workmarket.sandbox.harness().calls().into_iter().map(line).collect();
    calls.extend(platforms.ten99policy.sandbox.harness().calls().into_iter().map(line));
    calls
}

/// Only reads reached the platforms, and WorkMarket's token exchange.
fn assert_read_only(platforms: &Platforms) {
    let calls = calls(platforms);
    assert!(!calls.is_empty(), "the plan read the platforms");
    let writes: Vec<&String> =
        calls.iter().filter(|c| !c.starts_with("GET ") && *c != "POST /api/v1/authorization/request").collect();
    assert!(writes.is_empty(), "plan sent writes: {writes:?}");
}

#[tokio::test]
async fn the_examples_plan_clean_and_nothing_is_written() {
    let platforms = platforms().await;
    let output = plan(&platforms, &["-f", &examples("")], &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&output.stderr));
    for name in ["cabling-6029116324", "site-survey-6029116325", "pos-install-6029116326", "repair-6029116327"] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(!text.contains("BLOCKS") && !text.contains("broken"), "examples/broken/ is not read:\n{text}");
    assert!(text.contains("4 binding(s): 0 write(s) planned, 0 blocked"), "{text}");
    assert_read_only(&platforms);
}

#[tokio::test]
async fn the_broken_example_exits_2_naming_each_mistake_and_where_it_is() {
    let platforms = platforms().await;
    let output = plan(&platforms, &["-f", &examples("broken")], &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    for expected in [
        "BLOCKS UnknownCategoryCode: 1099Policy does not know category code jc_MTqpkbkp6Q (from CategoryMapping facilities, spec.rules[0] (rule 1))",
        "BLOCKS UnknownEntity: 1099Policy does not list entity en_Ah3tqYm (from spec.entity)",
        "warning ShadowedRule: spec.rules[1] can never match: spec.rules[0] comes first",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert_read_only(&platforms);
}

#[tokio::test]
async fn an_assigned_work_order_plans_every_write_with_its_exact_request_and_key() {
    let platforms = platforms().await;
    platforms.workmarket.sandbox.assign("6029116324", "8823578").unwrap();
    let args = ["-f", &examples("binding-flat-fee.yaml"), "-f", &examples("category-mapping.yaml"), "-o", "json"];
    let output = plan(&platforms, &args, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let binding = &report["bindings"][0];
    let kinds: Vec<&str> = binding["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["contractor", "job", "quote", "session"]);
    let contractor = &binding["steps"][0];
    assert_eq!(contractor["request"]["path"], "/api/v1/contractors");
    assert_eq!(contractor["idempotencyKey"], "workmarket-worker-8823578");
    let body = &contractor["request"]["body"];
    assert_eq!((&body["first_name"], &body["address"]["region"]), (&json!("Alex"), &json!("CA")));
    for personal in ["/email", "/phone", "/address/line1", "/address/postalcode"] {
        assert_eq!(
            body.pointer(personal).unwrap(),
            "<redacted: --show-personal-data>",
            "{personal}: plans end up in CI logs"
        );
    }
    let shown = plan(&platforms, &[&args[..], &["--show-personal-data"]].concat(), &[]).await;
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["bindings"][0]["steps"][0]["request"]["body"]["email"], "alex.nguyen@example.com");
    let job = &binding["steps"][1]["request"]["body"];
    assert_eq!(
        (&job["category_code"], &job["wage"], &job["wage_type"], &job["entity"]),
        (&json!("jc_MTqpkbkp6G"), &json!(32500), &json!("flatfee"), &json!("en_Ah3tqYn")),
        "the mapping's Technology/client rule, the flat fee in cents: {job}"
    );
    assert!(binding["steps"][1]["idempotencyKey"].as_str().unwrap().starts_with("cb:<uid>:job:"));
    let exact: Vec<bool> =
        binding["steps"].as_array().unwrap().iter().map(|s| s["keyExact"].as_bool().unwrap()).collect();
    assert_eq!(exact, [true, false, false, false], "only the contractor's key names no UID: {binding}");
    assert_eq!(binding["steps"][2]["request"]["body"]["contractor"], "<contractor id>");
    assert_eq!((&binding["stopsIn"], &binding["findings"]), (&json!("AwaitingApplication"), &json!([])));
    assert!(binding["waitsFor"].as_str().unwrap().contains("application"), "{binding}");

    let yaml = plan(&platforms, &[&args[..4], &["-o", "yaml"]].concat(), &[]).await;
    let from_yaml: Value = serde_saphyr::from_str(&String::from_utf8_lossy(&yaml.stdout)).unwrap();
    assert_eq!(from_yaml, report, "YAML and JSON say the same");
    assert_read_only(&platforms);
}

#[tokio::test]
async fn a_mapping_the_manifests_do_not_carry_is_reported_not_given_and_blocks_nothing() {
    let platforms = platforms().await;
    let output = plan(&platforms, &["-f", &examples("binding-flat-fee.yaml")], &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "it may well exist in the cluster:\n{text}");
    assert!(
        text.contains("warning NotGiven: CategoryMapping default/default is not among the manifests; pass --cluster"),
        "{text}"
    );
    assert!(text.contains("warning MappingNotFound"), "{text}");
}

#[tokio::test]
async fn no_plan_without_manifests_credentials_or_a_platform_exits_1() {
    let platforms = platforms().await;
    let missing = plan(&platforms, &["-f", "no/such/file.yaml"], &[]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/file.yaml"));

    let mut unconfigured = tokio::process::Command::new(env!("CARGO_BIN_EXE_coverbridge"));
    let unconfigured = unconfigured.args(["plan", "-f", &examples("")]).env_clear().output().await.unwrap();
    assert_eq!(unconfigured.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unconfigured.stderr).contains("WORKMARKET_API_TOKEN is not set"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let unreachable = [("COVERBRIDGE_TEN99POLICY_URL", format!("http://{closed}"))];
    let env: Vec<(&str, &str)> = unreachable.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = plan(&platforms, &["-f", &examples("binding-hourly.yaml")], &env).await;
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("1099Policy could not be reached"), "{}", stdout(&output));
}

#[tokio::test]
async fn with_cluster_a_binding_starts_from_its_status_and_its_uid() {
    let platforms = platforms().await;
    platforms.workmarket.sandbox.assign("6029116325", "8823579").unwrap();
    let fake = FakeKube::start().await;
    let stored = fake.insert(
        "coveragebindings",
        Some("team-a"),
        json!({"metadata": {"name": "site-survey-6029116325"}, "spec": {"workOrderId": "6029116325", "coverageTypes": ["general"]}}),
    );
    let uid = stored["metadata"]["uid"].as_str().unwrap().to_owned();
    let terms = json!({"categoryCode": "jc_MTqpkbkp6G", "wageCents": 4550, "wageType": "hourly", "region": "NY"});
    fake.replace_status(
        "coveragebindings",
        Some("team-a"),
        "site-survey-6029116325",
        json!({"phase": "Provisioning", "contractorId": "cn_Earlier1", "jobId": "jb_Earlier1", "jobTerms": terms,
               "workOrder": {"workerId": "8823579"}}),
    );
    let kubeconfig = fake.kubeconfig("plan-cluster");
    let env = [("KUBECONFIG", kubeconfig.to_str().unwrap())];
    let args = ["-f", &examples("binding-hourly.yaml"), "--cluster", "-n", "team-a", "-o", "json"];
    let output = plan(&platforms, &args, &env).await;
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let binding = &report["bindings"][0];
    assert_eq!(binding["fromCluster"], true);
    let kinds: Vec<&str> = binding["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["quote", "session"], "only what is left: {binding}");
    let quote = &binding["steps"][0];
    assert_eq!(quote["request"]["body"]["contractor"], "cn_Earlier1");
    let key = quote["idempotencyKey"].as_str().unwrap();
    assert!(key.starts_with(&format!("cb:{uid}:quote:")), "the binding's own UID: {key}");
    let kube_writes: Vec<_> = fake.requests().into_iter().filter(|r| r.method != "GET").collect();
    assert!(kube_writes.is_empty(), "plan wrote to the cluster: {kube_writes:?}");
    assert_read_only(&platforms);
}

/// The local runtime's store as the core's host, for planning in-process; it refuses writes.
struct StoreHost(coverbridge::runtime::local::Store);

impl Host for StoreHost {
    async fn before_write(&self, _: &CoverageBinding) -> Result<(), HostError> {
        panic!("a forecast asked to write")
    }

    async fn save_status(&self, _: &CoverageBinding, _: &CoverageBindingStatus) -> Result<(), HostError> {
        panic!("a forecast asked to save a status")
    }

    async fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.0.secret_value(namespace, name, key))
    }

    async fn mapping(&self, namespace: &str, name: &str) -> Result<Option<CategoryMapping>, HostError> {
        Ok(self.0.mapping(&ObjectKey::new(namespace, name)))
    }

    async fn notify(&self, _: &CoverageBinding, _: Notice) {}
}

#[tokio::test]
async fn the_first_planned_step_is_the_one_the_operator_then_takes() {
    let scenarios = [
        (&["category-mapping.yaml", "binding-flat-fee.yaml"][..], "cabling-6029116324", "6029116324", "8823578"),
        (&["binding-hourly.yaml"][..], "site-survey-6029116325", "6029116325", "8823579"),
        (
            &["category-mapping.yaml", "binding-returning-worker.yaml"][..],
            "pos-install-6029116326",
            "6029116326",
            "8823580",
        ),
        (&["binding-own-coi.yaml"][..], "repair-6029116327", "6029116327", "8823581"),
    ];
    for (files, name, work_order, worker) in scenarios {
        let world = World::start().await;
        for file in files {
            world.apply_example(file).await;
        }
        world.workmarket.sandbox.assign(work_order, worker).unwrap();
        let binding = world.binding(name);
        let host = StoreHost(world.runtime.store().clone());
        let forecast = world.runtime.reconciler().forecast(&binding, &host).await.unwrap();
        assert!(world.ten99_writes().is_empty(), "{name}: the forecast wrote");
        let planned = forecast.steps.first().unwrap_or_else(|| panic!("{name}: nothing planned: {forecast:?}"));

        world.settle().await;
        let taken =
            world.ten99_writes().into_iter().next().unwrap_or_else(|| panic!("{name}: the operator wrote nothing"));
        assert_eq!(
            (planned.request.method, planned.request.path.as_str(), planned.idempotency_key.as_deref()),
            (taken.method.as_str(), taken.path.as_str(), taken.idempotency_key.as_deref()),
            "{name}: planned {planned:?}"
        );
        assert!(planned.key_exact, "{name}: the binding exists, so its first key is exact");
        // Later keys are exact when they name no object still to be made (a job's does not).
        let writes = world.ten99_writes();
        for (step, call) in forecast.steps.iter().zip(&writes).filter(|(step, _)| step.key_exact) {
            assert_eq!(
                (step.request.path.as_str(), step.idempotency_key.as_deref()),
                (call.path.as_str(), call.idempotency_key.as_deref()),
                "{name}"
            );
        }
        let exact_later = forecast.steps.iter().skip(1).filter(|s| s.key_exact).count();
        assert_eq!(
            exact_later,
            usize::from(name != "repair-6029116327"),
            "{name}: the job's key is exact, the certificate's is not"
        );
    }
}
