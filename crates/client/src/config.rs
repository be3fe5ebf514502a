//! What `listen` needs to run, as a plain struct: `main` builds it from flags, tests build
//! it directly.

use std::time::Duration;

use url::Url;

use crate::dirs::Dirs;
use crate::outgoing::HeaderOverride;

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

/// Settings of `hookrelay listen`.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// The local app's base URL; each event's path suffix is appended to it.
    pub forward_to: Url,
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
