//! The relay's settings as a plain struct: `main` builds it from flags, the CLI's embedded
//! relay and the tests build it directly. Defaults match DESIGN §2 and §4.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// Everything `serve` needs to know. Every field is public; start from `Config::default()`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base of the `ingest_url` handed out by `POST /v1/channels` (e.g. `https://relay.example`).
    /// `None`: `http://{the listener's local address}`.
    pub public_url: Option<Url>,
    /// Where the SQLite store keeps its file (`relay.sqlite3`). Created if missing.
    pub data_dir: PathBuf,
    /// Which store holds events.
    pub store: StoreKind,
    /// Largest accepted ingest body in bytes; bigger bodies get `413 body_too_large`.
    pub max_body: usize,
    /// When set, `POST /v1/channels` needs `Authorization: Bearer <admin_token>`.
    pub admin_token: Option<String>,
    /// SQLite `synchronous=FULL`: survive power loss, not only a crash of the process.
    pub fsync: bool,
    /// How long events are kept per channel.
    pub retention: Retention,
    /// Most events a websocket session sends before it waits for acknowledgements.
    pub window: u32,
    /// How often sessions ping; a peer silent for three intervals is closed.
    pub ping_interval: Duration,
    /// Serve HTTPS/WSS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Most websocket sessions open at once; past it an upgrade gets `503 unavailable`.
    pub max_sessions: usize,
    /// Longest a client may take to send a request's headers (and, on a keep-alive
    /// connection, to start its next request); a slower one is disconnected without an answer.
    pub header_read_timeout: Duration,
    /// Longest a sender may take to deliver an ingest body once its headers are in; a slower
    /// one gets `408 body_timeout`.
    pub body_read_timeout: Duration,
    /// Most bytes of webhook bodies held in memory at once, across all requests being read
    /// or stored; past it, reading bodies waits (senders slow down), and a wait past
    /// `body_read_timeout` answers `503`. At least `max_body`.
    pub max_body_memory: usize,
    /// Free space the store's file system must keep: below it every ingest answers
    /// `507 disk_full` and `/healthz` 503, before SQLite would fail mid-write (0: no check).
    pub min_free_disk: u64,
    /// Longest a write to a peer may wait without progress (a client that stopped reading a
    /// large answer, or a stalled websocket); then the connection is closed, freeing its
    /// memory and its slot.
    pub write_timeout: Duration,
    /// Most HTTP connections served at once. At the limit the relay stops accepting: new
    /// connections wait in the kernel's backlog until one closes. An upgraded websocket leaves
    /// this count (sessions are bounded by `max_sessions`).
    pub max_connections: usize,
}

/// A PEM certificate chain and its PEM private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The event store behind the relay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreKind {
    /// Embedded SQLite (WAL) in `data_dir`: survives `kill -9` of the relay.
    #[default]
    Sqlite,
    /// In process memory: gone when the relay stops. For tests and throwaway relays.
    Memory,
    /// Redis (`redis://HOST:PORT[/DB]` or `rediss://`), or a Redis Cluster
    /// (`redis+cluster://HOST:PORT[,HOST:PORT...]`), shared by several relays (DESIGN §7).
    Redis {
        /// The server's URL.
        url: String,
        /// Start even when Redis may lose an acked write (no AOF fsync on every write).
        accept_unsafe: bool,
    },
}

impl StoreKind {
    /// The store's name, as `--store` takes it and `/metrics` labels it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Memory => "memory",
            Self::Redis { .. } => "redis",
        }
    }
}

/// What each channel keeps (DESIGN §2.2). No limit removes an event before a client
/// finished it, except `max_age`, and then the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Most events kept per channel; past it the oldest *finished* events are removed.
    /// Undelivered events stay whatever their number.
    pub max_events: u64,
    /// Oldest event kept, by receive time. Unfinished events removed by age are recorded
    /// as an expired gap, which the stream and `events` report.
    pub max_age: Duration,
    /// Most body bytes stored per channel. A new event that does not fit removes the oldest
    /// finished events to make room; if undelivered ones alone fill it, ingest answers
    /// `507 channel_full` and the provider retries later.
    pub max_channel_bytes: u64,
}

/// Default `retention.max_channel_bytes`: 1 GiB.
pub const DEFAULT_MAX_CHANNEL_BYTES: u64 = 1024 * 1024 * 1024;
/// Default `max_body`: 25 MiB.
pub const DEFAULT_MAX_BODY: usize = 25 * 1024 * 1024;
/// Default `header_read_timeout`: 30 s, generous for any real sender on a slow link while
/// an idle or stalled connection gives its slot back within half a minute.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `body_read_timeout`: 60 s, enough for a `DEFAULT_MAX_BODY` body at about 3 Mbit/s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `max_body_memory`: 256 MiB (ten 25 MiB bodies at once).
pub const DEFAULT_MAX_BODY_MEMORY: usize = 256 * 1024 * 1024;
/// Default `min_free_disk`: 1 GiB.
pub const DEFAULT_MIN_FREE_DISK: u64 = 1024 * 1024 * 1024;
/// Default `write_timeout`: 30 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `max_connections`: 10,000 (keep the process's file-descriptor limit above it).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_events: 10_000,
            max_age: Duration::from_secs(7 * 24 * 60 * 60),
            max_channel_bytes: DEFAULT_MAX_CHANNEL_BYTES,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: None,
            data_dir: default_data_dir(),
            store: StoreKind::default(),
            max_body: DEFAULT_MAX_BODY,
            admin_token: None,
            fsync: false,
            retention: Retention::default(),
            window: 64,
            ping_interval: Duration::from_secs(10),
            tls: None,
            max_sessions: 10_000,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            min_free_disk: DEFAULT_MIN_FREE_DISK,
            max_body_memory: DEFAULT_MAX_BODY_MEMORY,
        }
    }
}

impl Config {
    /// Refuses settings the relay cannot run with.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.window >= 1, "window must be at least 1");
        anyhow::ensure!(!self.ping_interval.is_zero(), "ping interval must be above zero");
        anyhow::ensure!(self.retention.max_events >= 1, "retention must keep at least 1 event");
        anyhow::ensure!(
            self.retention.max_channel_bytes >= self.max_body as u64,
            "the channel quota ({}) must hold at least one body of --max-body ({})",
            hookrelay_flags::format_size(self.retention.max_channel_bytes),
            hookrelay_flags::format_size(self.max_body as u64)
        );
        anyhow::ensure!(self.max_sessions >= 1, "max_sessions must be at least 1");
        anyhow::ensure!(
            !self.header_read_timeout.is_zero(),
            "header read timeout must be above zero"
        );
        anyhow::ensure!(!self.body_read_timeout.is_zero(), "body read timeout must be above zero");
        anyhow::ensure!(self.max_connections >= 1, "max_connections must be at least 1");
        anyhow::ensure!(!self.write_timeout.is_zero(), "write timeout must be above zero");
        anyhow::ensure!(
            self.max_body_memory >= self.max_body,
            "the memory for bodies ({} bytes) must hold at least one body of --max-body ({} bytes)",
            self.max_body_memory,
            self.max_body
        );
        Ok(())
    }
}

/// The user's data directory joined with `hookrelay` (e.g. `~/.local/share/hookrelay` on
/// Linux), or `./hookrelay-data` when the platform has none.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|dir| dir.join("hookrelay"))
        .unwrap_or_else(|| PathBuf::from("hookrelay-data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_settings_are_refused() {
        assert!(Config::default().validate().is_ok());
        assert!(Config { window: 0, ..Config::default() }.validate().is_err());
        assert!(Config { ping_interval: Duration::ZERO, ..Config::default() }.validate().is_err());
        let retention = Retention { max_events: 0, ..Retention::default() };
        assert!(Config { retention, ..Config::default() }.validate().is_err());
        assert!(Config { max_sessions: 0, ..Config::default() }.validate().is_err());
        let zero = Duration::ZERO;
        assert!(Config { header_read_timeout: zero, ..Config::default() }.validate().is_err());
        assert!(Config { body_read_timeout: zero, ..Config::default() }.validate().is_err());
        assert!(Config { max_connections: 0, ..Config::default() }.validate().is_err());
    }

    #[test]
    fn a_quota_smaller_than_one_body_is_refused() {
        let retention = Retention { max_channel_bytes: 10, ..Retention::default() };
        assert!(Config { retention, max_body: 11, ..Config::default() }.validate().is_err());
        assert!(Config { retention, max_body: 10, ..Config::default() }.validate().is_ok());
    }
}
