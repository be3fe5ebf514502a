//! `hookrelay`: parses flags, sets up logging and the runtime, and runs the command. Exit
//! codes: 0 success, 1 runtime failure (`error: ...` on stderr), 2 usage error (from clap,
//! or a [`UsageError`] clap could not see).

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use hookrelay_client::{Cli, UsageError};
use time::UtcOffset;

/// Log filter variable (`HOOKRELAY_LOG=debug`); logs go to stderr.
const LOG_ENV: &str = "HOOKRELAY_LOG";

fn main() -> ExitCode {
    let cli = Cli::parse_args();
    // Unless asked for, no log lines while `listen --tui` draws on the terminal they would
    // go to: the inspector shows what matters in its status line.
    let quiet = cli.wants_full_screen()
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal();
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if quiet { "off" } else { "warn" }));
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // Never blocks or fails on a closed stderr, so Ctrl-C always ends the command.
    let log = hookrelay_relay::init_stderr_log(filter, color);
    // Must be read while the process is still single-threaded (the time crate's rule).
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    // One thread: `listen` is a chain of hand-offs (websocket, processor, the app's
    // connection, the ack), and across worker threads each one is a futex wake-up. On one
    // thread a strictly ordered `listen` spends ~55 us of CPU per event instead of ~95.
    // Blocking work (store reads of the embedded relay, file writes, the log, signature
    // checks) goes to the blocking pool, and SQLite's writer has its own thread.
    let result = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => {
            let result = runtime.block_on(hookrelay_client::run(cli, offset));
            runtime.shutdown_timeout(Duration::from_secs(1));
            result
        }
        Err(err) => Err(anyhow::Error::new(err).context("could not start the runtime")),
    };
    // The log's last lines before the verdict.
    drop(log);
    match result {
        Ok(code) => code,
        Err(err) => fail(&err),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    hookrelay_relay::stderr_line(&format!("error: {err:#}"));
    if err.is::<UsageError>() {
        return ExitCode::from(2);
    }
    ExitCode::from(1)
}
