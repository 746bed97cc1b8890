//! The `coverbridge` command line: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coverbridge::config::RunArgs;
use coverbridge::demo::DemoArgs;
use coverbridge::telemetry::{self, LogFormat};
#[cfg(feature = "sandbox")]
use coverbridge_sandbox::SandboxArgs;

/// jemalloc instead of the system allocator: glibc's per-thread arenas held about 40 MB the
/// operator had freed (RSS 93 MiB for a 53 MB heap at 10 000 bindings); docs/benchmarks.md has
/// the figures.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: one arena and no per-thread caches (an operator
/// waits on the network, not on malloc), and freed pages handed back within a second by a
/// background thread.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 83] = b"narenas:1,tcache:false,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// Keeps WorkMarket work orders insured through 1099Policy, as a Kubernetes operator.
#[derive(Parser, Debug)]
#[command(name = "coverbridge", version, propagate_version = true)]
struct Cli {
    /// Log line format. Which lines are logged is set by RUST_LOG (default `info`; `warn` for
    /// the demo).
    #[arg(long, global = true, env = "COVERBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the operator: controllers, webhook receiver, metrics and probes.
    ///
    /// Credentials come from the environment or mounted files, never from flags:
    /// WORKMARKET_API_TOKEN, WORKMARKET_API_SECRET, TEN99POLICY_API_KEY,
    /// TEN99POLICY_WEBHOOK_SECRET and COVERBRIDGE_WEBHOOK_TOKEN (each also as <NAME>_FILE).
    Run(Box<RunArgs>),
    /// Run the whole coverage flow on this machine, with no cluster and no credentials.
    ///
    /// Starts the WorkMarket and 1099Policy sandboxes in-process, loads examples/, assigns the
    /// work orders, plays the worker (finishing applications) and 1099Policy's reviewer
    /// (approving certificates), prints progress as it happens and the final state of every
    /// binding. Exits 0 when every binding converged.
    Demo(DemoArgs),
    /// Serve local simulators of WorkMarket and 1099Policy, for development and your own CI.
    ///
    /// Both speak their platform's real API shapes, quirks included, start with a small seed
    /// (printed), send their platform's webhooks where you point them, and offer a control API
    /// under /_sandbox/ to drive work orders, applications, certificates and faults.
    Sandbox(SandboxArgs),
    /// Show what the operator would do with these manifests, before they are merged.
    ///
    /// For each CoverageBinding: the writes it would make in order (with the exact request
    /// bodies and idempotency keys), what it would then wait for, and every problem in the way,
    /// against the live APIs and read-only: the clients refuse anything but reads. Exit 0 when
    /// nothing is wrong, 2 when a problem would block coverage, 1 when no plan could be made.
    /// Configured as `coverbridge run` is (flags, environment, credentials).
    Plan(Box<coverbridge::preview::PlanArgs>),
    /// Every WorkMarket work order in a window, with the evidence of its coverage and a verdict.
    ///
    /// For each work order scheduled between --from and --to (default: the last 30 days to the
    /// next 14): its binding, worker, 1099Policy contractor, how it is covered (policy,
    /// assignment under a policy, approved certificate, or not), the policy's status and term, a
    /// COI link, and a verdict. Read-only. Exit 2 when work assigned or in progress is not
    /// covered. Configured as `coverbridge run` is.
    Audit(Box<coverbridge::audit::AuditArgs>),
    /// Print the CoverageBinding and CategoryMapping CRDs as one YAML stream.
    ///
    /// Install them with: coverbridge crds | kubectl apply --server-side -f -
    Crds,
}

/// `coverbridge sandbox`'s arguments in a build without the sandbox: taken as they come, so the
/// command still parses and can say why it does not run.
#[cfg(not(feature = "sandbox"))]
#[derive(clap::Args, Debug)]
struct SandboxArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

/// Exit status of `coverbridge sandbox` and `coverbridge demo` in a build without the sandbox.
#[cfg(not(feature = "sandbox"))]
const NO_SANDBOX_EXIT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo and the plan print their own story; their logs would only repeat it.
    let default_filter =
        if matches!(cli.command, Command::Demo(_) | Command::Plan(_) | Command::Audit(_)) { "warn" } else { "info" };
    telemetry::init(cli.log_format, default_filter);
    match cli.command {
        Command::Crds => {
            print!("{}", coverbridge::resources::crds::to_yaml());
            ExitCode::SUCCESS
        }
        Command::Run(args) => {
            let runtime = tokio_runtime();
            let result = runtime.block_on(coverbridge::runtime::kube::run(*args));
            // Whatever is still running (an abandoned reconcile, a request in flight) must not
            // hold the process past its shutdown bound.
            runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "coverbridge run stopped");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Plan(args) => tokio_runtime().block_on(coverbridge::preview::run(*args)),
        Command::Audit(args) => tokio_runtime().block_on(coverbridge::audit::run(*args)),
        #[cfg(feature = "sandbox")]
        Command::Demo(args) => match tokio_runtime().block_on(coverbridge::demo::run(args)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(error) => {
                eprintln!("coverbridge demo: {error}");
                ExitCode::FAILURE
            }
        },
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => match tokio_runtime().block_on(coverbridge_sandbox::run(args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("coverbridge sandbox: {error}");
                ExitCode::FAILURE
            }
        },
        #[cfg(not(feature = "sandbox"))]
        Command::Demo(_) => no_sandbox("demo"),
        #[cfg(not(feature = "sandbox"))]
        Command::Sandbox(_) => no_sandbox("sandbox"),
    }
}

#[cfg(not(feature = "sandbox"))]
fn no_sandbox(command: &str) -> ExitCode {
    eprintln!("coverbridge {command}: {}", coverbridge::demo::NO_SANDBOX);
    ExitCode::from(NO_SANDBOX_EXIT)
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("the async runtime starts")
}
