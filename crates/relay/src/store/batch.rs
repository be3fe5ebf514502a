//! One group commit's worth of writes inside one SQLite transaction: each `Op` as SQL and
//! the next `seq` per channel (retention, in `retention.rs`, continues this `impl`). Errors of
//! a single write (unknown channel, name taken, channel full) are that write's answer; a SQL
//! error aborts the whole batch.

use std::collections::{HashMap, HashSet};

use rusqlite::blob::ZeroBlob;
use rusqlite::{MAIN_DB, ToSql, Transaction, params};

use super::writer::{CacheOp, Op};
use super::{ChannelInfo, MAX_ATTEMPTS_KEPT, NewEvent, StoreError, now_ms};
use crate::config::Retention;

/// Most rows one `Op::Purge` deletes per table, and most events one `Op::Expire` removes:
/// big deletes go in chunks so that other writes get their turn in between.
pub(super) const PURGE_CHUNK: usize = 1000;

/// Bodies from this size on are written through SQLite's incremental blob I/O.
const BLOB_STREAM_MIN: usize = 64 * 1024;

/// What the writer keeps per channel. A channel's stored events are exactly the `seq`s
/// `first_seq..=last_seq` (retention only ever removes a prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    /// The highest `seq` ever appended.
    pub last_seq: u64,
    /// The oldest stored `seq` (`last_seq + 1` when none is stored).
    pub first_seq: u64,
    /// Body bytes stored.
    pub bytes: u64,
    /// Every stored event below this `seq` is finished (a lower bound of the oldest
    /// unfinished one, moved on by `Batch::first_unfinished`). Kept here instead of in a
    /// partial index, which every append and every delivery had to write.
    pub finished_below: u64,
    /// When the oldest stored event was received, once age retention has looked it up
    /// (`None` again whenever the oldest events change), so a sweep skips channels that
    /// have nothing old.
    pub oldest_received_ms: Option<i64>,
}

impl Tally {
    pub(super) fn stored(&self) -> u64 {
        self.last_seq + 1 - self.first_seq
    }
}

/// One transaction's view of the writer's state.
pub(super) struct Batch<'a> {
    pub tallies: &'a mut HashMap<String, Tally>,
    /// Each touched channel's tally before the batch (None: it did not exist), for rollback.
    pub undo: &'a mut HashMap<String, Option<Tally>>,
    pub cache_ops: &'a mut Vec<CacheOp>,
    pub retention: &'a Retention,
    pub appended: HashSet<String>,
}

impl Batch<'_> {
    /// Applies one write. The outer error aborts the whole batch; the inner one is this
    /// write's own answer (unknown channel, name taken, channel full) and leaves the batch
    /// going.
    pub(super) fn apply(
        &mut self,
        tx: &Transaction,
        op: &Op,
    ) -> rusqlite::Result<Result<u64, StoreError>> {
        Ok(match op {
            Op::Create { id, token_hash } => {
                let deleted: bool = tx
                    .prepare_cached("SELECT COUNT(*) > 0 FROM deleted_channels WHERE id = ?1")?
                    .query_row([id], |row| row.get(0))?;
                if self.tallies.contains_key(id) || deleted {
                    return Ok(Err(StoreError::ChannelExists(id.clone())));
                }
                tx.prepare_cached(
                    "INSERT INTO channels (id, token_hash, created_at_ms, last_seq) VALUES (?1, ?2, ?3, 0)",
                )?
                .execute(params![id, &token_hash[..], now_ms()])?;
                self.set(
                    id,
                    Some(Tally {
                        last_seq: 0,
                        first_seq: 1,
                        bytes: 0,
                        finished_below: 1,
                        oldest_received_ms: None,
                    }),
                );
                let info = ChannelInfo { id: id.clone(), token_hash: *token_hash, last_seq: 0 };
                self.cache_ops.push(CacheOp::Insert(info));
                Ok(0)
            }
            Op::Delete { id } => {
                if !self.tallies.contains_key(id) {
                    return Ok(Ok(0));
                }
                // The events and their deliveries go in `Op::Purge` chunks after this commit:
                // one big delete here would stall every other channel's writes.
                tx.prepare_cached("DELETE FROM expired WHERE channel = ?1")?.execute([id])?;
                tx.prepare_cached("DELETE FROM channels WHERE id = ?1")?.execute([id])?;
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO deleted_channels (id, deleted_at_ms) VALUES (?1, ?2)",
                )?
                .execute(params![id, now_ms()])?;
                self.set(id, None);
                self.cache_ops.push(CacheOp::Remove(id.clone()));
                Ok(1)
            }
            Op::SetToken { id, token_hash } => {
                if !self.tallies.contains_key(id) {
                    return Ok(Ok(0));
                }
                tx.prepare_cached("UPDATE channels SET token_hash = ?2 WHERE id = ?1")?
                    .execute(params![id, &token_hash[..]])?;
                self.cache_ops.push(CacheOp::SetToken(id.clone(), *token_hash));
                Ok(1)
            }
            Op::Purge { id } => {
                if self.tallies.contains_key(id) {
                    return Ok(Ok(0));
                }
                let mut removed = 0;
                for table in ["deliveries", "events"] {
                    removed += tx
                        .prepare_cached(&format!(
                            "DELETE FROM {table} WHERE rowid IN
                             (SELECT rowid FROM {table} WHERE channel = ?1 LIMIT ?2)"
                        ))?
                        .execute(params![id, PURGE_CHUNK])?;
                }
                Ok(removed as u64)
            }
            Op::Append { channel, event } => self.append(tx, channel, event)?,
            Op::Deliver { channel, seq, id, result } => {
                let json =
                    serde_json::to_string(result).expect("a delivery result always serializes");
                // An attempt that will be retried is history only; an outcome sets the state.
                let found = if result.is_final() {
                    tx.prepare_cached(
                        "UPDATE events SET last_result = ?4 WHERE channel = ?1 AND seq = ?2 AND id = ?3",
                    )?
                    .execute(params![channel, seq, id, json])?
                } else {
                    let exists: usize = tx
                        .prepare_cached(
                            "SELECT COUNT(*) FROM events WHERE channel = ?1 AND seq = ?2 AND id = ?3",
                        )?
                        .query_row(params![channel, seq, id], |row| row.get(0))?;
                    let kept: u64 = tx
                        .prepare_cached(
                            "SELECT COUNT(*) FROM deliveries WHERE channel = ?1 AND seq = ?2
                             AND result LIKE '%\"will_retry\":true%'",
                        )?
                        .query_row(params![channel, seq], |row| row.get(0))?;
                    if exists > 0 && kept >= MAX_ATTEMPTS_KEPT {
                        // Known event, history full of attempts: acknowledged, not stored.
                        return Ok(Ok(1));
                    }
                    exists
                };
                if found == 0 {
                    return Ok(Ok(0));
                }
                tx.prepare_cached(
                    "INSERT INTO deliveries (channel, seq, result) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![channel, seq, json])?;
                Ok(1)
            }
            Op::Expire { cutoff_ms } => Ok(self.expire(tx, *cutoff_ms)?),
            Op::Close => Ok(0),
        })
    }

    fn append(
        &mut self,
        tx: &Transaction,
        channel: &str,
        event: &NewEvent,
    ) -> rusqlite::Result<Result<u64, StoreError>> {
        let Some(&tally) = self.tallies.get(channel) else {
            return Ok(Err(StoreError::UnknownChannel(channel.to_owned())));
        };
        let size = event.body.len() as u64;
        let limit = self.retention.max_channel_bytes;
        let over = (tally.bytes + size).saturating_sub(limit);
        if over > 0 && !self.make_room(tx, channel, over)? {
            return Ok(Err(StoreError::ChannelFull { channel: channel.to_owned(), limit }));
        }
        let seq = tally.last_seq + 1;
        let headers = serde_json::to_string(&event.headers)
            .expect("a list of string pairs always serializes");
        // A big body is written straight into its pages rather than bound as a parameter,
        // which SQLite would copy twice.
        let streamed = event.body.len() >= BLOB_STREAM_MIN;
        let zeroes;
        let body: &dyn ToSql = if streamed {
            let len = i32::try_from(event.body.len())
                .map_err(|_| rusqlite::Error::ToSqlConversionFailure("body over 2 GiB".into()))?;
            zeroes = ZeroBlob(len);
            &zeroes
        } else {
            &&event.body[..]
        };
        tx.prepare_cached(
            "INSERT INTO events (channel, seq, id, received_at_ms, method, path, query,
                                 headers, size, event_type, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            channel,
            seq,
            event.id,
            event.received_at_ms,
            event.method,
            event.path,
            event.query,
            headers,
            size,
            event.event_type,
            body,
        ])?;
        if streamed {
            tx.blob_open(MAIN_DB, c"events", c"body", tx.last_insert_rowid(), false)?
                .write_all_at(&event.body, 0)?;
        }
        let tally = self.tally(channel);
        tally.last_seq = seq;
        tally.bytes += size;
        self.appended.insert(channel.to_owned());
        Ok(Ok(seq))
    }

    /// The channel's tally for changing, its state before the batch remembered.
    pub(super) fn tally(&mut self, channel: &str) -> &mut Tally {
        let before = self.tallies.get(channel).copied();
        self.undo.entry(channel.to_owned()).or_insert(before);
        self.tallies.get_mut(channel).expect("only called for channels that exist")
    }

    /// Sets (or removes) a channel's tally, remembering its state before the batch.
    fn set(&mut self, channel: &str, tally: Option<Tally>) {
        let before = self.tallies.get(channel).copied();
        self.undo.entry(channel.to_owned()).or_insert(before);
        match tally {
            Some(tally) => self.tallies.insert(channel.to_owned(), tally),
            None => self.tallies.remove(channel),
        };
    }
}
