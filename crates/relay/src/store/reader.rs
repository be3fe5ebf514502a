//! The SQLite store's read side: a small pool of read connections (WAL lets them read while
//! the writer commits), run off the async threads, and the history and streaming queries.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;
use bytes::Bytes;
use hookrelay_proto::{
    DeliveryResult, DeliveryState, Event, EventDetail, EventSummary, Gap, GapReason, Page,
};
use rusqlite::{Connection, MAIN_DB, OptionalExtension as _, Row, params};
use tokio::sync::Semaphore;

use super::{IdMatch, MAX_CANDIDATES, StoreError};

/// Most reads running at once (each on its own connection); further reads wait their turn.
const MAX_READERS: usize = 8;
/// Idle read connections kept open; more are opened under load and closed after.
const IDLE_READERS: usize = 4;

/// Read connections to one database file.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    slots: Semaphore,
    busy_timeout: std::time::Duration,
}

impl Readers {
    pub(super) fn new(path: PathBuf, busy_timeout: std::time::Duration) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(MAX_READERS),
            busy_timeout,
        }
    }

    /// Runs `query` on a pooled connection in the blocking thread pool.
    pub(super) async fn run<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        query: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _slot = self.slots.acquire().await.map_err(|_| StoreError::Closed)?;
        let readers = self.clone();
        let result = tokio::task::spawn_blocking(move || readers.with(query))
            .await
            .map_err(|err| anyhow::anyhow!("store read task failed: {err}"))?;
        Ok(result?)
    }

    /// Closes the idle connections.
    pub(super) fn clear(&self) {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }

    fn with<T>(&self, query: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&self.path)
                    .with_context(|| format!("could not open {}", self.path.display()))?;
                conn.busy_timeout(self.busy_timeout)?;
                conn.pragma_update(None, "query_only", true)?;
                conn
            }
        };
        // One read transaction per query: one snapshot, even across statements and blob reads.
        let result = conn.unchecked_transaction().map_err(anyhow::Error::from).and_then(|tx| {
            let result = query(&tx);
            drop(tx);
            result
        });
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

/// Summaries of the events `page` selects, oldest first.
pub(super) fn summaries(
    conn: &Connection,
    channel: &str,
    page: Page,
) -> anyhow::Result<Vec<EventSummary>> {
    const COLUMNS: &str =
        "id, seq, received_at_ms, method, path, query, size, last_result, event_type";
    let (sql, bound) = match page {
        Page::After { after, limit } => (
            format!(
                "SELECT {COLUMNS} FROM events WHERE channel = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ),
            (after, limit),
        ),
        Page::Last(n) => (
            format!(
                "SELECT * FROM (SELECT {COLUMNS} FROM events WHERE channel = ?1 AND seq > ?2
                 ORDER BY seq DESC LIMIT ?3) ORDER BY seq"
            ),
            (0, n),
        ),
    };
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params![channel, bound.0, bound.1])?;
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
            event_type: row.get(8)?,
            state: state_of(&last_result),
            last_result,
        });
    }
    Ok(summaries)
}

/// Resolves an id prefix (only `evt_` and base32 characters: no GLOB wildcards) by scanning
/// the channel's part of the `(channel, seq, id)` index (no table rows read).
pub(super) fn find_event(
    conn: &Connection,
    channel: &str,
    prefix: &str,
) -> anyhow::Result<IdMatch> {
    let mut statement = conn.prepare_cached(
        "SELECT id, seq FROM events WHERE channel = ?1 AND id GLOB ?2 ORDER BY seq LIMIT ?3",
    )?;
    // A bound pattern that starts with a literal lets SQLite range-scan the index.
    let pattern = format!("{prefix}*");
    let mut rows = statement.query(params![channel, pattern, MAX_CANDIDATES])?;
    let mut found: Vec<(String, u64)> = Vec::new();
    while let Some(row) = rows.next()? {
        found.push((row.get(0)?, row.get(1)?));
    }
    Ok(match found.len() {
        0 => IdMatch::None,
        1 => {
            let (id, seq) = found.remove(0);
            IdMatch::One { id, seq }
        }
        _ => IdMatch::Many(found.into_iter().map(|(id, _)| id).collect()),
    })
}

/// One event by id with every delivery result.
pub(super) fn detail(
    conn: &Connection,
    channel: &str,
    id: &str,
) -> anyhow::Result<Option<EventDetail>> {
    let sql =
        format!("SELECT {EVENT_COLUMNS}, last_result FROM events WHERE channel = ?1 AND id = ?2");
    let found = conn
        .prepare_cached(&sql)?
        .query_row(params![channel, id], |row| {
            Ok(event_from_row(conn, row).and_then(|event| Ok((event, last_result(row, 9)?))))
        })
        .optional()?;
    let Some((event, last)) = found.transpose()? else { return Ok(None) };
    let mut statement = conn.prepare_cached(
        "SELECT result FROM deliveries WHERE channel = ?1 AND seq = ?2 ORDER BY rowid",
    )?;
    let mut rows = statement.query(params![channel, event.seq])?;
    let mut deliveries = Vec::new();
    while let Some(row) = rows.next()? {
        deliveries.push(serde_json::from_str(&row.get::<_, String>(0)?)?);
    }
    Ok(Some(EventDetail { event, state: state_of(&last), deliveries }))
}

/// Full events after `after`: at most `limit`, and no more once bodies reach `max_bytes`
/// (at least one). The size column is checked before the body is read.
pub(super) fn events_after(
    conn: &Connection,
    channel: &str,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> anyhow::Result<Vec<Event>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE channel = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params![channel, after, limit])?;
    let (mut events, mut bytes) = (Vec::new(), 0usize);
    while let Some(row) = rows.next()? {
        let size: usize = row.get(7)?;
        if !events.is_empty() && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        events.push(event_from_row(conn, row)?);
    }
    Ok(events)
}

/// The recorded expired runs overlapping `from..=to`, oldest first.
pub(super) fn expired(
    conn: &Connection,
    channel: &str,
    from: u64,
    to: u64,
) -> anyhow::Result<Vec<Gap>> {
    let mut statement = conn.prepare_cached(
        "SELECT from_seq, to_seq FROM expired WHERE channel = ?1 AND to_seq >= ?2
         AND from_seq <= ?3 ORDER BY from_seq",
    )?;
    let rows = statement.query_map(params![channel, from, to], |row| {
        Ok(Gap { from_seq: row.get(0)?, to_seq: row.get(1)?, reason: GapReason::Expired })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Columns of `event_from_row`: everything but the body, which `read_body` reads by rowid.
const EVENT_COLUMNS: &str = "id, seq, received_at_ms, method, path, query, headers, size, rowid";

fn event_from_row(conn: &Connection, row: &Row) -> anyhow::Result<Event> {
    let headers: String = row.get(6)?;
    let body = read_body(conn, row.get(8)?, row.get(7)?)?;
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

/// Reads a body straight from its pages into one buffer of the right size.
fn read_body(conn: &Connection, rowid: i64, size: usize) -> anyhow::Result<Vec<u8>> {
    let mut body = vec![0; size];
    if size > 0 {
        let blob = conn.blob_open(MAIN_DB, c"events", c"body", rowid, true)?;
        blob.read_at_exact(&mut body, 0).context("could not read a body from the store")?;
    }
    Ok(body)
}

fn last_result(row: &Row, index: usize) -> anyhow::Result<Option<DeliveryResult>> {
    let json: Option<String> = row.get(index)?;
    Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
}

fn state_of(last: &Option<DeliveryResult>) -> DeliveryState {
    last.as_ref().map_or(DeliveryState::Pending, |result| result.outcome.into())
}

/// See `Store::resume_point`: the first unfinished event comes from the partial index
/// `events_unfinished`.
pub(super) fn resume_point(conn: &Connection, channel: &str, after: u64) -> anyhow::Result<u64> {
    let seq_after = |sql: &str| -> anyhow::Result<Option<u64>> {
        let mut statement = conn.prepare_cached(sql)?;
        Ok(statement.query_row(params![channel, after], |row| row.get(0))?)
    };
    let next = seq_after("SELECT MIN(seq) FROM events WHERE channel = ?1 AND seq > ?2")?;
    if next != Some(after + 1) {
        return Ok(after);
    }
    let unfinished = seq_after(
        "SELECT MIN(seq) FROM events WHERE channel = ?1 AND seq > ?2 AND last_result IS NULL",
    )?;
    match unfinished {
        Some(seq) => Ok(seq - 1),
        None => Ok(seq_after("SELECT MAX(seq) FROM events WHERE channel = ?1 AND seq > ?2")?
            .unwrap_or(after)),
    }
}
