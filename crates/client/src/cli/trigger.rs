//! The flags of `hookrelay trigger`.

use std::path::PathBuf;

use clap::Args;
use url::Url;

use super::{AdminTokenArg, RelayArgs, parse_app_url};
use crate::commands::trigger::{Config, DataArg};
use crate::config::RelaySelection;

/// Most events one `--count` may send.
const MAX_COUNT: u32 = 1000;

/// Flags of `hookrelay trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The event type to send, e.g. test or connectivity.interrupted (see --list).
    #[arg(value_name = "EVENT_TYPE", required_unless_present = "list")]
    pub event_type: Option<String>,

    /// POST straight to this URL (or host:port/path, or a port) instead of the channel's
    /// ingest URL (no relay involved).
    #[arg(long, value_name = "URL", value_parser = parse_app_url)]
    pub to: Option<Url>,

    /// Use this JSON as the event's data instead of generated fake data; @FILE reads it from
    /// a file. Any event type name is accepted then.
    #[arg(long, value_name = "JSON|@FILE", value_parser = parse_data_flag)]
    pub data: Option<DataArg>,

    /// Send N events (each with fresh fake data), one after another.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_COUNT)))]
    pub count: u32,

    /// A catalogue file (JSON or TOML) whose event types are added to the built-in ones or
    /// replace them (docs/sandbox.md). Repeatable; later files win.
    #[arg(long = "catalog", value_name = "FILE")]
    pub catalogs: Vec<PathBuf>,

    /// List the catalogue's event types and exit.
    #[arg(long, conflicts_with_all = ["event_type", "to", "data", "count"])]
    pub list: bool,

    /// Print one JSON object per line on stdout, one per event sent.
    #[arg(long)]
    pub json: bool,

    /// Which relay and channel (ignored with --to).
    #[command(flatten)]
    pub relay: RelayArgs,

    /// The admin token for creating a channel when none is saved.
    #[command(flatten)]
    pub admin: AdminTokenArg,
}

impl TriggerArgs {
    /// The command's config.
    pub fn into_config(self) -> Config {
        Config {
            event_type: self.event_type,
            to: self.to,
            data: self.data,
            count: self.count,
            catalogs: self.catalogs,
            list: self.list,
            json: self.json,
            relay: RelaySelection {
                admin_token: self.admin.admin_token,
                ..self.relay.into_selection()
            },
        }
    }
}

fn parse_data_flag(text: &str) -> Result<DataArg, String> {
    if text.starts_with('@') {
        return Ok(DataArg::File(text.to_owned()));
    }
    serde_json::from_str(text)
        .map(DataArg::Inline)
        .map_err(|err| format!("not valid JSON ({err}); use @FILE to read a file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_flag_checks_inline_json_and_defers_files() {
        assert!(matches!(parse_data_flag(r#"{"x":1}"#), Ok(DataArg::Inline(v)) if v["x"] == 1));
        assert!(
            matches!(parse_data_flag("@some/file.json"), Ok(DataArg::File(f)) if f == "@some/file.json")
        );
        assert!(parse_data_flag("{x").expect_err("bad").contains("@FILE"));
    }
}
