//! The command line: every subcommand documents itself, and none claims success it has not
//! earned.

use std::process::Command;

fn coverbridge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_coverbridge")).args(args).output().unwrap()
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["run", "demo", "sandbox", "crds"] {
        let out = coverbridge(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help failed");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Usage: coverbridge"), "{sub}: {help}");
        assert!(help.contains("--log-format"), "{sub}: global flags are listed");
    }
    let help = String::from_utf8(coverbridge(&["run", "--help"]).stdout).unwrap();
    for env in [
        "COVERBRIDGE_WORKMARKET_URL",
        "COVERBRIDGE_TEN99POLICY_URL",
        "COVERBRIDGE_WEBHOOK_ADDR",
        "COVERBRIDGE_METRICS_ADDR",
        "COVERBRIDGE_NAMESPACES",
        "TEN99POLICY_API_KEY",
    ] {
        assert!(help.contains(env), "run --help names {env}");
    }
}

#[test]
fn run_says_what_is_missing_and_never_echoes_a_credential() {
    let run = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_coverbridge"));
        command.arg("run").env_clear().env("KUBECONFIG", "/nonexistent/kubeconfig");
        for (key, value) in env {
            command.env(key, value);
        }
        let out = command.output().unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap() + &String::from_utf8(out.stdout).unwrap()
    };
    let output = run(&[]);
    assert!(
        output.contains("WORKMARKET_API_TOKEN is not set") && output.contains("WORKMARKET_API_TOKEN_FILE"),
        "{output}"
    );
    let secrets = [
        ("WORKMARKET_API_TOKEN", "wm-token-c4f1"),
        ("WORKMARKET_API_SECRET", "wm-secret-9a2e"),
        ("TEN99POLICY_API_KEY", "t9k_test_77b0"),
        ("TEN99POLICY_WEBHOOK_SECRET", "whsec_5d3c"),
        ("COVERBRIDGE_WEBHOOK_TOKEN", "hook-token-e81f"),
    ];
    let output = run(&secrets);
    assert!(output.contains("no Kubernetes configuration"), "{output}");
    for (_, value) in secrets {
        assert!(!output.contains(value), "a credential leaked: {output}");
    }
}

#[test]
fn unknown_log_format_is_rejected() {
    let out = coverbridge(&["--log-format", "xml", "crds"]);
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--log-format"));
}

#[tokio::test]
async fn sandbox_serves_both_halves_on_the_ports_given() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_coverbridge"))
        .args(["sandbox", "--workmarket-addr", "127.0.0.1:0", "--ten99policy-addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(url) =
            line.strip_prefix("WorkMarket sandbox: ").or_else(|| line.strip_prefix("1099Policy sandbox: "))
        {
            urls.push(url.trim().to_owned());
        }
        if line.starts_with("Serving until") {
            break;
        }
    }
    let [workmarket, ten99policy] = urls.as_slice() else { panic!("printed URLs: {urls:?}") };
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{workmarket}/api/v1/authorization/request"))
        .form(&[("token", "wm_sandbox_token"), ("secret", "wm_sandbox_secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let codes =
        http.get(format!("{ten99policy}/api/v1/category_codes")).bearer_auth("t9k_test_sandbox").send().await.unwrap();
    assert_eq!(codes.status(), 200);
    assert!(codes.text().await.unwrap().contains("jc_MTqpkbkp6G"));
    child.kill().await.unwrap();
}

#[test]
fn demo_converges_every_example_and_prints_the_table() {
    let out = coverbridge(&["demo"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<&str> = stdout.lines().filter(|l| l.contains("  60291163")).collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    assert!(rows.iter().all(|r| r.contains(" Bound ")), "{stdout}");
    for story in ["ApplicationStarted", "PolicyActive", "AssignmentCreated", "CertificateApproved", "InvoiceRecorded"] {
        assert!(stdout.contains(story), "progress shows {story}:\n{stdout}");
    }
    assert!(stdout.contains("All 4 bindings converged"));
}

#[test]
fn demo_prints_full_statuses_as_yaml() {
    let out = coverbridge(&["demo", "-o", "yaml"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let yaml = &stdout[stdout.find("---").expect("YAML documents")..stdout.rfind("\nAll 4").unwrap()];
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).unwrap();
    assert_eq!(docs.len(), 4);
    assert!(docs.iter().all(|d| d["status"]["phase"] == "Bound" && d["status"]["conditions"].is_array()));
}

#[test]
fn demo_fails_with_the_stuck_bindings_conditions() {
    let dir = std::env::temp_dir().join(format!("cb-demo-stuck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("stuck.yaml"),
        "apiVersion: coverbridge.io/v1alpha1\nkind: CoverageBinding\nmetadata: {name: ghost}\nspec: {workOrderId: \"999\", coverageTypes: [general]}\n",
    )
    .unwrap();
    let out = coverbridge(&["demo", "--examples", dir.to_str().unwrap(), "--timeout", "2s"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("ghost") && stdout.contains("WorkOrderNotFound"), "{stdout}");
}
