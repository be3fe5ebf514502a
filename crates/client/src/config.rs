//! What `listen` needs to run, as a plain struct: `main` builds it from flags, tests build
//! it directly.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::deliver::filter::Filter;
use crate::deliver::forward::Resign;
use crate::deliver::outgoing::HeaderOverride;
use crate::deliver::routes::Route;
use crate::deliver::verify::Verify;
use crate::local::paths::Dirs;

/// The port of the embedded relay when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8787;

/// Which relay to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayChoice {
    /// A relay somewhere else (`--relay`).
    Remote(Url),
    /// Start one in this process on `127.0.0.1:port`, or use a hookrelay relay already there.
    Embedded {
        /// The port.
        port: u16,
    },
}

/// A channel given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCreds {
    /// Channel id.
    pub channel: String,
    /// Its token.
    pub token: String,
}

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

/// Settings of `hookrelay listen`.
#[derive(Debug, Clone)]
pub struct ListenConfig {
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
    /// The relay.
    pub relay: RelayChoice,
    /// The channel; `None`: the one saved for this relay, or a new one.
    pub channel: Option<ChannelCreds>,
    /// `-H` overrides.
    pub headers: Vec<HeaderOverride>,
    /// Most events in flight toward the local app (1: strict `seq` order).
    pub concurrency: usize,
    /// Per-request timeout toward the local app.
    pub timeout: Duration,
    /// Where state files live.
    pub dirs: Dirs,
}

/// What every command gets besides its own flags.
#[derive(Debug, Clone)]
pub struct CommandEnv {
    /// Where state files live.
    pub dirs: Dirs,
    /// The local time zone, for timestamps shown to people.
    pub offset: time::UtcOffset,
    /// Cancelled on Ctrl-C / SIGTERM.
    pub cancel: tokio_util::sync::CancellationToken,
}
