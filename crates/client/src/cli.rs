//! The command line (clap derive). Only `main` sees these structs; the library takes the
//! `ListenConfig` built from them.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::config::{ChannelCreds, DEFAULT_PORT, ListenConfig, RelayChoice};
use crate::dirs::Dirs;
use crate::outgoing::HeaderOverride;

/// hookrelay: get webhooks to your laptop, in order, byte-exact, without losing any.
#[derive(Debug, Parser)]
#[command(name = "hookrelay", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive webhooks from a relay and forward them to your local app, with a live log.
    Listen(ListenArgs),
}

/// Flags of `hookrelay listen` (DESIGN §4).
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Your local app's URL; each event's path after /h/{channel} is appended to it.
    #[arg(short = 'f', long, value_name = "URL", value_parser = parse_http_url)]
    pub forward_to: Url,

    /// A remote relay's base URL. Without it, a relay runs inside this process.
    #[arg(long, env = "HOOKRELAY_RELAY", value_name = "URL", value_parser = parse_http_url)]
    pub relay: Option<Url>,

    /// Port of the embedded relay (on 127.0.0.1), when --relay is not given.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PORT, conflicts_with = "relay")]
    pub port: u16,

    /// Channel id to stream. Without it, the channel saved for this relay is used (or made).
    #[arg(long, value_name = "ID", requires = "token")]
    pub channel: Option<String>,

    /// Token of --channel.
    #[arg(long, env = "HOOKRELAY_TOKEN", value_name = "T", hide_env_values = true)]
    pub token: Option<String>,

    /// Print one JSON object per line on stdout (a `ready` record, then one per delivery).
    #[arg(long)]
    pub json: bool,

    /// Set a header on every forwarded request, replacing any of the same name.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    pub headers: Vec<HeaderOverride>,

    /// Events forwarded at once. 1 keeps strict order; more trades order for throughput.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Seconds to wait for the local app's answer before retrying.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

impl ListenArgs {
    /// The library's config.
    pub fn into_config(self, dirs: Dirs) -> ListenConfig {
        let relay = match self.relay {
            Some(url) => RelayChoice::Remote(url),
            None => RelayChoice::Embedded { port: self.port },
        };
        let channel = match (self.channel, self.token) {
            (Some(channel), Some(token)) => Some(ChannelCreds { channel, token }),
            _ => None,
        };
        ListenConfig {
            forward_to: self.forward_to,
            relay,
            channel,
            headers: self.headers,
            concurrency: usize::from(self.concurrency),
            timeout: Duration::from_secs(self.timeout),
            dirs,
        }
    }
}

/// An absolute `http://` or `https://` URL with a host.
fn parse_http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| {
        format!(
            "'{text}' is not an absolute URL ({err}); expected e.g. http://localhost:3000/webhooks"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{text}' must be an http:// or https:// URL with a host"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn forward_to_must_be_absolute_http() {
        assert!(parse_http_url("http://localhost:3000/webhooks").is_ok());
        assert!(parse_http_url("https://app.test").is_ok());
        assert!(parse_http_url("localhost:3000").is_err());
        assert!(parse_http_url("/webhooks").is_err());
        assert!(parse_http_url("ftp://host/x").is_err());
    }
}
