//! The flags of `hookrelay replay`.

use std::time::Duration;

use clap::{ArgGroup, Args};
use url::Url;

use super::{RelayArgs, ResignArgs, parse_app_url};
use crate::commands::replay::Config;
use crate::deliver::outgoing::HeaderOverride;

/// Flags of `hookrelay replay`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).multiple(true)
    .args(["ids", "last", "failed"])))]
#[command(after_help = "Events are sent one at a time (IDs in the order given, --last and \
    --failed in seq order), each once unless --max-attempts allows retries. Every attempt is \
    recorded in the channel's history as a replay (with its target, and marked edited or \
    re-signed). Exits 1 if any replayed event was not delivered, 130 when interrupted.")]
pub struct ReplayArgs {
    /// Event ids or unique prefixes (with or without evt_), replayed in the order given.
    #[arg(value_name = "ID", conflicts_with_all = ["last", "failed"])]
    pub ids: Vec<String>,

    /// Replay the newest N events (with --failed: the failed ones among them).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=hookrelay_proto::MAX_PAGE as i64))]
    pub last: Option<u16>,

    /// Replay every event whose last attempt was not a 2xx (rejected, failed, or answered
    /// 1xx/3xx). Pending events (never delivered) and skipped ones are left alone.
    #[arg(long)]
    pub failed: bool,

    /// Your local app: a URL, host:port/path (http assumed) or a port (3000 is
    /// http://localhost:3000); each event's path after /h/{channel} is appended to it. Default:
    /// where `hookrelay listen` last forwarded this channel.
    #[arg(short = 'f', long, value_name = "URL", value_parser = parse_app_url)]
    pub forward_to: Option<Url>,

    /// Which relay and channel (as for `listen`).
    #[command(flatten)]
    pub relay: RelayArgs,

    /// Open $VISUAL/$EDITOR (else vi) on each request's headers and body before sending it.
    #[arg(long)]
    pub edit: bool,

    /// Re-signing, as for `listen`.
    #[command(flatten)]
    pub resign: ResignArgs,

    /// Set a header on every replayed request, replacing any of the same name.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    pub headers: Vec<HeaderOverride>,

    /// How long to wait for the local app's answer (e.g. 30s, 2m; a bare number is seconds;
    /// at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_timeout)]
    pub timeout: Duration,

    /// Attempts per event: 1 sends each event once; more retries a 5xx, a timeout or a
    /// refused connection with backoff (0: until it works).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_attempts: u32,

    /// Print one JSON object per delivery on stdout (`"replay": true`), as `listen --json`.
    #[arg(long)]
    pub json: bool,
}

impl ReplayArgs {
    /// The command's config; a bad `--secret` is an error (exit 1, not a usage error).
    pub fn into_config(self) -> anyhow::Result<Config> {
        Ok(Config {
            resign: self.resign.resign()?,
            ids: self.ids,
            last: self.last,
            failed: self.failed,
            forward_to: self.forward_to,
            relay: self.relay.into_selection(),
            edit: self.edit,
            headers: self.headers,
            timeout: self.timeout,
            max_attempts: self.max_attempts,
            json: self.json,
        })
    }
}
