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
fn unfinished_subcommands_fail_loudly() {
    for sub in ["run", "demo", "sandbox"] {
        let out = coverbridge(&[sub]);
        assert!(!out.status.success(), "{sub} must not report success");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("not available yet"), "{sub}: {stderr}");
    }
}

#[test]
fn unknown_log_format_is_rejected() {
    let out = coverbridge(&["--log-format", "xml", "crds"]);
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--log-format"));
}
