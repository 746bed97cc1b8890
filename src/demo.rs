//! `coverbridge demo`: the whole flow on one machine, with no cluster and no credentials. Both
//! sandboxes run in-process, their webhooks arrive over real HTTP at the receiver the operator
//! serves, and the local runtime reconciles the manifests in `examples/`.

//!
//! The sandboxes are in builds with the `sandbox` feature (the default) only; without it the
//! arguments still parse and [`NO_SANDBOX`] explains why nothing runs.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;
#[cfg(feature = "sandbox")]
use std::{sync::Arc, time::Instant};

#[cfg(feature = "sandbox")]
use coverbridge_sandbox::ten99policy::{CertificateReview, Ten99PolicySandbox, Ten99PolicySandboxConfig};
#[cfg(feature = "sandbox")]
use coverbridge_sandbox::workmarket::{WorkMarketSandbox, WorkMarketSandboxConfig};

#[cfg(feature = "sandbox")]
use crate::http::{HttpClient, HttpSettings};
#[cfg(feature = "sandbox")]
use crate::reconcile::{Notice, ObjectKey, Reconciler, Settings};
use crate::resources::CoverageBinding;
#[cfg(feature = "sandbox")]
use crate::resources::{CertificateStatus, Phase};
#[cfg(feature = "sandbox")]
use crate::runtime::local::{LocalRuntime, Store};
#[cfg(feature = "sandbox")]
use crate::sandbox_clients::{Ten99PolicySandboxClient, WorkMarketSandboxClient};
#[cfg(feature = "sandbox")]
use crate::secret::Secret;
#[cfg(feature = "sandbox")]
use crate::webhooks::{self, Counters, Credentials};
#[cfg(feature = "sandbox")]
use crate::workmarket::PathStyle;

/// What `coverbridge sandbox` and `coverbridge demo` print in a build without the sandboxes.
pub const NO_SANDBOX: &str = "this build has no sandbox: the operator image is built without it; \
use a default build or `cargo run -p coverbridge-sandbox`";

/// The namespace the examples are loaded into.
#[cfg(feature = "sandbox")]
const NAMESPACE: &str = "demo";
/// The token the WorkMarket sandbox's webhooks carry.
#[cfg(feature = "sandbox")]
const WEBHOOK_TOKEN: &str = "demo-webhook-token";
/// Who the demo assigns to each seeded work order (the sandbox seeds them unassigned).
#[cfg(feature = "sandbox")]
const ASSIGNMENTS: [(&str, &str); 4] =
    [("6029116324", "8823578"), ("6029116325", "8823579"), ("6029116326", "8823580"), ("6029116327", "8823581")];

/// Settings of `coverbridge demo`.
#[derive(clap::Args, Clone, Debug)]
pub struct DemoArgs {
    /// How to print the final state: a table, or every binding's full status as YAML.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// Folder of manifests to load.
    #[arg(long, default_value = "examples")]
    pub examples: PathBuf,

    /// Give up (and exit non-zero) when the bindings have not converged after this long.
    #[arg(long, default_value = "60s", value_parser = crate::config::duration)]
    pub timeout: Duration,
}

/// Output format of the demo's summary.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// One row per binding.
    Table,
    /// Every binding's full status.
    Yaml,
}

/// Why the demo could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A port or file could not be opened.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A manifest is invalid.
    #[error("{file}: {error}")]
    Manifest {
        /// Path of the manifest file that failed to load.
        file: String,
        /// What is wrong, naming the field.
        error: crate::runtime::local::LoadError,
    },
}

#[cfg(feature = "sandbox")]
/// Runs the demo; `Ok(true)` when every binding converged.
pub async fn run(args: DemoArgs) -> Result<bool, DemoError> {
    let started = Instant::now();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}", receiver.local_addr()?);
    let workmarket = WorkMarketSandbox::new(WorkMarketSandboxConfig {
        webhook_url: Some(format!("{receiver_url}/webhooks/workmarket")),
        webhook_token: Some(WEBHOOK_TOKEN.into()),
        ..WorkMarketSandboxConfig::default()
    })
    .start()
    .await?;
    let ten99policy = Ten99PolicySandbox::new(Ten99PolicySandboxConfig {
        webhook_url: Some(format!("{receiver_url}/webhooks/1099policy")),
        ..Ten99PolicySandboxConfig::default()
    })
    .start()
    .await?;
    println!(
        "WorkMarket sandbox on {}, 1099Policy sandbox on {}, webhooks to {receiver_url}",
        workmarket.url, ten99policy.url
    );

    let http = HttpClient::new(HttpSettings::default());
    let wm_client = workmarket.client(PathStyle::Api, http.clone());
    let settings = Settings { proxy_email_domain: Some("relay.coverbridge.example".into()), ..Settings::default() };
    let reconciler = Reconciler::new(wm_client, ten99policy.client(http), settings);
    let sink = Arc::new(move |key: &ObjectKey, notice: &Notice| {
        let mark = if notice.warning { "!" } else { " " };
        println!(
            "{:>6.1}s {mark} {:<24} {}: {}",
            started.elapsed().as_secs_f32(),
            key.name,
            notice.reason,
            notice.message
        );
    });
    let runtime = LocalRuntime::new(Store::new(), reconciler, sink);
    let credentials =
        Credentials { workmarket_token: Some(Secret::new(WEBHOOK_TOKEN)), ten99policy: Some(ten99policy.verifier()) };
    let app = webhooks::router(Arc::new(runtime.clone()), credentials, Arc::new(Counters::default()));
    let server = tokio::spawn(crate::server::serve(receiver, app, std::future::pending()));
    let worker = tokio::spawn({
        let runtime = runtime.clone();
        async move { runtime.run().await }
    });

    load(&runtime, &args.examples).await?;
    let bindings = runtime.store().bindings();
    println!(
        "Loaded {} bindings from {}; assigning their work orders in WorkMarket",
        bindings.len(),
        args.examples.display()
    );
    for (work_order, worker_id) in ASSIGNMENTS {
        if bindings.iter().any(|b| b.spec.work_order_id == work_order)
            && let Err(error) = workmarket.sandbox.assign(work_order, worker_id)
        {
            println!("could not assign work order {work_order}: {error}");
        }
    }

    let converged = drive(&runtime, &ten99policy.sandbox, started + args.timeout).await;
    worker.abort();
    server.abort();
    let bindings = runtime.store().bindings();
    match args.output {
        Output::Table => print!("\n{}", table(&bindings)),
        Output::Yaml => {
            for binding in &bindings {
                let document = serde_json::json!({"name": binding.metadata.name, "status": binding.status});
                print!("---\n{}", serde_saphyr::to_string(&document).unwrap_or_default());
            }
        }
    }
    if converged {
        println!("\nAll {} bindings converged in {:.1}s.", bindings.len(), started.elapsed().as_secs_f32());
    } else {
        println!("\nNot every binding converged within {:?}:", args.timeout);
        for binding in bindings.iter().filter(|b| !done(b)) {
            println!("  {}:", binding.metadata.name.as_deref().unwrap_or_default());
            for condition in binding.status.iter().flat_map(|s| &s.conditions) {
                println!("    {} {} {}: {}", condition.type_, condition.status, condition.reason, condition.message);
            }
        }
    }
    Ok(converged)
}

#[cfg(feature = "sandbox")]
/// Applies every `*.yaml` in `dir`, in name order.
async fn load(runtime: &LocalRuntime, dir: &std::path::Path) -> Result<(), DemoError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    for file in files {
        let yaml = std::fs::read_to_string(&file)?;
        runtime
            .apply(&yaml, NAMESPACE)
            .await
            .map_err(|error| DemoError::Manifest { file: file.display().to_string(), error })?;
    }
    Ok(())
}

#[cfg(feature = "sandbox")]
/// Plays the worker and the reviewer until every binding is Bound: completes applications as
/// they appear and approves certificates awaiting review.
async fn drive(runtime: &LocalRuntime, ten99policy: &Ten99PolicySandbox, deadline: Instant) -> bool {
    let mut completed = Vec::new();
    while Instant::now() < deadline {
        let bindings = runtime.store().bindings();
        if !bindings.is_empty() && bindings.iter().all(done) {
            return true;
        }
        for status in bindings.iter().filter_map(|b| b.status.as_ref()) {
            if let (Some(session), None) = (&status.application_session_id, &status.policy_id)
                && !completed.contains(session)
                && ten99policy.complete_application(session).is_ok()
            {
                println!(
                    "         (the worker completes the application at {})",
                    status.application_url.as_deref().unwrap_or("-")
                );
                completed.push(session.clone());
            }
            if let (Some(id), Some(CertificateStatus::Pending)) = (&status.certificate_id, status.certificate_status)
                && !completed.contains(id)
                && ten99policy.review_certificate(id, CertificateReview::Approve).is_ok()
            {
                println!("         (1099Policy's review approves certificate {id})");
                completed.push(id.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[cfg(feature = "sandbox")]
fn done(binding: &CoverageBinding) -> bool {
    binding.status.as_ref().is_some_and(|s| matches!(s.phase, Some(Phase::Bound | Phase::Completed)))
}

/// One row per binding: work order, worker, phase, coverage, application URL.
pub fn table(bindings: &[CoverageBinding]) -> String {
    let mut rows = vec![["BINDING", "WORK ORDER", "WORKER", "PHASE", "COVERAGE", "APPLICATION"].map(str::to_owned)];
    for binding in bindings {
        let status = binding.status.clone().unwrap_or_default();
        let coverage = match (&status.assignment_id, &status.policy_id, &status.certificate_id) {
            (Some(assignment), Some(policy), _) => format!("assignment {assignment} (policy {policy})"),
            (_, Some(policy), _) => {
                format!(
                    "policy {policy} ({})",
                    status.policy_status.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default()
                )
            }
            (_, _, Some(certificate)) => format!(
                "certificate {certificate} ({})",
                status.certificate_status.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default()
            ),
            _ => "-".into(),
        };
        rows.push([
            binding.metadata.name.clone().unwrap_or_default(),
            binding.spec.work_order_id.clone(),
            status.work_order.and_then(|w| w.worker_id).unwrap_or_else(|| "-".into()),
            status.phase.map(|p| format!("{p:?}")).unwrap_or_else(|| "-".into()),
            coverage,
            status.application_url.unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}
