//! `coverbridge-sandbox`: serves the WorkMarket and 1099Policy simulators, with the same
//! arguments as `coverbridge sandbox`.

use std::process::ExitCode;

use clap::Parser;
use coverbridge_sandbox::SandboxArgs;

/// Serve local simulators of WorkMarket and 1099Policy, for development and your own CI.
///
/// Both speak their platform's real API shapes, quirks included, start with a small seed
/// (printed), send their platform's webhooks where you point them, and offer a control API
/// under /_sandbox/ to drive work orders, applications, certificates and faults.
#[derive(Parser, Debug)]
#[command(name = "coverbridge-sandbox", version)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("the async runtime starts");
    match runtime.block_on(coverbridge_sandbox::run(cli.args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("coverbridge-sandbox: {error}");
            ExitCode::FAILURE
        }
    }
}
