//! `hookrelay events`: the newest events of the current channel, read from the relay and
//! printed as `output::table` lays them out (a table, or JSON lines with `--json`).

use std::process::ExitCode;

use time::OffsetDateTime;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::output::stdout::{stdout_color, write_stdout};
use crate::output::table::{json_line, table};
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::connect;
use crate::relay::history::last_summaries;

/// What `hookrelay events` lists, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// Which relay and channel (as for `listen`).
    pub relay: RelaySelection,

    /// Show the newest N events (oldest of them first).
    pub limit: u16,

    /// One JSON object per line (the relay's event summary plus `received_at`), nothing else
    /// on stdout.
    pub json: bool,
}

/// Runs the command.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let conn = connect(&config.relay, &env.dirs, IfNoChannel::Fail, env.cancel.clone()).await?;
    let listed = last_summaries(&conn, usize::from(config.limit)).await;
    let ingest_url = conn.channel.ingest_url.clone();
    conn.close().await?;
    let summaries = listed?;
    if summaries.is_empty() {
        eprintln!("no events yet; send one to {ingest_url}");
        return Ok(ExitCode::SUCCESS);
    }
    let text = if config.json {
        summaries.iter().map(|summary| format!("{}\n", json_line(summary))).collect()
    } else {
        table(&summaries, env.offset, OffsetDateTime::now_utc(), stdout_color())
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
