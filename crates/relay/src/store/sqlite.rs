//! `SqliteStore`: the durable default, one file in `--data-dir`. WAL mode, so a commit
//! survives `kill -9` of the relay (`synchronous=NORMAL`) or, with `--fsync`, power loss
//! (`synchronous=FULL`). This file owns the schema and opening; writes go to the
//! group-committing writer thread (`writer.rs`), reads to a pool of read connections
//! (`reader.rs`), and WAL checkpoints to their own thread (`checkpoint.rs`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use async_trait::async_trait;
use hookrelay_proto::{DeliveryResult, Event, EventDetail, EventSummary, Gap, Page};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::batch::Tally;
use super::checkpoint::{CatchUp, Checkpointer};
use super::lock::lock_exclusively;
use super::reader::{self, Readers};
use super::writer::{Cache, Channels, Command, Op, WRITE_QUEUE, Writer, read_cache};
use super::{ChannelInfo, IdMatch, NewEvent, Store, StoreError};
use crate::config::Retention;
use crate::ids::TokenHash;

/// The database file inside `--data-dir`.
pub(super) const FILE_NAME: &str = "relay.sqlite3";
/// WAL pages (4 KiB each) after which the writer checkpoints by itself. Only a safety cap,
/// should the checkpointer fall far behind: a checkpoint on the writer thread makes every
/// in-flight ingest wait for its fsyncs (the back-pressure of a disk that cannot keep up).
const WRITER_CHECKPOINT_PAGES: u32 = 256 * 1024;
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
    event_type TEXT,
    last_result TEXT,
    body BLOB NOT NULL,
    UNIQUE (channel, seq)
);
-- Ids are random, so an index sorted by id takes every append to a random page. This one
-- grows at each channel's end like `seq`, and an id is found by scanning only it (`id` is
-- in every entry), one channel's part of it at a time.
CREATE INDEX IF NOT EXISTS events_ids ON events (channel, seq, id);
CREATE TABLE IF NOT EXISTS deliveries (
    channel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries (channel, seq);
-- Ids of deleted channels: never handed out again, so an old ingest URL feeds nobody.
CREATE TABLE IF NOT EXISTS deleted_channels (
    id TEXT PRIMARY KEY,
    deleted_at_ms INTEGER NOT NULL
);
-- Runs of events age retention removed before any client finished them.
CREATE TABLE IF NOT EXISTS expired (
    channel TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    expired_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS expired_by_channel ON expired (channel, from_seq);
";

/// Brings a store file made by an older relay up to `SCHEMA`.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_event_type: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('events') WHERE name = 'event_type'",
        [],
        |row| row.get(0),
    )?;
    if !has_event_type {
        conn.execute_batch("ALTER TABLE events ADD COLUMN event_type TEXT")?;
    }
    // Every index is written by every append. Age retention walks each channel's oldest
    // events by `seq` instead of a time index, the writer keeps where the unfinished
    // events start (`Tally::finished_below`) instead of a partial index, and ids are found
    // through `events_ids` instead of an index sorted by id.
    conn.execute_batch(
        "DROP INDEX IF EXISTS events_by_time; DROP INDEX IF EXISTS events_unfinished;
         DROP INDEX IF EXISTS events_by_id;",
    )?;
    Ok(())
}

/// The SQLite-backed store.
pub(crate) struct SqliteStore {
    writer: mpsc::Sender<Command>,
    readers: Arc<Readers>,
    cache: Cache,
    threads: Mutex<Option<(std::thread::JoinHandle<()>, Checkpointer)>>,
    /// Held until the store is closed: one process per database, because the writer thread
    /// caches each channel's last `seq` and a second writer would hand out the same numbers.
    lock: Mutex<Option<std::fs::File>>,
}

/// `relay.sqlite3` + `-wal`: the files SQLite keeps beside the database.
fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Every channel with its writer tally (last, oldest stored `seq`, stored bytes).
fn load_channels(
    conn: &Connection,
) -> anyhow::Result<(HashMap<String, ChannelInfo>, HashMap<String, Tally>)> {
    let (mut channels, mut tallies) = (HashMap::new(), HashMap::new());
    // `last_seq` is stored only when age retention may delete the newest event; otherwise
    // the newest event is the truth.
    let mut statement = conn.prepare(
        "SELECT c.id, c.token_hash, MAX(c.last_seq, COALESCE(MAX(e.seq), 0)), MIN(e.seq),
                COALESCE(SUM(e.size), 0)
         FROM channels c LEFT JOIN events e ON e.channel = c.id GROUP BY c.id",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let hash: Vec<u8> = row.get(1)?;
        let token_hash: TokenHash =
            hash.try_into().map_err(|_| anyhow::anyhow!("corrupt token hash for {id}"))?;
        let last_seq: u64 = row.get(2)?;
        let first_seq: Option<u64> = row.get(3)?;
        let first_seq = first_seq.unwrap_or(last_seq + 1);
        let tally = Tally {
            last_seq,
            first_seq,
            bytes: row.get(4)?,
            finished_below: first_seq,
            oldest_received_ms: None,
        };
        tallies.insert(id.clone(), tally);
        channels.insert(id.clone(), ChannelInfo { id, token_hash, last_seq });
    }
    Ok((channels, tallies))
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and starts the writer thread.
    pub(crate) fn open(path: &Path, fsync: bool, retention: Retention) -> anyhow::Result<Self> {
        let lock = lock_exclusively(path)?;
        // SQLite gives its -wal and -shm files the database file's mode, so a 0600 database
        // keeps them private too; older ones are made private here.
        let private = |path: &Path| {
            crate::files::make_private(path)
                .with_context(|| format!("could not make {} private", path.display()))
        };
        crate::files::private_file(path)
            .with_context(|| format!("could not create sqlite store {}", path.display()))?;
        for suffix in ["-wal", "-shm"] {
            private(&sibling(path, suffix))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("could not open sqlite store {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "NORMAL" })?;
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        // The writer never truncates the WAL (an ftruncate of a big WAL took 150 ms on ext4,
        // with every ingest waiting): it reuses the file from the top after each complete
        // checkpoint, and the checkpointer shrinks it once the relay is idle.
        conn.pragma_update(None, "journal_size_limit", -1)?;
        // Statement journals and sorters (retention's deletes, the id merge) in memory: as
        // temporary files, each was created, written and evicted again on the writer thread.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.execute_batch(SCHEMA).context("could not create the store's tables")?;
        migrate(&conn).context("could not upgrade the store's tables")?;

        // Rows of channels deleted while a purge was under way (a crash, a kill -9).
        conn.execute_batch(
            "DELETE FROM deliveries WHERE channel NOT IN (SELECT id FROM channels);
             DELETE FROM events WHERE channel NOT IN (SELECT id FROM channels);",
        )
        .context("could not finish purging deleted channels")?;
        let (channels, tallies) = load_channels(&conn)?;
        let deleted = conn
            .prepare("SELECT id FROM deleted_channels")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let cache: Cache = Arc::new(RwLock::new(Channels { live: channels, deleted }));
        let (writer, queue) = mpsc::channel(WRITE_QUEUE);
        let catch_up = CatchUp::default();
        let worker = Writer::new(conn, retention, tallies, cache.clone(), catch_up.clone());
        let span = tracing::info_span!("sqlite_writer", path = %path.display());
        let thread = std::thread::Builder::new()
            .name("hookrelay-sqlite-writer".into())
            .spawn(move || span.in_scope(|| worker.run(queue)))
            .context("could not start the sqlite writer thread")?;
        let checkpointer = Checkpointer::start(path, fsync, catch_up)?;
        let readers = Arc::new(Readers::new(path.to_owned(), BUSY_TIMEOUT));
        Ok(Self {
            writer,
            readers,
            cache,
            threads: Mutex::new(Some((thread, checkpointer))),
            lock: Mutex::new(Some(lock)),
        })
    }

    async fn write(&self, op: Op) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Command { op, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `query` on a read connection, after checking that the channel exists.
    async fn read<T: Send + 'static>(
        &self,
        channel: &str,
        query: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        if !read_cache(&self.cache).live.contains_key(channel) {
            return Err(StoreError::UnknownChannel(channel.to_owned()));
        }
        self.readers.run(query).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_channel(&self, id: &str, token_hash: TokenHash) -> Result<(), StoreError> {
        self.write(Op::Create { id: id.to_owned(), token_hash }).await.map(drop)
    }

    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError> {
        Ok(read_cache(&self.cache).live.get(id).cloned())
    }

    async fn set_token(&self, id: &str, token_hash: TokenHash) -> Result<bool, StoreError> {
        Ok(self.write(Op::SetToken { id: id.to_owned(), token_hash }).await? == 1)
    }

    async fn deleted(&self, id: &str) -> Result<bool, StoreError> {
        Ok(read_cache(&self.cache).deleted.contains(id))
    }

    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError> {
        if self.write(Op::Delete { id: id.to_owned() }).await? == 0 {
            return Ok(false);
        }
        while self.write(Op::Purge { id: id.to_owned() }).await? > 0 {}
        Ok(true)
    }

    async fn append(&self, channel: &str, event: NewEvent) -> Result<u64, StoreError> {
        self.write(Op::Append { channel: channel.to_owned(), event }).await
    }

    async fn summaries(&self, channel: &str, page: Page) -> Result<Vec<EventSummary>, StoreError> {
        let channel_id = channel.to_owned();
        self.read(channel, move |conn| reader::summaries(conn, &channel_id, page)).await
    }

    async fn find_event(&self, channel: &str, prefix: &str) -> Result<IdMatch, StoreError> {
        let (channel_id, prefix) = (channel.to_owned(), prefix.to_owned());
        self.read(channel, move |conn| reader::find_event(conn, &channel_id, &prefix)).await
    }

    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError> {
        let (channel_id, id) = (channel.to_owned(), id.to_owned());
        self.read(channel, move |conn| reader::detail(conn, &channel_id, &id)).await
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
            reader::events_after(conn, &channel_id, after, limit, max_bytes)
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
        // In chunks, each its own commit, so other writes go in between.
        let mut removed = 0;
        loop {
            match self.write(Op::Expire { cutoff_ms }).await? {
                0 => return Ok(removed),
                chunk => removed += chunk,
            }
        }
    }

    async fn resume_point(&self, channel: &str, after: u64) -> Result<u64, StoreError> {
        let channel_id = channel.to_owned();
        self.read(channel, move |conn| reader::resume_point(conn, &channel_id, after)).await
    }

    async fn expired(&self, channel: &str, from: u64, to: u64) -> Result<Vec<Gap>, StoreError> {
        let channel_id = channel.to_owned();
        self.read(channel, move |conn| reader::expired(conn, &channel_id, from, to)).await
    }

    async fn close(&self) {
        if let Err(err) = self.write(Op::Close).await {
            tracing::debug!(error = %err, "sqlite store already closed");
        }
        let threads = self.threads.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some((writer, checkpointer)) = threads {
            let _ = tokio::task::spawn_blocking(move || {
                let _ = writer.join();
                checkpointer.stop();
            })
            .await;
        }
        self.readers.clear();
        // Dropping the file releases the lock: the database may be opened again.
        self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    }
}
