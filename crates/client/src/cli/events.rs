//! The flags of `hookrelay events`.

use std::time::Duration;

use clap::Args;

use super::RelayArgs;
use crate::commands::events::{Config, Only};
use hookrelay_proto::MAX_PAGE;

/// Flags of `hookrelay events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Which relay and channel (as for `listen`).
    #[command(flatten)]
    pub relay: RelayArgs,

    /// Show the newest N events (oldest of them first).
    #[arg(long, short = 'n', value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u16).range(1..=MAX_PAGE as i64))]
    pub limit: u16,

    /// One JSON object per line (the relay's event summary plus `received_at`; expired runs
    /// first as `gap` records), nothing else on stdout.
    #[arg(long)]
    pub json: bool,

    /// Only events whose last result failed or was rejected (what `replay --failed` sends).
    #[arg(long)]
    pub failed: bool,

    /// Only events whose type matches this glob ('invoice.*', 'connectivity.restored').
    #[arg(long = "type", value_name = "GLOB")]
    pub event_type: Option<String>,

    /// Only events received within this long (e.g. 10m, 2h, 7d).
    #[arg(long, value_name = "DURATION", value_parser = hookrelay_flags::parse_duration)]
    pub since: Option<Duration>,
}

impl EventsArgs {
    /// The command's config.
    pub fn into_config(self) -> Config {
        Config {
            relay: self.relay.into_selection(),
            limit: self.limit,
            json: self.json,
            only: Only { failed: self.failed, event_type: self.event_type, since: self.since },
        }
    }
}
