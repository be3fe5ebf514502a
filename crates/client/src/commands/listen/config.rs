//! The settings of `hookrelay listen` as `cli` builds them from its flags, and how a
//! command picks its relay and admin token from them and from `hookrelay login`.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::config::{ChannelCreds, DEFAULT_PORT, RelayChoice};
use crate::deliver::filter::Filter;
use crate::deliver::forward::Resign;
use crate::deliver::outgoing::HeaderOverride;
use crate::deliver::routes::Route;
use crate::deliver::verify::Verify;
use crate::local::saved_relay::Login;

/// A validated routing file.
#[derive(Debug, Clone)]
pub struct RoutesFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its rules, in order.
    pub routes: Vec<Route>,
    /// Found in the working directory rather than given with `--routes`.
    pub discovered: bool,
}

/// Settings of `hookrelay listen`, as `cli` builds them from the flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// The local app's base URL; each event's path suffix is appended to it. Optional only
    /// with `routes`: it then takes the events no rule matches.
    pub forward_to: Option<Url>,
    /// The routing file, if one is in use.
    pub routes: Option<RoutesFile>,
    /// `--events` / `--path`: events that do not match are skipped.
    pub filter: Filter,
    /// `--verify`: check each event's signature as it arrived.
    pub verify: Option<Verify>,
    /// `--resign`: sign each forwarded request afresh.
    pub resign: Option<Resign>,
    /// `--show-response`: show the start of the app's response under each delivery.
    pub show_response: bool,
    /// `--ready-file`: where to write the ingest URL once connected.
    pub ready_file: Option<PathBuf>,
    /// `--exit-on-disconnect`: a lost relay connection (after the first) is fatal.
    pub exit_on_disconnect: bool,
    /// The relay given (`--relay`, `--port`); `None`: the one `hookrelay login` saved, else
    /// the embedded one on the default port.
    pub relay: Option<RelayChoice>,
    /// The channel; `None`: the one saved for this relay, or a new one.
    pub channel: Option<ChannelCreds>,
    /// `--admin-token`: sent when creating the channel.
    pub admin_token: Option<String>,
    /// `-H` overrides.
    pub headers: Vec<HeaderOverride>,
    /// Most events in flight toward the local app (1: strict `seq` order).
    pub concurrency: usize,
    /// Per-request timeout toward the local app.
    pub timeout: Duration,
    /// `--max-attempts` (0: no bound).
    pub max_attempts: u32,
    /// `--json`: NDJSON records on stdout instead of the human log.
    pub json: bool,
    /// `--tui`: the full-screen inspector instead of the log (when stdout is a terminal).
    pub tui: bool,
}

impl Config {
    /// The relay to use: the one given (or saved by `login`), else the embedded one.
    pub(super) fn relay(&self) -> RelayChoice {
        self.relay.clone().unwrap_or(RelayChoice::Embedded { port: DEFAULT_PORT })
    }
}

/// The relay and admin token a command uses: those given, else what `hookrelay login` saved
/// (its admin token only for its own relay).
pub(crate) fn with_login(
    relay: Option<RelayChoice>,
    admin_token: Option<String>,
    login: Option<&Login>,
) -> (Option<RelayChoice>, Option<String>) {
    let Some(login) = login else { return (relay, admin_token) };
    let relay = relay.unwrap_or_else(|| RelayChoice::Remote(login.relay.clone()));
    let admin_token = admin_token.or_else(|| match &relay {
        RelayChoice::Remote(url) if *url == login.relay => login.admin_token.clone(),
        _ => None,
    });
    (Some(relay), admin_token)
}
