//! The flags of `hookrelay show`.

use clap::Args;
use url::Url;

use super::{RelayArgs, parse_app_url};
use crate::commands::show::Config;
use crate::deliver::outgoing::HeaderOverride;

/// Flags of `hookrelay show`.
#[derive(Debug, Args)]
#[command(after_help = "The ID may be any unique prefix, with or without evt_ (like a git hash): \
    `hookrelay show evt_k2qza9xm` or `hookrelay show k2qz`.")]
pub struct ShowArgs {
    /// The event id, or a unique prefix of it.
    #[arg(value_name = "ID")]
    pub id: String,

    /// Which relay and channel (as for `listen`).
    #[command(flatten)]
    pub relay: RelayArgs,

    /// Print the event as one JSON object (headers as [name, value] pairs, body in base64,
    /// every delivery). Secret headers are masked unless --reveal.
    #[arg(long, conflicts_with_all = ["body", "curl"])]
    pub json: bool,

    /// Write only the raw body bytes to stdout, exactly as received (pipe into jq or a file).
    #[arg(long, conflicts_with = "curl")]
    pub body: bool,

    /// Print a curl command that sends this request byte-exact to --forward-to (default:
    /// where `listen` last forwarded this channel), as `listen` would forward it. It carries
    /// every header as received, secrets included: that is what reproducing it takes.
    #[arg(long)]
    pub curl: bool,

    /// Show secret headers (Authorization, signatures, cookies, tokens) instead of masking them.
    #[arg(long)]
    pub reveal: bool,

    /// The local app that --curl targets: a URL, host:port/path or a port, as for `listen`
    /// (the event's path is appended).
    /// Default: where `hookrelay listen` last forwarded this channel.
    #[arg(short = 'f', long, value_name = "URL", value_parser = parse_app_url)]
    pub forward_to: Option<Url>,

    /// With --curl: set a header, replacing any of the same name (as `listen -H`).
    #[arg(short = 'H', long = "header", value_name = "'Name: value'", requires = "curl")]
    pub headers: Vec<HeaderOverride>,
}

impl ShowArgs {
    /// The command's config.
    pub fn into_config(self) -> Config {
        Config {
            id: self.id,
            relay: self.relay.into_selection(),
            json: self.json,
            body: self.body,
            curl: self.curl,
            reveal: self.reveal,
            forward_to: self.forward_to,
            headers: self.headers,
        }
    }
}
