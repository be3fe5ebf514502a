//! Plain values that several groups share, a leaf: which relay and channel a command uses
//! ([`RelaySelection`]), the embedded relay's default port, and [`UsageError`], the mistake
//! in a command line that `main` reports with exit code 2.

use url::Url;

/// The port of the embedded relay when `--port` is not given.
pub(crate) const DEFAULT_PORT: u16 = 8787;

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

/// The relay and channel a command uses (`--relay`/`--port`, `--channel`/`--token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySelection {
    /// The relay.
    pub relay: RelayChoice,
    /// The channel; `None`: the one saved for this relay (or a new one, where the command
    /// creates one).
    pub channel: Option<ChannelCreds>,
}

/// A mistake in the command line that clap cannot see (a routes file with an error, a
/// `--verify` without a secret...): `main` reports it like clap does, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
