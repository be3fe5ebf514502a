//! The `hookrelay` CLI as a library: connect to a relay, forward events to a local app,
//! render the live log. `listen` is shaped like stripe-cli's: a transport
//! (`relay::tunnel`), an event processor (`commands::listen::processor`) with its forwarders
//! (`deliver`), and a renderer (`output::render`), joined by bounded, typed queues.

mod backoff;
mod cli;
mod commands;
mod config;
mod deliver;
mod local;
mod output;
mod relay;
#[cfg(test)]
pub(crate) mod test_support;

use std::process::ExitCode;

pub use cli::Cli;
pub use config::UsageError;
use time::UtcOffset;

/// Runs the command line `main` parsed: `cli` turns it into plain config, `commands::run`
/// runs it. Errors that are a [`UsageError`] deserve exit code 2, others 1.
pub async fn run(cli: Cli, offset: UtcOffset) -> anyhow::Result<ExitCode> {
    commands::run(cli.into_command()?, offset).await
}
