//! `hookrelay events`: the newest events of the current channel (all of them, or those
//! `--failed`, `--type GLOB` and `--since DURATION` pick) and the runs the relay expired
//! before delivery, read from the relay and printed as `output::table` lays them out (a
//! table as wide as the terminal, whole when piped, or JSON lines with `--json`: `gap`
//! records first).

use std::process::ExitCode;
use std::time::Duration;

use hookrelay_proto::{DeliveryState, EventSummary};

use time::OffsetDateTime;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::output::records::gap_json;
use crate::output::stdout::{stdout_color, stdout_width, write_stdout};
use crate::output::table::{json_line, table};
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::connect;
use crate::relay::history::{all_summaries, expired_gaps, last_summaries};

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

    /// Which events to list.
    pub only: Only,
}

/// `--failed`, `--type GLOB`, `--since DURATION`: every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct Only {
    /// The last result failed or was rejected.
    pub failed: bool,
    /// The event type matches this glob.
    pub event_type: Option<String>,
    /// Received at most this long ago.
    pub since: Option<Duration>,
}

impl Only {
    fn is_everything(&self) -> bool {
        !self.failed && self.event_type.is_none() && self.since.is_none()
    }

    /// Whether `summary` is listed, `now_ms` being the current time.
    fn keeps(&self, summary: &EventSummary, now_ms: i64) -> bool {
        let failed = matches!(summary.state, DeliveryState::Failed | DeliveryState::Rejected);
        let typed = self.event_type.as_deref().is_none_or(|glob| {
            summary.event_type.as_deref().is_some_and(|kind| glob_match::glob_match(glob, kind))
        });
        let recent = self.since.is_none_or(|since| {
            let since_ms = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
            summary.received_at_ms >= now_ms.saturating_sub(since_ms)
        });
        (failed || !self.failed) && typed && recent
    }

    /// The flags given, as typed, for "no events match ...".
    fn describe(&self) -> String {
        let mut flags = Vec::new();
        if self.failed {
            flags.push("--failed".to_owned());
        }
        if let Some(glob) = &self.event_type {
            flags.push(format!("--type '{glob}'"));
        }
        if let Some(since) = self.since {
            flags.push(format!("--since {}", hookrelay_flags::format_duration(since)));
        }
        flags.join(" ")
    }
}

/// Runs the command.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let conn = connect(&config.relay, &env.dirs, IfNoChannel::Fail, env.cancel.clone()).await?;
    let limit = usize::from(config.limit);
    let now = OffsetDateTime::now_utc();
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let listed = if config.only.is_everything() {
        last_summaries(&conn, limit).await
    } else {
        // The relay filters nothing: walk the history (bounded by retention) and keep the
        // newest `limit` matches.
        all_summaries(&conn).await.map(|all| {
            let total = all.len();
            let mut kept: Vec<_> =
                all.into_iter().filter(|summary| config.only.keeps(summary, now_ms)).collect();
            kept.drain(..kept.len().saturating_sub(limit));
            if kept.is_empty() {
                eprintln!("no events match {} (of {total} in the channel)", config.only.describe());
            }
            kept
        })
    };
    let gaps = expired_gaps(&conn).await;
    let ingest_url = conn.channel.ingest_url.clone();
    conn.close().await?;
    let (summaries, mut gaps) = (listed?, gaps?);
    gaps.drain(..gaps.len().saturating_sub(MAX_GAPS_SHOWN));
    if summaries.is_empty() && gaps.is_empty() {
        if config.only.is_everything() {
            eprintln!("no events yet; send one to {ingest_url}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = if config.json {
        let gap_lines = gaps.iter().map(|gap| gap_json(gap).to_string());
        let event_lines = summaries.iter().map(json_line);
        gap_lines.chain(event_lines).map(|line| format!("{line}\n")).collect()
    } else {
        table(&summaries, &gaps, env.offset, now, stdout_color(), stdout_width())
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use hookrelay_proto::{DeliveryState, EventSummary};

    use super::*;

    fn summary(
        state: DeliveryState,
        event_type: Option<&str>,
        received_at_ms: i64,
    ) -> EventSummary {
        EventSummary {
            id: "evt_x".into(),
            seq: 1,
            received_at_ms,
            method: "POST".into(),
            path: "/".into(),
            query: None,
            size: 2,
            event_type: event_type.map(str::to_owned),
            state,
            last_result: None,
        }
    }

    #[test]
    fn failed_type_and_since_each_narrow_the_list() {
        let now = 10_000_000;
        let old = summary(DeliveryState::Delivered, Some("invoice.paid"), now - 3_600_000);
        let rejected = summary(DeliveryState::Rejected, Some("invoice.failed"), now - 1_000);
        let failed = summary(DeliveryState::Failed, None, now - 1_000);
        let pending = summary(DeliveryState::Pending, Some("customer.created"), now);
        let all = [&old, &rejected, &failed, &pending];
        let kept = |only: &Only| all.iter().filter(|s| only.keeps(s, now)).count();

        assert!(Only::default().is_everything());
        assert_eq!(kept(&Only { failed: true, ..Only::default() }), 2);
        let invoices = Only { event_type: Some("invoice.*".into()), ..Only::default() };
        assert_eq!(kept(&invoices), 2);
        let recent = Only { since: Some(Duration::from_secs(600)), ..Only::default() };
        assert_eq!(kept(&recent), 3);
        let all_three = Only {
            failed: true,
            event_type: Some("invoice.*".into()),
            since: Some(Duration::from_secs(600)),
        };
        assert_eq!(kept(&all_three), 1);
        assert_eq!(all_three.describe(), "--failed --type 'invoice.*' --since 10m");
    }
}
