//! `hookrelay`: parses flags, sets up logging and runs a command. Exit codes: 0 success,
//! 1 runtime failure (`error: ...` on stderr), 2 usage error (from clap).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;
use hookrelay_client::cli::{Cli, Command, UsageError};
use hookrelay_client::{CommandEnv, Dirs, Renderer, cancel_on_signals, listen};
use time::UtcOffset;
use tokio_util::sync::CancellationToken;

/// Log filter variable (`HOOKRELAY_LOG=debug`); logs go to stderr.
const LOG_ENV: &str = "HOOKRELAY_LOG";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    // Must be read while the process is still single-threaded (the time crate's rule).
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&anyhow::Error::new(err).context("could not start the runtime")),
    };
    let result = runtime.block_on(run(cli, offset));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

async fn run(cli: Cli, offset: UtcOffset) -> anyhow::Result<()> {
    let cancel = CancellationToken::new();
    let signals = cancel_on_signals(cancel.clone());
    let env = CommandEnv { dirs: Dirs::from_env()?, offset, cancel: cancel.clone() };
    let result = match cli.command {
        Command::Listen(args) => {
            let out = Renderer::terminal(args.json, offset);
            let config = args.into_config(env.dirs)?;
            listen(config, cancel, out).await
        }
        Command::Events(args) => hookrelay_client::events::run(args, &env).await,
        Command::Show(args) => hookrelay_client::show::run(args, &env).await,
        Command::Replay(args) => hookrelay_client::replay::run(args, &env).await,
        Command::Trigger(args) => hookrelay_client::trigger::run(args, &env).await,
        Command::Sandbox(args) => hookrelay_client::sandbox::run(args, &env).await,
    };
    signals.abort();
    result
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    if err.is::<UsageError>() {
        return ExitCode::from(2);
    }
    ExitCode::from(1)
}
