//! The external tools the chart suites run, found or installed the same way: `$HELM` /
//! `$PROMTOOL`, else on PATH, else in `.tools/bin`, installed there by `.ci/install-helm` /
//! `.ci/install-promtool` when missing, so a fresh clone runs these tests too.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `variable`, else `name` when `probe` succeeds on PATH, else `.tools/bin/<name>` (installed by
/// `.ci/<installer>` when missing).
fn find(variable: &str, name: &str, probe: &str, installer: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return path.into();
    }
    if Command::new(name).arg(probe).output().is_ok_and(|out| out.status.success()) {
        return name.into();
    }
    let installed = root().join(".tools/bin").join(name);
    if !installed.exists() {
        let status = Command::new("bash").arg(root().join(".ci").join(installer)).status().unwrap();
        assert!(status.success(), ".ci/{installer} failed; point {variable} at a {name} binary instead");
    }
    installed
}

/// Helm v4.
pub fn helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| find("HELM", "helm", "version", "install-helm"))
}

/// promtool, from Debian's prometheus package.
pub fn promtool() -> &'static Path {
    static PROMTOOL: OnceLock<PathBuf> = OnceLock::new();
    PROMTOOL.get_or_init(|| find("PROMTOOL", "promtool", "--version", "install-promtool"))
}
