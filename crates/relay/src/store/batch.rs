//! One group commit's worth of writes inside one SQLite transaction: each `Op` as SQL, the
//! next `seq` per channel, and count retention. Errors of a single write (unknown channel,
//! name taken) are that write's answer; a SQL error aborts the whole batch.

use std::collections::{HashMap, HashSet};

use rusqlite::blob::ZeroBlob;
use rusqlite::{MAIN_DB, ToSql, Transaction, params};

use super::writer::{CacheOp, Op};
use super::{ChannelInfo, StoreError, first_kept_seq, now_ms};
use crate::config::Retention;

/// Bodies from this size on are written through SQLite's incremental blob I/O.
const BLOB_STREAM_MIN: usize = 64 * 1024;

/// One transaction's view of the writer's state.
pub(super) struct Batch<'a> {
    pub seqs: &'a mut HashMap<String, u64>,
    pub pruned: &'a mut HashMap<String, u64>,
    pub undo: &'a mut HashMap<String, Option<u64>>,
    pub cache_ops: &'a mut Vec<CacheOp>,
    pub appended: HashSet<String>,
}

impl Batch<'_> {
    /// Applies one write. The outer error aborts the whole batch; the inner one is this
    /// write's own answer (unknown channel, name taken) and leaves the batch going.
    pub(super) fn apply(
        &mut self,
        tx: &Transaction,
        op: &Op,
    ) -> rusqlite::Result<Result<u64, StoreError>> {
        Ok(match op {
            Op::Create { id, token_hash } => {
                if self.seqs.contains_key(id) {
                    return Ok(Err(StoreError::ChannelExists(id.clone())));
                }
                tx.prepare_cached(
                    "INSERT INTO channels (id, token_hash, created_at_ms, last_seq) VALUES (?1, ?2, ?3, 0)",
                )?
                .execute(params![id, &token_hash[..], now_ms()])?;
                self.set_seq(id, Some(0));
                let info = ChannelInfo { id: id.clone(), token_hash: *token_hash, last_seq: 0 };
                self.cache_ops.push(CacheOp::Insert(info));
                Ok(0)
            }
            Op::Delete { id } => {
                if !self.seqs.contains_key(id) {
                    return Ok(Ok(0));
                }
                tx.prepare_cached("DELETE FROM deliveries WHERE channel = ?1")?.execute([id])?;
                tx.prepare_cached("DELETE FROM events WHERE channel = ?1")?.execute([id])?;
                tx.prepare_cached("DELETE FROM channels WHERE id = ?1")?.execute([id])?;
                self.set_seq(id, None);
                self.pruned.remove(id);
                self.cache_ops.push(CacheOp::Remove(id.clone()));
                Ok(1)
            }
            Op::Append { channel, event } => {
                let Some(last) = self.seqs.get(channel) else {
                    return Ok(Err(StoreError::UnknownChannel(channel.clone())));
                };
                let seq = last + 1;
                let headers = serde_json::to_string(&event.headers)
                    .expect("a list of string pairs always serializes");
                // A big body is written straight into its pages rather than bound as a
                // parameter, which SQLite would copy twice.
                let streamed = event.body.len() >= BLOB_STREAM_MIN;
                let zeroes;
                let body: &dyn ToSql = if streamed {
                    let len = i32::try_from(event.body.len()).map_err(|_| {
                        rusqlite::Error::ToSqlConversionFailure("body over 2 GiB".into())
                    })?;
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
                    event.body.len(),
                    event.event_type,
                    body,
                ])?;
                if streamed {
                    tx.blob_open(MAIN_DB, c"events", c"body", tx.last_insert_rowid(), false)?
                        .write_all_at(&event.body, 0)?;
                }
                self.set_seq(channel, Some(seq));
                self.appended.insert(channel.clone());
                Ok(seq)
            }
            Op::Deliver { channel, seq, id, result } => {
                let json =
                    serde_json::to_string(result).expect("a delivery result always serializes");
                let updated = tx
                    .prepare_cached(
                        "UPDATE events SET last_result = ?4 WHERE channel = ?1 AND seq = ?2 AND id = ?3",
                    )?
                    .execute(params![channel, seq, id, json])?;
                if updated == 0 {
                    return Ok(Ok(0));
                }
                tx.prepare_cached(
                    "INSERT INTO deliveries (channel, seq, result) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![channel, seq, json])?;
                Ok(1)
            }
            Op::Expire { cutoff_ms } => {
                // `last_seq` is otherwise recovered from the newest event, which may go now.
                tx.prepare_cached(
                    "UPDATE channels SET last_seq = MAX(last_seq,
                     COALESCE((SELECT MAX(seq) FROM events WHERE channel = channels.id), 0))",
                )?
                .execute([])?;
                tx.prepare_cached(
                    "DELETE FROM deliveries WHERE (channel, seq) IN
                     (SELECT channel, seq FROM events WHERE received_at_ms < ?1)",
                )?
                .execute([cutoff_ms])?;
                let removed = tx
                    .prepare_cached("DELETE FROM events WHERE received_at_ms < ?1")?
                    .execute([cutoff_ms])?;
                Ok(removed as u64)
            }
            Op::Close => Ok(0),
        })
    }

    /// Applies count retention to each appended channel, in steps of `prune_step` events so
    /// that most commits delete nothing. The channel's `last_seq` is not written here: it is
    /// the newest event's `seq`, which count retention never deletes.
    pub(super) fn finish(
        &mut self,
        tx: &Transaction,
        retention: &Retention,
    ) -> rusqlite::Result<()> {
        let step = prune_step(retention);
        for channel in self.appended.drain() {
            let Some(&last_seq) = self.seqs.get(&channel) else { continue };
            let first_kept = first_kept_seq(retention, last_seq);
            let pruned = self.pruned.get(&channel).copied().unwrap_or(0);
            if first_kept > 1 && first_kept >= pruned + step {
                tx.prepare_cached("DELETE FROM deliveries WHERE channel = ?1 AND seq < ?2")?
                    .execute(params![channel, first_kept])?;
                tx.prepare_cached("DELETE FROM events WHERE channel = ?1 AND seq < ?2")?
                    .execute(params![channel, first_kept])?;
                self.pruned.insert(channel.clone(), first_kept);
            }
            self.cache_ops.push(CacheOp::SetSeq(channel));
        }
        Ok(())
    }

    /// Changes a channel's last `seq` (None: gone), remembering the value before the batch.
    fn set_seq(&mut self, channel: &str, seq: Option<u64>) {
        let before = self.seqs.get(channel).copied();
        self.undo.entry(channel.to_owned()).or_insert(before);
        match seq {
            Some(seq) => self.seqs.insert(channel.to_owned(), seq),
            None => self.seqs.remove(channel),
        };
    }
}

/// How far past `max_events` a channel may grow before count retention deletes: 1 % of
/// `max_events`, at most 100 events, so a channel never holds more than 1 % extra.
fn prune_step(retention: &Retention) -> u64 {
    (retention.max_events / 100).clamp(1, 100)
}
