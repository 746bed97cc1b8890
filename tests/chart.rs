//! The Helm chart deploys what the binary expects: its listener ports and probe paths, the
//! environment variables it reads (with its own defaults), credentials as mounted files,
//! least-privilege RBAC and a restricted security context. Renders with the real `helm
//! template`: `$HELM`, else `.tools/bin/helm`, else `helm` on PATH, else it runs
//! `.ci/install-helm` first, so a fresh clone tests the chart too.
//!
//! The chart refuses to render without credentials, so every rendering here passes fake ones
//! ([`CREDENTIALS`]) unless it is about their absence.

#[path = "support/tools.rs"]
mod tools;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use clap::Args;
use coverbridge::config::{self, RunArgs, secrets};
use coverbridge::runtime::kube::{FINALIZER, SHUTDOWN_BOUND};
use serde_json::{Value, json};
use tools::{helm, root};

const RELEASE: &str = "coverbridge";
const NAMESPACE: &str = "coverage";
const ALL_FEATURES: &str = "charts/coverbridge/ci/all-features-values.yaml";
const CREDENTIALS_DIR: &str = "/var/run/secrets/coverbridge";
const SECRET_VARS: [&str; 5] = [
    secrets::WORKMARKET_API_TOKEN,
    secrets::WORKMARKET_API_SECRET,
    secrets::TEN99POLICY_API_KEY,
    secrets::TEN99POLICY_WEBHOOK_SECRET,
    secrets::WEBHOOK_TOKEN,
];
/// The chart's value of each credential, with an obviously fake value for it.
const CREDENTIAL_VALUES: [(&str, &str); 5] = [
    ("workmarketApiToken", "wm_token_test"),
    ("workmarketApiSecret", "wm_secret_test"),
    ("ten99policyApiKey", "t9k_test_key"),
    ("ten99policyWebhookSecret", "whsec_test"),
    ("webhookToken", "webhook_token_test"),
];

/// `--set` arguments giving the chart's own Secret every credential.
fn credentials() -> Vec<String> {
    CREDENTIAL_VALUES
        .iter()
        .flat_map(|(key, value)| ["--set".to_owned(), format!("credentials.values.{key}={value}")])
        .collect()
}

/// `helm template` of the chart with extra arguments: the rendered objects, or Helm's error.
fn template(extra: &[&str]) -> Result<Vec<Value>, String> {
    let output = Command::new(helm())
        .args(["template", RELEASE, "charts/coverbridge", "--namespace", NAMESPACE])
        .args(extra)
        .current_dir(root())
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8(output.stdout).unwrap();
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("helm rendered invalid YAML: {e}\n{text}"));
    Ok(docs.into_iter().filter(|doc| !doc.is_null()).collect())
}

fn rendered(extra: &[&str]) -> Vec<Value> {
    template(extra).unwrap_or_else(|e| panic!("helm template {extra:?} failed:\n{e}"))
}

/// [`rendered`] with the fake credentials first, so `extra` may override them.
fn with_credentials(extra: &[&str]) -> Vec<Value> {
    let credentials = credentials();
    let args: Vec<&str> = credentials.iter().map(String::as_str).chain(extra.iter().copied()).collect();
    rendered(&args)
}

fn defaults() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| with_credentials(&[]))
}

fn all_features() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| rendered(&["--values", ALL_FEATURES]))
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|doc| doc["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    match of_kind(docs, kind)[..] {
        [doc] => doc,
        ref found => panic!("expected one {kind}, found {}", found.len()),
    }
}

/// The one object of `kind` named `name`.
fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    match of_kind(docs, kind).into_iter().filter(|doc| doc["metadata"]["name"] == name).collect::<Vec<_>>()[..] {
        [doc] => doc,
        ref found => panic!("expected one {kind} {name}, found {}", found.len()),
    }
}

fn container(docs: &[Value]) -> &Value {
    let containers = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

fn env(docs: &[Value]) -> BTreeMap<String, Value> {
    container(docs)["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|var| (var["name"].as_str().unwrap().to_owned(), var.clone()))
        .collect()
}

fn env_value(docs: &[Value], name: &str) -> Option<String> {
    env(docs).get(name).map(|var| var["value"].as_str().unwrap_or_else(|| panic!("{name} has no value")).to_owned())
}

/// The binary's `run` flags: environment variable → default value (empty when it has none).
fn binary_env() -> BTreeMap<String, String> {
    RunArgs::augment_args(clap::Command::new("run"))
        .get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_str()?.to_owned();
            let default =
                arg.get_default_values().first().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
            Some((env, default))
        })
        .collect()
}

fn default_port(env: &str) -> u64 {
    let addr: std::net::SocketAddr = binary_env()[env].parse().unwrap();
    u64::from(addr.port())
}

#[test]
fn ports_and_probes_are_the_binarys_listeners() {
    for docs in [defaults(), all_features()] {
        let container = container(docs);
        let webhooks = default_port("COVERBRIDGE_WEBHOOK_ADDR");
        let metrics = default_port("COVERBRIDGE_METRICS_ADDR");
        assert_eq!((webhooks, metrics), (8080, 9090));
        assert_eq!(
            container["ports"],
            json!([
                {"name": "webhooks", "containerPort": webhooks, "protocol": "TCP"},
                {"name": "metrics", "containerPort": metrics, "protocol": "TCP"},
            ])
        );
        // The chart relies on the binary's default listen addresses rather than setting them.
        let env = env(docs);
        assert!(!env.contains_key("COVERBRIDGE_WEBHOOK_ADDR") && !env.contains_key("COVERBRIDGE_METRICS_ADDR"));
        assert_eq!(container["livenessProbe"]["httpGet"], json!({"path": "/healthz", "port": "metrics"}));
        assert_eq!(container["readinessProbe"]["httpGet"], json!({"path": "/readyz", "port": "metrics"}));

        let service = one(docs, "Service");
        assert_eq!(
            service["spec"]["ports"],
            json!([
                {"name": "webhooks", "port": webhooks, "targetPort": "webhooks", "protocol": "TCP"},
                {"name": "metrics", "port": metrics, "targetPort": "metrics", "protocol": "TCP"},
            ])
        );
        assert!(service["spec"].get("type").is_none(), "ClusterIP only: metrics must not leave the cluster");
        assert_eq!(service["spec"]["selector"], one(docs, "Deployment")["spec"]["selector"]["matchLabels"]);
    }
}

#[test]
fn the_container_runs_the_operator_with_json_logs_by_default() {
    let operator = container(defaults());
    assert_eq!(operator["image"], "ghcr.io/coverbridge/coverbridge:0.1.0");
    assert_eq!(operator["args"], json!(["run", "--log-format", "json"]));
    assert!(operator.get("command").is_none(), "the image's entrypoint is the binary");
    assert_eq!(operator["resources"]["requests"], json!({"cpu": "50m", "memory": "64Mi"}));
    assert_eq!(operator["resources"]["limits"], json!({"memory": "256Mi"}));
    assert_eq!(container(all_features())["args"], json!(["run", "--log-format", "pretty"]));
}

#[test]
fn every_variable_the_chart_sets_is_one_the_binary_reads() {
    let known = binary_env();
    for docs in [defaults(), all_features()] {
        for name in env(docs).keys() {
            let file_of_secret = name.strip_suffix("_FILE").is_some_and(|secret| SECRET_VARS.contains(&secret));
            let extra = name == "HTTPS_PROXY"; // extraEnv in the all-features values
            assert!(
                known.contains_key(name) || file_of_secret || name == "RUST_LOG" || extra,
                "the chart sets {name}, which coverbridge does not read"
            );
        }
    }
}

#[test]
fn default_values_are_the_binarys_defaults() {
    // A default install behaves like the binary run with no configuration at all.
    let docs = defaults();
    let binary = binary_env();
    for (name, var) in env(docs) {
        let Some(default) = binary.get(&name) else { continue };
        if name == "POD_NAMESPACE" {
            assert_eq!(var["valueFrom"], json!({"fieldRef": {"fieldPath": "metadata.namespace"}}));
            continue;
        }
        assert!(!default.is_empty(), "the chart sets {name}, which has no default, in a default install");
        assert_eq!(var["value"].as_str(), Some(default.as_str()), "{name}");
    }
    // Settings the chart always sets, so they are visible with `kubectl describe`.
    for name in [
        "COVERBRIDGE_WORKMARKET_URL",
        "COVERBRIDGE_WORKMARKET_PATH_STYLE",
        "COVERBRIDGE_TEN99POLICY_URL",
        "COVERBRIDGE_SWEEP_INTERVAL",
        "COVERBRIDGE_RESYNC_INTERVAL",
        "COVERBRIDGE_TEN99POLICY_RPS",
        "COVERBRIDGE_WORKMARKET_RPS",
        "COVERBRIDGE_WEBHOOK_TOLERANCE",
        "COVERBRIDGE_CATEGORY_CODES_TTL",
        "COVERBRIDGE_LEASE_NAME",
        "COVERBRIDGE_CONCURRENCY",
        "COVERBRIDGE_CERTIFICATE_SECRETS",
        "POD_NAMESPACE",
    ] {
        assert!(env(docs).contains_key(name), "{name} is set");
    }
    assert_eq!(env_value(docs, "RUST_LOG").as_deref(), Some("info"));
}

#[test]
fn values_reach_their_variables() {
    let docs = all_features();
    let expected = [
        ("COVERBRIDGE_WORKMARKET_URL", "https://sandbox.workmarket.example"),
        ("COVERBRIDGE_WORKMARKET_PATH_STYLE", "employer"),
        ("COVERBRIDGE_WORKMARKET_RPS", "5"),
        ("COVERBRIDGE_SWEEP_INTERVAL", "10m"),
        ("COVERBRIDGE_TEN99POLICY_URL", "https://sandbox.1099policy.example"),
        ("COVERBRIDGE_TEN99POLICY_RPS", "3"),
        ("COVERBRIDGE_WEBHOOK_TOLERANCE", "120s"),
        ("COVERBRIDGE_CATEGORY_CODES_TTL", "2m"),
        ("COVERBRIDGE_DEFAULT_ENTITY", "en_Ah3tqYn"),
        ("COVERBRIDGE_PROXY_EMAIL_DOMAIN", "relay.example.com"),
        ("COVERBRIDGE_NAMESPACES", "coverage,contractors"),
        ("COVERBRIDGE_RESYNC_INTERVAL", "30m"),
        ("COVERBRIDGE_LEASE_NAME", "coverbridge-leader"),
        ("COVERBRIDGE_CONCURRENCY", "32"),
        ("COVERBRIDGE_CERTIFICATE_SECRETS", "true"),
        ("RUST_LOG", "info,coverbridge=debug"),
    ];
    for (name, value) in expected {
        assert_eq!(env_value(docs, name).as_deref(), Some(value), "{name}");
    }
    // Optional settings are left out rather than set empty.
    for name in ["COVERBRIDGE_DEFAULT_ENTITY", "COVERBRIDGE_PROXY_EMAIL_DOMAIN", "COVERBRIDGE_NAMESPACES"] {
        assert!(!env(defaults()).contains_key(name), "{name} is unset by default");
    }
    // Without RBAC for Secrets the operator must not watch them: its watch would be refused.
    let without_secrets = with_credentials(&["--set", "rbac.secrets=false"]);
    assert_eq!(env_value(&without_secrets, "COVERBRIDGE_CERTIFICATE_SECRETS").as_deref(), Some("false"));
    // What the chart passes, the binary accepts.
    for docs in [docs, &without_secrets[..]] {
        let cli = RunArgs::augment_args(clap::Command::new("run")).no_binary_name(true);
        let mut argv = Vec::new();
        for (name, var) in env(docs) {
            if let Some(value) = var["value"].as_str()
                && let Some(arg) = cli.get_arguments().find(|arg| arg.get_env().is_some_and(|e| e == name.as_str()))
            {
                argv.push(format!("--{}={value}", arg.get_long().unwrap()));
            }
        }
        if let Err(e) = cli.try_get_matches_from(&argv) {
            panic!("coverbridge run rejects the chart's settings {argv:?}:\n{e}");
        }
    }
}

#[test]
fn installing_or_upgrading_without_credentials_fails_at_render_time() {
    // No credentials at all: the pod would crash-loop on empty ones, so nothing renders. A
    // `helm upgrade --set x=y` without --reuse-values renders exactly like this.
    for extra in [&[][..], &["--set", "replicaCount=2"]] {
        let message = template(extra).map(|_| ()).expect_err("rendered without credentials");
        for (key, _) in CREDENTIAL_VALUES {
            assert!(message.contains(&format!("credentials.values.{key}")), "{key} not named in:\n{message}");
        }
        assert!(message.contains("credentials.existingSecret"), "existingSecret not offered in:\n{message}");
    }
    // Some of them: the message names exactly the missing ones.
    let message = template(&["--set", "credentials.values.ten99policyApiKey=t9k_test_key"])
        .map(|_| ())
        .expect_err("rendered with one credential of five");
    assert!(!message.contains("credentials.values.ten99policyApiKey"), "{message}");
    assert!(message.contains("credentials.values.webhookToken"), "{message}");

    // A Secret of your own needs none of the values; nothing is rendered for them.
    let docs = rendered(&["--set", "credentials.existingSecret=coverbridge-credentials"]);
    assert!(of_kind(&docs, "Secret").is_empty());
    assert_eq!(credentials_volume(&docs).0, "coverbridge-credentials");
    // null is "not given", which existingSecret allows.
    rendered(&[
        "--set",
        "credentials.existingSecret=coverbridge-credentials",
        "--set",
        "credentials.values.ten99policyApiKey=null",
    ]);

    // A credential that is given must not be empty, with or without existingSecret.
    for existing in ["", "coverbridge-credentials"] {
        let mut args = credentials();
        args.extend(["--set".to_owned(), format!("credentials.existingSecret={existing}")]);
        for (key, _) in CREDENTIAL_VALUES {
            let mut args = args.clone();
            args.extend(["--set".to_owned(), format!("credentials.values.{key}=")]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let message = template(&args).map(|_| ()).expect_err("rendered with an empty credential");
            assert!(message.contains(&format!("/credentials/values/{key}")), "{key}:\n{message}");
        }
    }
}

/// Writes `text` to a temporary values file, removed when the guard drops.
struct ValuesFile(PathBuf);

impl ValuesFile {
    fn new(text: &str) -> Self {
        let file =
            std::env::temp_dir().join(format!("coverbridge-chart-{}-{}.yaml", std::process::id(), fastrand::u64(..)));
        std::fs::write(&file, text).unwrap();
        Self(file)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for ValuesFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether the operator is set up for all namespaces: no COVERBRIDGE_NAMESPACES, its
/// ClusterRole bound cluster-wide and nowhere per namespace.
fn cluster_scoped(docs: &[Value]) -> bool {
    let bound = |kind: &str| of_kind(docs, kind).iter().filter(|b| b["roleRef"]["name"] == RELEASE).count();
    !env(docs).contains_key("COVERBRIDGE_NAMESPACES")
        && of_kind(docs, "ClusterRole").iter().any(|r| r["metadata"]["name"] == RELEASE)
        && bound("ClusterRoleBinding") == 1
        && bound("RoleBinding") == 0
}

#[test]
fn watch_namespaces_go_back_to_all_with_a_plain_set() {
    let team_a = ValuesFile::new("watchNamespaces: [team-a]\n");
    let docs = with_credentials(&["--values", team_a.path()]);
    assert!(!cluster_scoped(&docs));
    assert_eq!(env_value(&docs, "COVERBRIDGE_NAMESPACES").as_deref(), Some("team-a"));

    // `--set watchNamespaces=""` in a shell: the argument helm sees is `watchNamespaces=`.
    let reset = ["--values", team_a.path(), "--set", "watchNamespaces="];
    let docs = with_credentials(&reset);
    assert!(cluster_scoped(&docs), "{:?}", env_value(&docs, "COVERBRIDGE_NAMESPACES"));

    // `helm upgrade --reuse-values` makes the previous release's values the chart's defaults
    // and drops a null --set before it could override them, so `--set watchNamespaces=null`
    // keeps [team-a]. An empty string is a value: it overrides the list wherever it came from.
    let chart = std::env::temp_dir().join(format!("coverbridge-chart-{}-{}", std::process::id(), fastrand::u64(..)));
    let status = Command::new("cp").arg("-r").arg(root().join("charts/coverbridge")).arg(&chart).status().unwrap();
    assert!(status.success());
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    assert!(values.contains("\nwatchNamespaces: []\n"));
    std::fs::write(
        chart.join("values.yaml"),
        values.replace("\nwatchNamespaces: []\n", "\nwatchNamespaces: [team-a]\n"),
    )
    .unwrap();
    let render = |set: &str| {
        let output = Command::new(helm())
            .args(["template", RELEASE])
            .arg(&chart)
            .args(["--namespace", NAMESPACE, "--set", "credentials.existingSecret=coverbridge-credentials"])
            .args(["--set", set])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let docs: Vec<Value> = serde_saphyr::from_multiple(&String::from_utf8(output.stdout).unwrap()).unwrap();
        docs.into_iter().filter(|doc| !doc.is_null()).collect::<Vec<_>>()
    };
    let reused = cluster_scoped(&render("watchNamespaces="));
    let scoped = !cluster_scoped(&render("replicaCount=1"));
    std::fs::remove_dir_all(&chart).unwrap();
    assert!(scoped, "the stored [team-a] applies without a reset");
    assert!(reused, "watchNamespaces= overrides a stored list");

    // Any other string is still refused.
    let message = template(&["--set", "watchNamespaces=team-a"]).map(|_| ()).expect_err("a string");
    assert!(message.contains("/watchNamespaces"), "{message}");
}

#[test]
fn termination_grace_outlasts_the_binarys_shutdown_bound() {
    let bound = SHUTDOWN_BOUND.as_secs();
    assert_eq!(bound, 20);
    let grace = |docs: &[Value]| {
        one(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("terminationGracePeriodSeconds is set")
    };
    assert_eq!(grace(defaults()), 30);
    for docs in [defaults(), all_features()] {
        assert!(grace(docs) > bound, "the kubelet would kill the operator before it handed the Lease over");
    }
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("charts/coverbridge/values.schema.json")).unwrap())
            .unwrap();
    let minimum = schema["properties"]["terminationGracePeriodSeconds"]["minimum"].as_u64().unwrap();
    assert!(minimum > bound, "the schema admits {minimum}, not above the {bound} s bound");
    let message = template(&["--set", &format!("terminationGracePeriodSeconds={bound}")])
        .map(|_| ())
        .expect_err("a grace period at the shutdown bound");
    assert!(message.contains("/terminationGracePeriodSeconds"), "{message}");
}

/// The install notes, as `helm install --dry-run=client` prints them (no cluster needed).
fn notes(extra: &[&str]) -> String {
    let output = Command::new(helm())
        .args(["install", RELEASE, "charts/coverbridge", "--namespace", NAMESPACE, "--dry-run=client"])
        .args(extra)
        .env("KUBECONFIG", root().join("target/no-kubeconfig"))
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    text.split_once("\nNOTES:\n").unwrap_or_else(|| panic!("no notes in:\n{text}")).1.to_owned()
}

#[test]
fn uninstalling_is_explained_with_the_real_finalizer() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for text in [notes(&["--set", "credentials.existingSecret=coverbridge-credentials"]), readme] {
        for needle in [
            FINALIZER,
            "helm uninstall",
            "kubectl delete coveragebindings --all -A",
            r#"--type=merge -p '{"metadata":{"finalizers":null}}'"#,
            "deletionPolicy",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }
}

#[test]
fn durations_in_the_values_parse_as_the_binary_parses_them() {
    for file in ["charts/coverbridge/values.yaml", ALL_FEATURES] {
        let values: Value = serde_saphyr::from_str(&std::fs::read_to_string(root().join(file)).unwrap()).unwrap();
        for path in [
            &["workmarket", "sweepInterval"][..],
            &["ten99policy", "webhookTolerance"],
            &["ten99policy", "categoryCodesTtl"],
            &["resyncInterval"],
        ] {
            let text = path.iter().fold(&values, |v, key| &v[key]).as_str().unwrap();
            config::duration(text).unwrap_or_else(|e| panic!("{file}: {path:?}: {e}"));
        }
    }
    // What the schema's duration pattern admits, the binary reads.
    for text in ["90s", "5m", "1h", "1h30m", "500ms"] {
        config::duration(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn security_context_is_restricted() {
    for docs in [defaults(), all_features()] {
        let pod = &one(docs, "Deployment")["spec"]["template"]["spec"];
        assert_eq!(
            pod["securityContext"],
            json!({
                "runAsNonRoot": true,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "fsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            })
        );
        assert_eq!(
            container(docs)["securityContext"],
            json!({
                "allowPrivilegeEscalation": false,
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "capabilities": {"drop": ["ALL"]},
            })
        );
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            assert!(pod.get(key).is_none(), "{key}");
        }
        assert_eq!(pod["enableServiceLinks"], false, "no COVERBRIDGE_* service-link variables");
        assert!(pod["volumes"].as_array().unwrap().iter().all(|v| v.get("hostPath").is_none()));
    }
}

/// Every grant of a role, one line each: `group/resource[names]: verbs`.
fn grants(role: &Value) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        let strings = |key: &str| -> Vec<String> {
            rule[key].as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()).unwrap_or_default()
        };
        let mut verbs = strings("verbs");
        verbs.sort();
        let names = strings("resourceNames");
        let names = if names.is_empty() { String::new() } else { format!("[{}]", names.join(",")) };
        for group in strings("apiGroups") {
            for resource in strings("resources") {
                let group = if group.is_empty() { "core" } else { &group };
                lines.insert(format!("{group}/{resource}{names}: {}", verbs.join(",")));
            }
        }
    }
    lines
}

fn role<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    of_kind(docs, kind)
        .into_iter()
        .find(|doc| doc["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn set(lines: &[&str]) -> BTreeSet<String> {
    lines.iter().map(|s| (*s).to_owned()).collect()
}

/// The operator's own grants, in each watched namespace (or cluster-wide).
const OPERATOR_GRANTS: [&str; 8] = [
    "coverbridge.io/categorymappings: get,list,patch,watch",
    "coverbridge.io/categorymappings/finalizers: patch,update",
    "coverbridge.io/categorymappings/status: get,patch",
    "coverbridge.io/coveragebindings: get,list,patch,watch",
    "coverbridge.io/coveragebindings/finalizers: patch,update",
    "coverbridge.io/coveragebindings/status: get,patch",
    "core/secrets: get,list,watch",
    "events.k8s.io/events: create,patch",
];

fn operator_grants() -> BTreeSet<String> {
    set(&OPERATOR_GRANTS)
}

#[test]
fn rbac_grants_exactly_what_the_operator_uses() {
    let docs = defaults();
    let roles: Vec<String> = of_kind(docs, "ClusterRole")
        .into_iter()
        .chain(of_kind(docs, "Role"))
        .map(|r| format!("{}/{}", r["kind"].as_str().unwrap(), r["metadata"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, ["ClusterRole/coverbridge", "ClusterRole/coverbridge-crds", "Role/coverbridge-leader-election"]);
    assert_eq!(grants(role(docs, "ClusterRole", "coverbridge")), operator_grants());
    assert_eq!(
        grants(role(docs, "ClusterRole", "coverbridge-crds")),
        set(&[
            "apiextensions.k8s.io/customresourcedefinitions[coveragebindings.coverbridge.io,categorymappings.coverbridge.io]: get"
        ])
    );
    let election = role(docs, "Role", "coverbridge-leader-election");
    assert_eq!(election["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        grants(election),
        set(&["coordination.k8s.io/leases: create", "coordination.k8s.io/leases[coverbridge]: get,patch,update"])
    );
    // Cluster-wide watch by default: the operator's ClusterRole is bound cluster-wide.
    let bindings: Vec<(String, String)> = of_kind(docs, "ClusterRoleBinding")
        .into_iter()
        .chain(of_kind(docs, "RoleBinding"))
        .map(|b| {
            (b["metadata"]["name"].as_str().unwrap().to_owned(), b["roleRef"]["name"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        bindings,
        [
            ("coverbridge".to_owned(), "coverbridge".to_owned()),
            ("coverbridge-crds".to_owned(), "coverbridge-crds".to_owned()),
            ("coverbridge-leader-election".to_owned(), "coverbridge-leader-election".to_owned()),
        ]
    );
    assert_subjects_are_the_service_account(docs, "coverbridge");

    // Without bring-your-own certificates, no Secrets at all.
    let without = with_credentials(&["--set", "rbac.secrets=false"]);
    let mut expected = operator_grants();
    expected.remove("core/secrets: get,list,watch");
    assert_eq!(grants(role(&without, "ClusterRole", "coverbridge")), expected);
    assert!(
        with_credentials(&["--set", "rbac.create=false"]).iter().all(|d| !d["kind"].as_str().unwrap().contains("Role"))
    );
}

#[test]
fn rbac_is_scoped_to_the_watched_namespaces_and_auto_binding_may_only_create() {
    let docs = all_features();
    // The operator's ClusterRole is bound per watched namespace, never cluster-wide.
    assert_eq!(grants(role(docs, "ClusterRole", "coverbridge")), operator_grants());
    let cluster_bindings: Vec<&str> =
        of_kind(docs, "ClusterRoleBinding").iter().map(|b| b["roleRef"]["name"].as_str().unwrap()).collect();
    assert_eq!(cluster_bindings, ["coverbridge-crds"]);
    let per_namespace: Vec<(&str, &str)> = of_kind(docs, "RoleBinding")
        .iter()
        .filter(|b| b["roleRef"]["kind"] == "ClusterRole")
        .map(|b| (b["metadata"]["namespace"].as_str().unwrap(), b["roleRef"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(per_namespace, [("coverage", "coverbridge"), ("contractors", "coverbridge")]);
    // Auto-binding: create, on CoverageBindings, in the template's namespace only.
    let auto = role(docs, "Role", "coverbridge-auto-binding");
    assert_eq!(auto["metadata"]["namespace"], "coverage");
    assert_eq!(grants(auto), set(&["coverbridge.io/coveragebindings: create"]));
    assert_eq!(
        grants(role(docs, "Role", "coverbridge-leader-election")),
        set(&[
            "coordination.k8s.io/leases: create",
            "coordination.k8s.io/leases[coverbridge-leader]: get,patch,update"
        ])
    );
    assert_subjects_are_the_service_account(docs, "coverbridge-operator");
    assert_eq!(one(docs, "ServiceAccount")["metadata"]["name"], "coverbridge-operator");
    assert_eq!(one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"], "coverbridge-operator");
}

fn assert_subjects_are_the_service_account(docs: &[Value], account: &str) {
    for binding in of_kind(docs, "ClusterRoleBinding").into_iter().chain(of_kind(docs, "RoleBinding")) {
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]),
            "{}",
            binding["metadata"]["name"]
        );
    }
}

/// The credentials volume: Secret name and key → file name.
fn credentials_volume(docs: &[Value]) -> (String, BTreeMap<String, String>) {
    let pod = &one(docs, "Deployment")["spec"]["template"]["spec"];
    let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "credentials").unwrap();
    let mount =
        container(docs)["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "credentials").unwrap();
    assert_eq!(mount["mountPath"], CREDENTIALS_DIR);
    assert_eq!(mount["readOnly"], true);
    let items = volume["secret"]["items"].as_array().unwrap();
    let files = items.iter().map(|i| (i["key"].as_str().unwrap().to_owned(), i["path"].as_str().unwrap().to_owned()));
    (volume["secret"]["secretName"].as_str().unwrap().to_owned(), files.collect())
}

#[test]
fn credentials_are_mounted_files_named_by_the_file_variables() {
    for docs in [defaults(), all_features()] {
        let env = env(docs);
        let (_, files) = credentials_volume(docs);
        let paths: BTreeSet<&str> = files.values().map(String::as_str).collect();
        for var in SECRET_VARS {
            assert!(!env.contains_key(var), "{var} must come from a file, not the pod spec");
            let file = env[&format!("{var}_FILE")]["value"].as_str().unwrap().to_owned();
            assert_eq!(file, format!("{CREDENTIALS_DIR}/{var}"));
            assert!(paths.contains(var), "the volume projects a file {var}");
        }
    }
    // The chart's own Secret holds the five keys under the default names.
    let docs = defaults();
    let (name, files) = credentials_volume(docs);
    assert_eq!(name, "coverbridge-credentials");
    assert!(files.iter().all(|(key, path)| key == path), "{files:?}");
    let secret = one(docs, "Secret");
    assert_eq!(secret["metadata"]["name"], "coverbridge-credentials");
    let keys: BTreeSet<&str> = secret["stringData"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, SECRET_VARS.into_iter().collect());
    let annotations = &one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"];
    assert!(annotations["checksum/credentials"].is_string(), "pods restart when the chart's Secret changes");

    // With existingSecret: the user's Secret and key names; no Secret rendered; the credential
    // values in the values file go nowhere.
    let docs = all_features();
    assert!(of_kind(docs, "Secret").is_empty());
    let (name, files) = credentials_volume(docs);
    assert_eq!(name, "coverbridge-api");
    let expected: BTreeMap<String, String> = [
        ("wm-token", "WORKMARKET_API_TOKEN"),
        ("wm-secret", "WORKMARKET_API_SECRET"),
        ("t9k-key", "TEN99POLICY_API_KEY"),
        ("t9k-webhook-secret", "TEN99POLICY_WEBHOOK_SECRET"),
        ("wm-webhook-token", "COVERBRIDGE_WEBHOOK_TOKEN"),
    ]
    .into_iter()
    .map(|(k, p)| (k.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(files, expected);
    let text = serde_json::to_string(docs).unwrap();
    for fake in ["t9k_test_example", "whsec_example", "wm_token_example", "webhook_token_example"] {
        assert!(!text.contains(fake), "{fake} leaked into the manifests");
    }
}

#[test]
fn auto_binding_template_is_mounted_where_the_variable_points() {
    let docs = defaults();
    assert!(of_kind(docs, "ConfigMap").is_empty());
    assert!(!env(docs).contains_key("COVERBRIDGE_AUTOBIND_CONFIG"));

    let docs = all_features();
    let config_map = named(docs, "ConfigMap", "coverbridge-auto-binding");
    let file: Value = serde_saphyr::from_str(config_map["data"]["auto-binding.yaml"].as_str().unwrap()).unwrap();
    assert_eq!(
        file,
        json!({
            "namespace": "coverage",
            "entity": "en_Ah3tqYn",
            "coverageTypes": ["general", "workers-comp"],
            "categoryMappingRef": "default",
            "trigger": "InProgress",
            "selector": {"industries": ["Technology"], "clientIds": [40211], "labels": ["Insured"]},
        })
    );
    let pod = &one(docs, "Deployment")["spec"]["template"]["spec"];
    let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "auto-binding").unwrap();
    assert_eq!(volume["configMap"]["name"], "coverbridge-auto-binding");
    let mount =
        container(docs)["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "auto-binding").unwrap();
    let path = format!("{}/auto-binding.yaml", mount["mountPath"].as_str().unwrap());
    assert_eq!(env_value(docs, "COVERBRIDGE_AUTOBIND_CONFIG"), Some(path));

    // A direct category code replaces the mapping; both at once is refused.
    let docs = with_credentials(&[
        "--set",
        "autoBinding.enabled=true",
        "--set",
        "autoBinding.template.categoryCode=jc_MTqpkbkp6G",
    ]);
    let file: Value =
        serde_saphyr::from_str(one(&docs, "ConfigMap")["data"]["auto-binding.yaml"].as_str().unwrap()).unwrap();
    assert_eq!(file["categoryCode"], "jc_MTqpkbkp6G");
    assert_eq!(file["namespace"], NAMESPACE, "the release namespace by default");
    assert!(file.get("categoryMappingRef").is_none() && file.get("entity").is_none());
}

#[test]
fn optional_features_render_only_when_enabled() {
    let optional = ["Ingress", "ServiceMonitor", "PodDisruptionBudget", "NetworkPolicy", "PrometheusRule"];
    for kind in optional {
        assert!(of_kind(defaults(), kind).is_empty(), "{kind} is off by default");
        assert_eq!(of_kind(all_features(), kind).len(), 1, "{kind} renders when enabled");
    }
    // ConfigMaps: the auto-binding template and the Grafana dashboard (tests/alerts.rs checks it).
    assert!(of_kind(defaults(), "ConfigMap").is_empty(), "no ConfigMap by default");
    let config_maps: BTreeSet<&str> =
        of_kind(all_features(), "ConfigMap").iter().map(|c| c["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(config_maps, BTreeSet::from(["coverbridge-auto-binding", "coverbridge-dashboard"]));
    let docs = all_features();

    // The Ingress exposes the webhook paths only, never metrics.
    let ingress = one(docs, "Ingress");
    let paths = &ingress["spec"]["rules"][0]["http"]["paths"];
    assert_eq!(
        paths,
        &json!([{
            "path": "/webhooks",
            "pathType": "Prefix",
            "backend": {"service": {"name": "coverbridge", "port": {"name": "webhooks"}}},
        }])
    );
    assert_eq!(ingress["spec"]["tls"][0]["hosts"], json!(["coverbridge.example.com"]));

    let monitor = one(docs, "ServiceMonitor");
    assert_eq!(monitor["spec"]["endpoints"], json!([{"port": "metrics", "path": "/metrics", "interval": "15s"}]));
    assert_eq!(monitor["spec"]["selector"]["matchLabels"], one(docs, "Service")["spec"]["selector"]);

    let budget = one(docs, "PodDisruptionBudget");
    assert_eq!(budget["spec"]["minAvailable"], 1);
    assert_eq!(budget["spec"]["selector"]["matchLabels"], one(docs, "Deployment")["spec"]["selector"]["matchLabels"]);

    let policy = &one(docs, "NetworkPolicy")["spec"];
    assert_eq!(policy["policyTypes"], json!(["Ingress", "Egress"]));
    let ingress_ports: Vec<&Value> =
        policy["ingress"].as_array().unwrap().iter().map(|rule| &rule["ports"][0]["port"]).collect();
    assert_eq!(ingress_ports, [&json!("webhooks"), &json!("metrics")]);
    assert_eq!(
        policy["ingress"][1]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "monitoring"
    );
    let egress_ports: BTreeSet<u64> = policy["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_array().unwrap())
        .map(|port| port["port"].as_u64().unwrap())
        .collect();
    assert_eq!(egress_ports, BTreeSet::from([53, 443, 6443]));

    // Two replicas spread over nodes, rolled one at a time without losing webhook service.
    let deployment = one(docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"], json!({"maxSurge": 1, "maxUnavailable": 0}));
    let spread = &deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0];
    assert_eq!(spread["labelSelector"]["matchLabels"], deployment["spec"]["selector"]["matchLabels"]);
}

#[test]
fn every_object_carries_the_standard_labels() {
    for docs in [defaults(), all_features()] {
        for doc in docs {
            let labels = &doc["metadata"]["labels"];
            for key in [
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by",
                "helm.sh/chart",
            ] {
                assert!(labels[key].is_string(), "{} {} lacks {key}", doc["kind"], doc["metadata"]["name"]);
            }
        }
    }
}

fn rejected(values: &str) -> String {
    let file =
        std::env::temp_dir().join(format!("coverbridge-chart-{}-{}.yaml", std::process::id(), fastrand::u64(..)));
    std::fs::write(&file, values).unwrap();
    let credentials = credentials();
    let mut args: Vec<&str> = credentials.iter().map(String::as_str).collect();
    args.extend(["--values", file.to_str().unwrap()]);
    let result = template(&args);
    std::fs::remove_file(&file).unwrap();
    match result {
        Ok(_) => panic!("helm accepted values it should refuse:\n{values}"),
        Err(message) => message,
    }
}

#[test]
fn the_schema_rejects_unknown_keys_and_bad_values() {
    let cases = [
        ("workmarket:\n  pathstyle: api\n", "'pathstyle' not allowed"),
        ("replicas: 2\n", "'replicas' not allowed"),
        ("ingress:\n  tls:\n    secret: x\n", "'secret' not allowed"),
        ("workmarket:\n  pathStyle: rest\n", "/workmarket/pathStyle"),
        ("logging:\n  format: text\n", "/logging/format"),
        ("autoBinding:\n  template:\n    trigger: Completed\n", "/autoBinding/template/trigger"),
        ("autoBinding:\n  template:\n    coverageTypes: [liability]\n", "/autoBinding/template/coverageTypes"),
        ("ten99policy:\n  defaultEntity: Ah3tqYn\n", "/ten99policy/defaultEntity"),
        ("resyncInterval: 15 minutes\n", "/resyncInterval"),
        ("workmarket:\n  requestsPerSecond: 0\n", "/workmarket/requestsPerSecond"),
        ("concurrency: 0\n", "/concurrency"),
        ("concurrency: 1025\n", "/concurrency"),
        ("terminationGracePeriodSeconds: 10\n", "/terminationGracePeriodSeconds"),
        ("watchNamespaces: all\n", "/watchNamespaces"),
        ("ingress:\n  enabled: true\n", "ingress.host is required"),
        ("autoBinding:\n  enabled: true\nwatchNamespaces: [team-a]\n", "not in watchNamespaces"),
        ("prometheusRule:\n  failedFor: 30 minutes\n", "/prometheusRule/failedFor"),
        ("prometheusRule:\n  failedFor: 30m1h\n", "/prometheusRule/failedFor"),
        ("prometheusRule:\n  alertLabels:\n    team-name: x\n", "'team-name' does not match pattern"),
        ("dashboard:\n  labels:\n    grafana_dashboard: \"1\"\n", "'labels' not allowed"),
    ];
    for (values, expected) in cases {
        let message = rejected(values);
        assert!(message.contains(expected), "for {values:?} expected {expected:?} in:\n{message}");
    }
}

/// Resolves `#/definitions/…` references.
fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    match node["$ref"].as_str() {
        Some(reference) => {
            let name = reference.strip_prefix("#/definitions/").unwrap();
            resolve(schema, &schema["definitions"][name])
        }
        None => node,
    }
}

#[test]
fn the_schema_covers_every_value_and_closes_every_object() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("charts/coverbridge/values.schema.json")).unwrap())
            .unwrap();
    fn check(schema: &Value, node: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
        let described = node.get("description").is_some();
        let node = resolve(schema, node);
        if !described && node.get("description").is_none() && !path.contains('[') {
            problems.push(format!("{path}: no description"));
        }
        match value {
            Value::Object(map) => {
                match &node["additionalProperties"] {
                    Value::Bool(false) => {}
                    Value::Object(_) => return, // a map of names to strings (labels and the like)
                    _ => problems.push(format!("{path}: accepts unknown keys")),
                }
                for (key, child) in map {
                    match node["properties"].get(key) {
                        Some(child_node) => check(schema, child_node, child, &format!("{path}.{key}"), problems),
                        None => problems.push(format!("{path}.{key}: not in the schema")),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    check(schema, &node["items"], item, &format!("{path}[]"), problems);
                }
            }
            _ => {}
        }
    }
    for file in ["charts/coverbridge/values.yaml", ALL_FEATURES] {
        let values: Value = serde_saphyr::from_str(&std::fs::read_to_string(root().join(file)).unwrap()).unwrap();
        let mut problems = Vec::new();
        check(&schema, &schema, &values, "", &mut problems);
        assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
    }
}
