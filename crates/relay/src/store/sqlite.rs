//! `SqliteStore`: the durable default. WAL mode, so a commit survives `kill -9` of the relay
//! (`synchronous=NORMAL`) or, with `--fsync`, power loss (`synchronous=FULL`). Writes go to the
//! group-committing writer thread (`writer.rs`); reads run on a small pool of read connections
//! via `spawn_blocking`, concurrently with the writer as WAL allows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use async_trait::async_trait;
use bytes::Bytes;
use hookrelay_proto::{DeliveryResult, DeliveryState, Event, EventDetail, EventSummary};
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use tokio::sync::{mpsc, oneshot};

use super::writer::{Cache, Command, Op, WRITE_QUEUE, Writer, read_cache};
use super::{ChannelInfo, NewEvent, Store, StoreError};
use crate::auth::TokenHash;
use crate::config::Retention;

/// The database file inside `--data-dir`.
pub const FILE_NAME: &str = "relay.sqlite3";
/// Idle read connections kept open; more are opened under load and closed after.
const IDLE_READERS: usize = 4;
/// How long a connection waits for a lock (checkpoints, schema setup) before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS channels (
    id TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT,
    headers TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_result TEXT,
    body BLOB NOT NULL,
    UNIQUE (channel, seq)
);
CREATE INDEX IF NOT EXISTS events_by_id ON events (channel, id);
CREATE INDEX IF NOT EXISTS events_by_time ON events (received_at_ms);
CREATE TABLE IF NOT EXISTS deliveries (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries (channel, seq);
";

/// The SQLite-backed store.
pub struct SqliteStore {
    writer: mpsc::Sender<Command>,
    readers: Arc<Readers>,
    cache: Cache,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and starts the writer thread.
    pub fn open(path: &Path, fsync: bool, retention: Retention) -> anyhow::Result<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("could not open sqlite store {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "NORMAL" })?;
        conn.execute_batch(SCHEMA).context("could not create the store's tables")?;

        let mut channels = HashMap::new();
        let mut statement = conn.prepare("SELECT id, token_hash, last_seq FROM channels")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let hash: Vec<u8> = row.get(1)?;
            let token_hash: TokenHash =
                hash.try_into().map_err(|_| anyhow::anyhow!("corrupt token hash for {id}"))?;
            channels.insert(id.clone(), ChannelInfo { id, token_hash, last_seq: row.get(2)? });
        }
        drop(rows);
        drop(statement);

        let cache: Cache = Arc::new(RwLock::new(channels));
        let (writer, queue) = mpsc::channel(WRITE_QUEUE);
        let worker = Writer::new(conn, retention, cache.clone());
        let span = tracing::info_span!("sqlite_writer", path = %path.display());
        let thread = std::thread::Builder::new()
            .name("hookrelay-sqlite-writer".into())
            .spawn(move || span.in_scope(|| worker.run(queue)))
            .context("could not start the sqlite writer thread")?;
        let readers = Arc::new(Readers { path: path.to_owned(), idle: Mutex::new(Vec::new()) });
        Ok(Self { writer, readers, cache, thread: Mutex::new(Some(thread)) })
    }

    async fn write(&self, op: Op) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Command { op, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `query` on a read connection off the async threads, after checking the channel.
    async fn read<T: Send + 'static>(
        &self,
        channel: &str,
        query: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        if !read_cache(&self.cache).contains_key(channel) {
            return Err(StoreError::UnknownChannel(channel.to_owned()));
        }
        let readers = self.readers.clone();
        let result = tokio::task::spawn_blocking(move || readers.with(query))
            .await
            .map_err(|err| anyhow::anyhow!("store read task failed: {err}"))?;
        Ok(result?)
    }
}

impl Readers {
    fn with<T>(&self, query: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&self.path)
                    .with_context(|| format!("could not open {}", self.path.display()))?;
                conn.busy_timeout(BUSY_TIMEOUT)?;
                conn.pragma_update(None, "query_only", true)?;
                conn
            }
        };
        let result = query(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

fn last_result(row: &Row, index: usize) -> anyhow::Result<Option<DeliveryResult>> {
    let json: Option<String> = row.get(index)?;
    Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
}

fn state_of(last: &Option<DeliveryResult>) -> DeliveryState {
    last.as_ref().map_or(DeliveryState::Pending, |result| result.outcome.into())
}

/// Columns of `event_from_row`, body last (read only when wanted).
const EVENT_COLUMNS: &str = "id, seq, received_at_ms, method, path, query, headers, size, body";

fn event_from_row(row: &Row) -> anyhow::Result<Event> {
    let headers: String = row.get(6)?;
    let body: Vec<u8> = row.get(8)?;
    Ok(Event {
        id: row.get(0)?,
        seq: row.get(1)?,
        received_at_ms: row.get(2)?,
        method: row.get(3)?,
        path: row.get(4)?,
        query: row.get(5)?,
        headers: serde_json::from_str(&headers).context("corrupt headers in store")?,
        body: Bytes::from(body),
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_channel(&self, id: &str, token_hash: TokenHash) -> Result<(), StoreError> {
        self.write(Op::Create { id: id.to_owned(), token_hash }).await.map(drop)
    }

    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError> {
        Ok(read_cache(&self.cache).get(id).cloned())
    }

    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.write(Op::Delete { id: id.to_owned() }).await? == 1)
    }

    async fn append(&self, channel: &str, event: NewEvent) -> Result<u64, StoreError> {
        self.write(Op::Append { channel: channel.to_owned(), event }).await
    }

    async fn summaries(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        let channel_id = channel.to_owned();
        self.read(channel, move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, seq, received_at_ms, method, path, query, size, last_result
                 FROM events WHERE channel = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = statement.query(params![channel_id, after, limit])?;
            let mut summaries = Vec::new();
            while let Some(row) = rows.next()? {
                let last_result = last_result(row, 7)?;
                summaries.push(EventSummary {
                    id: row.get(0)?,
                    seq: row.get(1)?,
                    received_at_ms: row.get(2)?,
                    method: row.get(3)?,
                    path: row.get(4)?,
                    query: row.get(5)?,
                    size: row.get(6)?,
                    state: state_of(&last_result),
                    last_result,
                });
            }
            Ok(summaries)
        })
        .await
    }

    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError> {
        let (channel_id, id) = (channel.to_owned(), id.to_owned());
        self.read(channel, move |conn| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS}, last_result FROM events WHERE channel = ?1 AND id = ?2"
            );
            let found = conn
                .prepare_cached(&sql)?
                .query_row(params![channel_id, id], |row| {
                    Ok(event_from_row(row).and_then(|event| Ok((event, last_result(row, 9)?))))
                })
                .optional()?;
            let Some((event, last)) = found.transpose()? else { return Ok(None) };
            let mut statement = conn.prepare_cached(
                "SELECT result FROM deliveries WHERE channel = ?1 AND seq = ?2 ORDER BY rowid",
            )?;
            let mut rows = statement.query(params![channel_id, event.seq])?;
            let mut deliveries = Vec::new();
            while let Some(row) = rows.next()? {
                deliveries.push(serde_json::from_str(&row.get::<_, String>(0)?)?);
            }
            Ok(Some(EventDetail { event, state: state_of(&last), deliveries }))
        })
        .await
    }

    async fn events_after(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let channel_id = channel.to_owned();
        self.read(channel, move |conn| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE channel = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let mut rows = statement.query(params![channel_id, after, limit])?;
            let (mut events, mut bytes) = (Vec::new(), 0usize);
            while let Some(row) = rows.next()? {
                let size: usize = row.get(7)?;
                if !events.is_empty() && bytes + size > max_bytes {
                    break;
                }
                bytes += size;
                events.push(event_from_row(row)?);
            }
            Ok(events)
        })
        .await
    }

    async fn record_delivery(
        &self,
        channel: &str,
        seq: u64,
        id: &str,
        result: DeliveryResult,
    ) -> Result<bool, StoreError> {
        let op = Op::Deliver { channel: channel.to_owned(), seq, id: id.to_owned(), result };
        Ok(self.write(op).await? == 1)
    }

    async fn expire_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.write(Op::Expire { cutoff_ms }).await
    }

    async fn close(&self) {
        if let Err(err) = self.write(Op::Close).await {
            tracing::debug!(error = %err, "sqlite store already closed");
        }
        let thread = self.thread.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        self.readers.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }
}
