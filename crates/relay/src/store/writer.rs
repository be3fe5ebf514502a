//! The SQLite store's only writer: one thread fed by a bounded queue. It drains whatever is
//! queued into one transaction (group commit), assigns each channel's next `seq`, applies
//! count retention, commits, and only then answers every waiter. One commit per batch, not
//! per request, is what keeps ingest fast without giving up "ack after durable append".

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use hookrelay_proto::DeliveryResult;
use rusqlite::{Connection, Transaction, params};
use tokio::sync::{mpsc, oneshot};

use super::{ChannelInfo, NewEvent, StoreError, first_kept_seq, now_ms};
use crate::auth::TokenHash;
use crate::config::Retention;

/// Writes waiting for the writer thread. When it is full, senders wait for room (ingest
/// requests slow down, none fails), which is the back-pressure a disk slower than the
/// network needs.
pub(super) const WRITE_QUEUE: usize = 1024;
/// Most writes committed in one transaction.
const GROUP_COMMIT_MAX: usize = 512;
/// Body bytes after which a batch stops growing (it always takes at least one write).
const GROUP_COMMIT_BYTES: usize = 32 * 1024 * 1024;

/// The channel cache shared with readers: what `Store::channel` answers from.
pub(super) type Cache = Arc<RwLock<HashMap<String, ChannelInfo>>>;

/// One write. Every write answers with one number: the new `seq` of an append, the count of
/// expired events, or 1/0 for "done"/"nothing there".
pub(super) enum Op {
    Create { id: String, token_hash: TokenHash },
    Delete { id: String },
    Append { channel: String, event: NewEvent },
    Deliver { channel: String, seq: u64, id: String, result: DeliveryResult },
    Expire { cutoff_ms: i64 },
    Close,
}

/// A write and who waits for its answer.
pub(super) struct Command {
    pub op: Op,
    pub reply: oneshot::Sender<Result<u64, StoreError>>,
}

enum CacheOp {
    Insert(ChannelInfo),
    SetSeq(String),
    Remove(String),
}

pub(super) struct Writer {
    conn: Connection,
    retention: Retention,
    /// Last `seq` per channel: the source of truth for the next one.
    seqs: HashMap<String, u64>,
    cache: Cache,
}

impl Writer {
    pub fn new(conn: Connection, retention: Retention, cache: Cache) -> Self {
        let seqs = read_cache(&cache).values().map(|c| (c.id.clone(), c.last_seq)).collect();
        Self { conn, retention, seqs, cache }
    }

    /// Runs until `Op::Close` or until every sender is gone.
    pub fn run(mut self, mut queue: mpsc::Receiver<Command>) {
        while let Some(first) = queue.blocking_recv() {
            let mut bytes = first.body_len();
            let mut batch = vec![first];
            while batch.len() < GROUP_COMMIT_MAX && bytes < GROUP_COMMIT_BYTES {
                let Ok(next) = queue.try_recv() else { break };
                bytes += next.body_len();
                batch.push(next);
            }
            let closing = batch.iter().any(|command| matches!(command.op, Op::Close));
            self.commit(batch);
            if closing {
                break;
            }
        }
        tracing::debug!("sqlite writer stopped");
    }

    fn commit(&mut self, batch: Vec<Command>) {
        let mut undo = HashMap::new();
        let mut cache_ops = Vec::new();
        let mut results = Vec::with_capacity(batch.len());
        let written = self.write_batch(&batch, &mut results, &mut undo, &mut cache_ops);
        match written {
            Ok(()) => {
                self.publish(cache_ops);
                for (command, result) in batch.into_iter().zip(results) {
                    let _ = command.reply.send(result);
                }
            }
            Err(err) => {
                tracing::error!(error = %err, writes = batch.len(), "sqlite commit failed");
                for (channel, seq) in undo {
                    match seq {
                        Some(seq) => self.seqs.insert(channel, seq),
                        None => self.seqs.remove(&channel),
                    };
                }
                for command in batch {
                    let err = anyhow::anyhow!("could not write to the sqlite store: {err}");
                    let _ = command.reply.send(Err(StoreError::Backend(err)));
                }
            }
        }
    }

    fn write_batch(
        &mut self,
        batch: &[Command],
        results: &mut Vec<Result<u64, StoreError>>,
        undo: &mut HashMap<String, Option<u64>>,
        cache_ops: &mut Vec<CacheOp>,
    ) -> rusqlite::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let mut state = Batch { seqs: &mut self.seqs, undo, cache_ops, appended: HashSet::new() };
        for command in batch {
            results.push(state.apply(&tx, &command.op)?);
        }
        state.finish(&tx, &self.retention)?;
        tx.commit()
    }

    fn publish(&self, ops: Vec<CacheOp>) {
        if ops.is_empty() {
            return;
        }
        let mut cache = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for op in ops {
            match op {
                CacheOp::Insert(info) => {
                    cache.insert(info.id.clone(), info);
                }
                CacheOp::SetSeq(id) => {
                    if let (Some(info), Some(seq)) = (cache.get_mut(&id), self.seqs.get(&id)) {
                        info.last_seq = *seq;
                    }
                }
                CacheOp::Remove(id) => {
                    cache.remove(&id);
                }
            }
        }
    }
}

impl Command {
    fn body_len(&self) -> usize {
        match &self.op {
            Op::Append { event, .. } => event.body.len(),
            _ => 0,
        }
    }
}

/// One transaction's view of the writer's state.
struct Batch<'a> {
    seqs: &'a mut HashMap<String, u64>,
    undo: &'a mut HashMap<String, Option<u64>>,
    cache_ops: &'a mut Vec<CacheOp>,
    appended: HashSet<String>,
}

impl Batch<'_> {
    /// Applies one write. The outer error aborts the whole batch; the inner one is this
    /// write's own answer (unknown channel, name taken) and leaves the batch going.
    fn apply(&mut self, tx: &Transaction, op: &Op) -> rusqlite::Result<Result<u64, StoreError>> {
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
                tx.prepare_cached(
                    "INSERT INTO events (channel, seq, id, received_at_ms, method, path, query, headers, size, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
                    &event.body[..],
                ])?;
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

    /// Persists each appended channel's last `seq` and applies count retention.
    fn finish(&mut self, tx: &Transaction, retention: &Retention) -> rusqlite::Result<()> {
        for channel in self.appended.drain() {
            let Some(&last_seq) = self.seqs.get(&channel) else { continue };
            tx.prepare_cached("UPDATE channels SET last_seq = ?2 WHERE id = ?1")?
                .execute(params![channel, last_seq])?;
            let first_kept = first_kept_seq(retention, last_seq);
            if first_kept > 1 {
                tx.prepare_cached("DELETE FROM deliveries WHERE channel = ?1 AND seq < ?2")?
                    .execute(params![channel, first_kept])?;
                tx.prepare_cached("DELETE FROM events WHERE channel = ?1 AND seq < ?2")?
                    .execute(params![channel, first_kept])?;
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

pub(super) fn read_cache(
    cache: &Cache,
) -> std::sync::RwLockReadGuard<'_, HashMap<String, ChannelInfo>> {
    cache.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}
