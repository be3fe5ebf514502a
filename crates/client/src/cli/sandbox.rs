//! The flags of `hookrelay sandbox` and their parsers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use hookrelay_sandbox::DEFAULT_LISTEN;
use hookrelay_sandbox::{Mode, parse_retry_schedule, parse_wait};
use hookrelay_signature::{Scheme, Secret};

use url::Url;

use super::{parse_relay_url, relay_choice};
use crate::commands::sandbox::Config;

/// Flags of `hookrelay sandbox` (docs/sandbox.md).
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address the emulated API listens on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// sandbox: any triggerable event type can be tested; production: only `test`, as the
    /// provider's production environment does.
    #[arg(long, value_name = "MODE", default_value = "sandbox", value_parser = parse_mode)]
    pub mode: Mode,

    /// The key every request must send as `Authorization: Bearer KEY` (default: a new one,
    /// printed at start).
    #[arg(long, value_name = "KEY", value_parser = parse_api_key)]
    pub api_key: Option<String>,

    /// A catalogue file (JSON or TOML) whose event types are added to the built-in ones or
    /// replace them. Repeatable; later files win.
    #[arg(long = "catalog", value_name = "FILE")]
    pub catalogs: Vec<PathBuf>,

    /// Sign deliveries with Standard Webhooks headers (webhook-id, webhook-timestamp,
    /// webhook-signature) using this secret. Off by default: the provider documents none.
    #[arg(long, value_name = "whsec_...", value_parser = parse_secret)]
    pub signing_secret: Option<Secret>,

    /// Waits before each retry of a failed delivery, e.g. 1s,2s,4s or 250ms,1m (each at most
    /// 1h); `none` for no retries.
    #[arg(long, value_name = "LIST", default_value = "1s,2s,4s", value_parser = parse_schedule)]
    pub retry_schedule: RetrySchedule,

    /// How long one delivery attempt may take (e.g. 500ms, 10s, 1m; at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_wait)]
    pub delivery_timeout: Duration,

    /// Print one JSON object per line on stdout: a `ready` record, then one per delivery
    /// attempt.
    #[arg(long)]
    pub json: bool,

    /// The relay whose saved channel the printed example registers (default: the relay
    /// `hookrelay listen` last ran with).
    #[arg(long, env = "HOOKRELAY_RELAY", hide_env_values = true, value_name = "URL",
          value_parser = parse_relay_url)]
    pub relay: Option<Url>,

    /// Port of the embedded relay whose saved channel the printed example registers.
    #[arg(
        long,
        env = "HOOKRELAY_PORT",
        hide_env_values = true,
        value_name = "N",
        conflicts_with = "relay"
    )]
    pub port: Option<u16>,
}

impl SandboxArgs {
    /// The command's config.
    pub fn into_config(self) -> Config {
        Config {
            listen: self.listen,
            mode: self.mode,
            api_key: self.api_key,
            catalogs: self.catalogs,
            signing_secret: self.signing_secret,
            retry_schedule: self.retry_schedule.0,
            delivery_timeout: self.delivery_timeout,
            json: self.json,
            relay: relay_choice(self.relay, self.port),
        }
    }
}

/// `--retry-schedule`, parsed (a newtype so clap takes it as one value, not a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

fn parse_schedule(text: &str) -> Result<RetrySchedule, String> {
    parse_retry_schedule(text).map(RetrySchedule)
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
}

fn parse_api_key(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the key must be non-empty, without spaces".to_owned());
    }
    Ok(text.to_owned())
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Secret::parse(Scheme::Standard, text).map_err(|err| err.to_string())
}
