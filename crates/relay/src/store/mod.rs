//! The event store: channels, their events numbered `seq = 1, 2, 3...`, and the delivery
//! results clients acknowledge. One trait, three implementations (embedded SQLite, memory,
//! Redis, on one server or a Redis Cluster); all keep the same semantics, which the shared suite in `conformance.rs` checks.
//!
//! Retention never loses an event silently (DESIGN §2.2). A channel's stored events are
//! always one contiguous run of `seq`s: everything removed is a prefix. Count retention and
//! the byte quota remove only *finished* events (some client recorded a result for them),
//! and only while every older event is finished too; when undelivered events alone fill the
//! quota, `append` refuses with `ChannelFull`. Age retention may remove undelivered events,
//! and records each run of them as expired, so that a stream can tell its client.

mod batch;
mod checkpoint;
mod lock;
mod memory;
mod metered;
mod reader;
mod redis;
mod redis_conn;
mod redis_durability;
mod redis_follow;
mod redis_follow_cluster;
mod redis_keys;
mod redis_lua;
mod redis_read;
mod retention;
mod sqlite;
mod writer;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use hookrelay_proto::{
    DeliveryResult, Event, EventDetail, EventSummary, Gap, GapReason, Header, Page,
};

use crate::config::{Config, StoreKind};
use crate::ids::TokenHash;
use crate::metrics::Metrics;

pub(crate) use memory::MemoryStore;
pub(crate) use redis::RedisStore;
pub(crate) use sqlite::SqliteStore;

/// What the store knows about a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChannelInfo {
    /// The channel id.
    pub id: String,
    /// SHA-256 of its token.
    pub token_hash: TokenHash,
    /// The highest `seq` ever appended (0 when none). Never goes back, even after retention.
    pub last_seq: u64,
}

/// A captured request before the store gives it a `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEvent {
    /// `evt_` + 26 random base32 characters, made by the ingest handler.
    pub id: String,
    /// Receive time, milliseconds since the Unix epoch.
    pub received_at_ms: i64,
    /// HTTP method as sent.
    pub method: String,
    /// Raw path suffix after `/h/{channel}`.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Headers in order, duplicates kept.
    pub headers: Vec<Header>,
    /// Body bytes.
    pub body: Bytes,
    /// The JSON body's `type`/`event_type`, kept for history summaries.
    pub event_type: Option<String>,
}

impl NewEvent {
    /// The stored event once it has a `seq`.
    pub(crate) fn into_event(self, seq: u64) -> Event {
        Event {
            id: self.id,
            seq,
            received_at_ms: self.received_at_ms,
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            body: self.body,
        }
    }
}

/// What an event id or id prefix names in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdMatch {
    /// Exactly one event.
    One {
        /// Its full id.
        id: String,
        /// Its `seq`.
        seq: u64,
    },
    /// No event.
    None,
    /// Several events: a few of their ids.
    Many(Vec<String>),
}

/// Most candidates `find_event` lists for an ambiguous prefix.
pub(crate) const MAX_CANDIDATES: usize = 5;

/// Normalises what a user typed into an id prefix: `evt_` optional, letters lowercased (ids
/// are lowercase base32).
/// `None` when it cannot start any event id.
pub(crate) fn id_prefix(typed: &str) -> Option<String> {
    let rest = typed
        .get(..4)
        .filter(|head| head.eq_ignore_ascii_case("evt_"))
        .map_or(typed, |_| &typed[4..]);
    let valid =
        !rest.is_empty() && rest.len() <= 26 && rest.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then(|| format!("evt_{}", rest.to_ascii_lowercase()))
}

/// How a store operation can fail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The channel does not exist (or was deleted meanwhile).
    #[error("unknown channel {0:?}")]
    UnknownChannel(String),
    /// `create_channel` with an id that exists.
    #[error("channel {0:?} exists")]
    ChannelExists(String),
    /// The channel's undelivered events fill its byte quota (`--max-channel-bytes`), so the
    /// event was not stored; finished events were already removed to make room.
    #[error("channel {channel:?} is full: its undelivered events use its quota of {limit} bytes")]
    ChannelFull {
        /// The channel.
        channel: String,
        /// The quota in bytes.
        limit: u64,
    },
    /// The store was closed (the relay is shutting down).
    #[error("the store is closed")]
    Closed,
    /// The backend cannot be reached now (Redis down, restarting or loading its data):
    /// nothing was read or written, and a retry may succeed.
    #[error("the store is unreachable: {0:#}")]
    Unavailable(anyhow::Error),
    /// The backend failed (disk full, corrupt file...).
    #[error(transparent)]
    Backend(#[from] anyhow::Error),
}

/// What [`Store::elsewhere`] saw other relays do.
#[derive(Debug, Default)]
pub(crate) struct Elsewhere {
    /// Channels with new events, each with its newest `seq`.
    pub appended: Vec<(String, u64)>,
    /// Channels deleted (not only the followed ones).
    pub deleted: Vec<String>,
}

/// Where events live. Every method is safe to call from many tasks at once.
#[async_trait]
pub(crate) trait Store: Send + Sync + 'static {
    /// Creates an empty channel; `ChannelExists` if the id is taken or was ever deleted.
    async fn create_channel(&self, id: &str, token_hash: TokenHash) -> Result<(), StoreError>;
    /// Looks a channel up. Cheap: called on every request.
    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError>;
    /// Replaces a channel's token hash (the old token stops working at once); `false` if
    /// there is no such channel.
    async fn set_token(&self, id: &str, token_hash: TokenHash) -> Result<bool, StoreError>;
    /// Whether a channel with this id existed and was deleted (its id is never reused).
    async fn deleted(&self, id: &str) -> Result<bool, StoreError>;
    /// Deletes a channel with its whole history, keeping its id as taken for good; `false`
    /// if there was none.
    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError>;
    /// Durably appends an event and returns its `seq` (last + 1). Makes room under the byte
    /// quota by removing the oldest finished events, or refuses with `ChannelFull`; then
    /// applies count retention to finished events (the SQLite store may keep up to 1 % more
    /// than `max_events` between deletions).
    async fn append(&self, channel: &str, event: NewEvent) -> Result<u64, StoreError>;
    /// Summaries of the events `page` selects, oldest first.
    async fn summaries(&self, channel: &str, page: Page) -> Result<Vec<EventSummary>, StoreError>;
    /// Resolves an event id or a prefix of one (as made by `id_prefix`).
    async fn find_event(&self, channel: &str, prefix: &str) -> Result<IdMatch, StoreError>;
    /// One event with every delivery result, oldest first.
    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError>;
    /// Full events with `seq > after`, oldest first: at most `limit`, and no more once their
    /// bodies reach `max_bytes` (but always at least one, so a big event still streams).
    async fn events_after(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Event>, StoreError>;
    /// Where a client that has finished every event up to `after` resumes: past the stored
    /// events right after `after` that some client has finished (a final result recorded),
    /// up to the first unfinished one. `after` itself when the event after it is not stored
    /// (a hole, whose gap notice the client must still get) or there is none.
    async fn resume_point(&self, channel: &str, after: u64) -> Result<u64, StoreError>;
    /// Records a delivery result for event `seq`: an outcome sets the event's state (and
    /// makes it finished), an attempt that will be retried (`result.will_retry`) is only added
    /// to its history. `false` (and nothing recorded) when the channel has no such event.
    async fn record_delivery(
        &self,
        channel: &str,
        seq: u64,
        id: &str,
        result: DeliveryResult,
    ) -> Result<bool, StoreError>;
    /// Age retention: per channel, deletes the events up to the newest one received before
    /// `cutoff_ms` (a prefix, so history stays contiguous), recording the runs of unfinished
    /// ones among them as expired; returns how many events it deleted.
    async fn expire_before(&self, cutoff_ms: i64) -> Result<u64, StoreError>;
    /// The recorded runs of expired unfinished events that overlap `from..=to`, oldest
    /// first (reason `Expired`, not clipped to the range).
    async fn expired(&self, channel: &str, from: u64, to: u64) -> Result<Vec<Gap>, StoreError>;
    /// Whether other relay processes append to this store too (Redis), so that sessions
    /// must also be woken by `elsewhere`.
    fn shared(&self) -> bool {
        false
    }
    /// Waits up to `block` for an append past any `(channel, seq)` cursor or a channel
    /// deletion, made by any process, and says what happened (nothing after `block`). Only
    /// for `shared` stores; the others never have any.
    async fn elsewhere(
        &self,
        _cursors: &[(String, u64)],
        _block: std::time::Duration,
    ) -> Result<Elsewhere, StoreError> {
        Ok(Elsewhere::default())
    }
    /// `Unavailable` while the backend cannot be reached (for `/healthz`). The local stores
    /// are always reachable.
    async fn reachable(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Finishes pending writes and releases the backend. Later calls fail with `Closed`.
    async fn close(&self);
}

/// Opens the store `config` asks for, measured into `metrics`.
pub(crate) async fn open(config: &Config, metrics: &Metrics) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_unmeasured(config).await?;
    Ok(Arc::new(metered::Metered::new(store, config.store.label(), metrics)))
}

async fn open_unmeasured(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match &config.store {
        StoreKind::Memory => Ok(Arc::new(MemoryStore::new(config.retention))),
        StoreKind::Redis { url, accept_unsafe } => {
            Ok(Arc::new(RedisStore::open(url, *accept_unsafe, config.retention).await?))
        }
        StoreKind::Sqlite => {
            let path = config.data_dir.join(sqlite::FILE_NAME);
            let (fsync, retention, data_dir) =
                (config.fsync, config.retention, config.data_dir.clone());
            let store = tokio::task::spawn_blocking(move || {
                crate::files::private_dir(&data_dir).map_err(|err| {
                    anyhow::anyhow!("could not create data directory {}: {err}", data_dir.display())
                })?;
                SqliteStore::open(&path, fsync, retention)
            })
            .await??;
            Ok(Arc::new(store))
        }
    }
}

/// Longest response preview kept per delivery record, in bytes.
pub(crate) const MAX_RECORD_RESPONSE: usize = 4 * 1024;
/// Longest error text, target URL and signature reason kept per record, in bytes.
pub(crate) const MAX_RECORD_TEXT: usize = 1024;
/// Most response headers kept per record, and most bytes of them.
pub(crate) const MAX_RECORD_HEADERS: usize = 32;
const MAX_RECORD_HEADER_BYTES: usize = 4 * 1024;
/// Most attempts (results that will be retried) kept per event; later ones are not stored
/// (an app retried forever must not grow the history without end). Outcomes always are.
pub(crate) const MAX_ATTEMPTS_KEPT: u64 = 100;
/// What a cut text ends with.
const TRUNCATED: &str = "… (truncated by the relay)";

/// `result` as the relay keeps it: stamped with the relay's clock in `recorded_at_ms` (what
/// a client sent there is replaced, so every time in a channel's history comes from one
/// clock), and bounded in size, every cut marked.
pub(crate) fn stamped(result: DeliveryResult) -> DeliveryResult {
    let mut bytes = 0;
    let response_headers = result
        .response_headers
        .into_iter()
        .take(MAX_RECORD_HEADERS)
        .take_while(|(name, value)| {
            bytes += name.len() + value.len();
            bytes <= MAX_RECORD_HEADER_BYTES
        })
        .collect();
    let text = |text: Option<String>| text.map(|text| truncated(text, MAX_RECORD_TEXT));
    DeliveryResult {
        recorded_at_ms: Some(now_ms()),
        response: result.response.map(|text| truncated(text, MAX_RECORD_RESPONSE)),
        error: text(result.error),
        target: text(result.target),
        resigned: text(result.resigned),
        response_headers,
        ..result
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), marked when cut.
fn truncated(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max.saturating_sub(TRUNCATED.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(TRUNCATED);
    text
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

/// Why the events `from..=to` are missing from a channel's history, as gap notices in
/// `seq` order: the parts `expired` covers are `Expired`, the rest was finished and then
/// removed by count retention or the byte quota (`Pruned`).
pub(crate) fn explain_gap(from: u64, to: u64, expired: &[Gap]) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut next = from;
    for run in expired {
        let (start, end) = (run.from_seq.max(next), run.to_seq.min(to));
        if start > end {
            continue;
        }
        if start > next {
            gaps.push(Gap { from_seq: next, to_seq: start - 1, reason: GapReason::Pruned });
        }
        gaps.push(Gap { from_seq: start, to_seq: end, reason: GapReason::Expired });
        next = end + 1;
    }
    if next <= to {
        gaps.push(Gap { from_seq: next, to_seq: to, reason: GapReason::Pruned });
    }
    gaps
}

/// Collapses ascending `seq`s into runs of consecutive numbers, as expired gaps.
fn expired_runs(seqs: impl IntoIterator<Item = u64>) -> Vec<Gap> {
    let mut runs: Vec<Gap> = Vec::new();
    for seq in seqs {
        match runs.last_mut() {
            Some(run) if run.to_seq + 1 == seq => run.to_seq = seq,
            _ => runs.push(Gap { from_seq: seq, to_seq: seq, reason: GapReason::Expired }),
        }
    }
    runs
}

#[cfg(test)]
mod conformance;

#[cfg(test)]
mod redis_cluster_tests;

#[cfg(test)]
mod redis_tests;

#[cfg(test)]
mod sqlite_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(from_seq: u64, to_seq: u64, reason: GapReason) -> Gap {
        Gap { from_seq, to_seq, reason }
    }

    #[test]
    fn delivery_records_are_bounded_and_cuts_are_marked() {
        let big = DeliveryResult {
            response: Some("é".repeat(10_000)),
            error: Some("x".repeat(5_000)),
            response_headers: (0..100).map(|n| (format!("h{n}"), "v".repeat(200))).collect(),
            ..DeliveryResult::new(hookrelay_proto::Outcome::Failed, Some(500), 1, 1)
        };
        let kept = stamped(big);
        let response = kept.response.expect("kept");
        assert!(response.len() <= MAX_RECORD_RESPONSE && response.ends_with(TRUNCATED));
        let error = kept.error.expect("kept");
        assert!(error.len() <= MAX_RECORD_TEXT && error.ends_with(TRUNCATED));
        assert!(kept.response_headers.len() < MAX_RECORD_HEADERS, "4 KiB of headers at most");
        assert!(kept.recorded_at_ms.is_some());
        let small = stamped(DeliveryResult {
            response: Some("ok".into()),
            ..DeliveryResult::new(hookrelay_proto::Outcome::Delivered, Some(200), 1, 1)
        });
        assert_eq!(small.response.as_deref(), Some("ok"));
    }

    #[test]
    fn gaps_are_expired_where_recorded_and_pruned_elsewhere() {
        use GapReason::{Expired, Pruned};
        let runs = expired_runs([5, 6, 7, 10, 12, 13]);
        assert_eq!(runs, [gap(5, 7, Expired), gap(10, 10, Expired), gap(12, 13, Expired)]);
        assert_eq!(
            explain_gap(1, 11, &runs),
            [
                gap(1, 4, Pruned),
                gap(5, 7, Expired),
                gap(8, 9, Pruned),
                gap(10, 10, Expired),
                gap(11, 11, Pruned)
            ]
        );
        assert_eq!(explain_gap(6, 6, &runs), [gap(6, 6, Expired)]);
        assert_eq!(explain_gap(20, 30, &runs), [gap(20, 30, Pruned)]);
        assert_eq!(explain_gap(3, 4, &[]), [gap(3, 4, Pruned)]);
    }

    #[test]
    fn id_prefixes_are_normalised_and_checked() {
        assert_eq!(id_prefix("evt_k2qZA9").as_deref(), Some("evt_k2qza9"));
        assert_eq!(id_prefix("EVT_k2").as_deref(), Some("evt_k2"));
        assert_eq!(id_prefix("K2QZ").as_deref(), Some("evt_k2qz"));
        for bad in ["", "evt_", "01*", "0?", "a[b]", &"0".repeat(27)] {
            assert_eq!(id_prefix(bad), None, "{bad:?}");
        }
    }
}
