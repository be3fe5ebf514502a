//! The `hookrelay` CLI as a library. `main` parses the command line into [`Cli`] and calls
//! [`run`]; nothing else is public. `listen` is shaped like stripe-cli's: a transport
//! (`relay::tunnel`), an event processor (`commands::listen::processor`) with its
//! forwarders (`deliver`), and a renderer (`output::render`), joined by bounded, typed
//! queues.
//!
//! # Layout
//!
//! One folder per responsibility, listed from top to bottom. Imports only point down the
//! list: a module may use the groups below its own, never one above it, and
//! `python3 ../shared/tools/modcycles.py crates/client/src` finds no circle.
//!
//! - `cli/`: clap structs only, one file per command family, each turned into its command's
//!   plain `Config` ([`Cli::into_command`]), plus what `--help`, `completions` and `man`
//!   add to the definition (`cli/help.rs`). Only this crate root imports it.
//! - `commands/`: one file per subcommand, `run(config, env) -> Result<ExitCode>`, and
//!   `commands::run`, which runs one. `listen` also holds its event processor, the piece
//!   that joins the tunnel to the forwarders.
//! - `tui/`: the terminal inspector of `listen --tui`: its model, keys and drawing (pure,
//!   like `output/`), the terminal guard and key reader. No network: the loop that feeds it
//!   and its actions live in `commands::listen::inspector`.
//! - `relay/`: everything that talks to the relay: its HTTP API, the websocket tunnel, the
//!   embedded relay, the one given → saved → created channel choice, history reads.
//! - `deliver/`: everything that sends to the local app: filters, routes, dispatch, the
//!   outgoing request, forwarding with retries, re-signing, `--verify`, the watermark.
//! - `output/`: every byte a person reads: the live-log renderer and its queue, the events
//!   table, the event view, bodies, masking, curl lines, and the one stdout writer. No
//!   network or file I/O.
//! - `local/`: files on this machine: paths, saved state, the ready file, and the one
//!   atomic write (temp file + rename, mode 0600) every file goes through.
//!
//! `relay/` and `deliver/` never import each other, and neither draws anything: they send
//! typed events (`output::queue`) to the renderer. Beside the folders, two leaves any group
//! may use: `config` (plain values several groups share: the relay selection, the default
//! port, URLs as people type them, [`UsageError`]) and `backoff`.

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
mod tui;

use std::process::ExitCode;

pub use cli::Cli;
pub use config::UsageError;
use time::UtcOffset;

/// Runs the command line `main` parsed: `cli` turns it into plain config, `commands::run`
/// runs it. Errors that are a [`UsageError`] deserve exit code 2, others 1.
pub async fn run(cli: Cli, offset: UtcOffset) -> anyhow::Result<ExitCode> {
    commands::run(cli.into_command()?, offset).await
}
