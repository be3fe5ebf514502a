//! `hookrelay events`: the newest events of the current channel and the runs the relay
//! expired before delivery, read from the relay and printed as `output::table` lays them
//! out (a table, or JSON lines with `--json`: `gap` records first).

use std::process::ExitCode;

use time::OffsetDateTime;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::output::render::gap_json;
use crate::output::stdout::{stdout_color, write_stdout};
use crate::output::table::{json_line, table};
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::connect;
use crate::relay::history::{expired_gaps, last_summaries};

/// Most expired runs listed (the newest ones).
const MAX_GAPS_SHOWN: usize = 20;

/// What `hookrelay events` lists, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// Which relay and channel (as for `listen`).
    pub relay: RelaySelection,

    /// Show the newest N events (oldest of them first).
    pub limit: u16,

    /// One JSON object per line (the relay's event summary plus `received_at`; expired runs
    /// first as `gap` records), nothing else on stdout.
    pub json: bool,
}

/// Runs the command.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let conn = connect(&config.relay, &env.dirs, IfNoChannel::Fail, env.cancel.clone()).await?;
    let listed = last_summaries(&conn, usize::from(config.limit)).await;
    let gaps = expired_gaps(&conn).await;
    let ingest_url = conn.channel.ingest_url.clone();
    conn.close().await?;
    let (summaries, mut gaps) = (listed?, gaps?);
    gaps.drain(..gaps.len().saturating_sub(MAX_GAPS_SHOWN));
    if summaries.is_empty() && gaps.is_empty() {
        eprintln!("no events yet; send one to {ingest_url}");
        return Ok(ExitCode::SUCCESS);
    }
    let text = if config.json {
        let gap_lines = gaps.iter().map(|gap| gap_json(gap).to_string());
        let event_lines = summaries.iter().map(json_line);
        gap_lines.chain(event_lines).map(|line| format!("{line}\n")).collect()
    } else {
        table(&summaries, &gaps, env.offset, OffsetDateTime::now_utc(), stdout_color())
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
