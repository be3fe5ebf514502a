//! The SQLite store's only writer: one thread fed by a bounded queue. It drains whatever is
//! queued into one transaction (group commit), assigns each channel's next `seq`, applies
//! the byte quota and count retention, commits, and only then answers every waiter. One commit per batch, not
//! per request, is what keeps ingest fast without giving up "ack after durable append".

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use hookrelay_proto::DeliveryResult;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::batch::{Batch, Tally};
use super::checkpoint::CatchUp;
use super::{ChannelInfo, NewEvent, StoreError};
use crate::config::Retention;
use crate::ids::TokenHash;

/// Writes waiting for the writer thread. When it is full, senders wait for room (ingest
/// requests slow down, none fails), which is the back-pressure a disk slower than the
/// network needs.
pub(super) const WRITE_QUEUE: usize = 1024;
/// Most writes committed in one transaction.
const GROUP_COMMIT_MAX: usize = 512;
/// Body bytes after which a batch stops growing (it always takes at least one write).
const GROUP_COMMIT_BYTES: usize = 32 * 1024 * 1024;

/// The channel cache shared with readers: what `Store::channel` and `Store::deleted` answer
/// from.
pub(super) type Cache = Arc<RwLock<Channels>>;

/// Live channels by id, and the ids of deleted ones (never handed out again).
#[derive(Debug, Default)]
pub(super) struct Channels {
    pub live: HashMap<String, ChannelInfo>,
    pub deleted: HashSet<String>,
}

/// One write. Every write answers with one number: the new `seq` of an append, the count of
/// expired events, or 1/0 for "done"/"nothing there".
pub(super) enum Op {
    Create {
        id: String,
        token_hash: TokenHash,
    },
    Delete {
        id: String,
    },
    SetToken {
        id: String,
        token_hash: TokenHash,
    },
    /// Deletes a chunk of a deleted channel's rows; answers how many went (0: done).
    Purge {
        id: String,
    },
    Append {
        channel: String,
        event: NewEvent,
    },
    Deliver {
        channel: String,
        seq: u64,
        id: String,
        result: DeliveryResult,
    },
    Expire {
        cutoff_ms: i64,
    },
    Close,
}

/// A write and who waits for its answer.
pub(super) struct Command {
    pub op: Op,
    pub reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// A change to the channel cache, applied once its transaction committed.
pub(super) enum CacheOp {
    Insert(ChannelInfo),
    SetSeq(String),
    SetToken(String, TokenHash),
    Remove(String),
}

pub(super) struct Writer {
    conn: Connection,
    retention: Retention,
    /// Per channel: last `seq` (the source of truth for the next one), oldest stored `seq`
    /// and stored bytes.
    tallies: HashMap<String, Tally>,
    cache: Cache,
    /// The checkpointer's request to finish a checkpoint between two batches.
    catch_up: CatchUp,
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        retention: Retention,
        tallies: HashMap<String, Tally>,
        cache: Cache,
        catch_up: CatchUp,
    ) -> Self {
        Self { conn, retention, tallies, cache, catch_up }
    }

    /// Runs until `Op::Close` or until every sender is gone.
    pub(super) fn run(mut self, mut queue: mpsc::Receiver<Command>) {
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
            self.catch_up.run_if_asked(&self.conn);
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
                for (channel, tally) in undo {
                    match tally {
                        Some(tally) => self.tallies.insert(channel, tally),
                        None => self.tallies.remove(&channel),
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
        undo: &mut HashMap<String, Option<Tally>>,
        cache_ops: &mut Vec<CacheOp>,
    ) -> rusqlite::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let mut state = Batch {
            tallies: &mut self.tallies,
            undo,
            cache_ops,
            retention: &self.retention,
            appended: HashSet::new(),
        };
        for command in batch {
            results.push(state.apply(&tx, &command.op)?);
        }
        state.finish(&tx)?;
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
                    cache.live.insert(info.id.clone(), info);
                }
                CacheOp::SetSeq(id) => {
                    let live = cache.live.get_mut(&id);
                    if let (Some(info), Some(tally)) = (live, self.tallies.get(&id)) {
                        info.last_seq = tally.last_seq;
                    }
                }
                CacheOp::SetToken(id, token_hash) => {
                    if let Some(info) = cache.live.get_mut(&id) {
                        info.token_hash = token_hash;
                    }
                }
                CacheOp::Remove(id) => {
                    cache.live.remove(&id);
                    cache.deleted.insert(id);
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

pub(super) fn read_cache(cache: &Cache) -> std::sync::RwLockReadGuard<'_, Channels> {
    cache.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}
