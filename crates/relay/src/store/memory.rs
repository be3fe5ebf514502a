//! `MemoryStore`: the store in process memory, for tests and throwaway relays. Same
//! semantics as SQLite (seq, retention, delivery state), nothing survives a restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use hookrelay_proto::{DeliveryResult, DeliveryState, Event, EventDetail, EventSummary, Gap, Page};

use super::{
    ChannelInfo, IdMatch, MAX_ATTEMPTS_KEPT, MAX_CANDIDATES, NewEvent, Store, StoreError,
    expired_runs,
};
use crate::config::Retention;
use crate::ids::TokenHash;

/// Every channel behind one mutex, never held across an await.
pub(crate) struct MemoryStore {
    retention: Retention,
    state: Mutex<Option<HashMap<String, Channel>>>,
    /// Ids of deleted channels, never handed out again. Locked only inside `state`'s lock.
    deleted: Mutex<HashSet<String>>,
}

struct Channel {
    token_hash: TokenHash,
    last_seq: u64,
    events: VecDeque<Stored>,
    /// Body bytes of `events`.
    bytes: u64,
    /// Runs of unfinished events age retention removed.
    expired: Vec<Gap>,
}

struct Stored {
    event: Event,
    event_type: Option<String>,
    deliveries: Vec<DeliveryResult>,
}

impl Stored {
    /// The last outcome (attempts that were retried are not outcomes).
    fn last_result(&self) -> Option<&DeliveryResult> {
        self.deliveries.iter().rev().find(|result| result.is_final())
    }

    fn state(&self) -> DeliveryState {
        self.last_result().map_or(DeliveryState::Pending, |result| result.outcome.into())
    }

    fn finished(&self) -> bool {
        self.last_result().is_some()
    }

    fn size(&self) -> u64 {
        self.event.body.len() as u64
    }
}

impl MemoryStore {
    /// An empty store applying `retention`.
    pub(crate) fn new(retention: Retention) -> Self {
        Self { retention, state: Mutex::new(Some(HashMap::new())), deleted: Mutex::default() }
    }

    /// Runs `f` on the channels, or fails with `Closed` after `close`.
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Channel>) -> T) -> Result<T, StoreError> {
        // A panic while holding the lock leaves plain data behind, still consistent per call.
        let mut guard = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.as_mut().map(f).ok_or(StoreError::Closed)
    }

    fn deleted_ids(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.deleted.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with_channel<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Channel) -> T,
    ) -> Result<T, StoreError> {
        self.with(|channels| channels.get_mut(id).map(f))?
            .ok_or_else(|| StoreError::UnknownChannel(id.to_owned()))
    }
}

impl Channel {
    fn find(&self, seq: u64) -> Option<usize> {
        self.events.binary_search_by_key(&seq, |stored| stored.event.seq).ok()
    }

    fn after(&self, after: u64) -> impl Iterator<Item = &Stored> {
        let start = self.events.partition_point(|stored| stored.event.seq <= after);
        self.events.range(start..)
    }

    /// How many of the oldest events must go to free `needed` bytes, if they are all
    /// finished; `None` when the finished prefix is too small.
    fn room_from_finished(&self, needed: u64) -> Option<usize> {
        let mut freed = 0;
        for (index, stored) in self.events.iter().take_while(|s| s.finished()).enumerate() {
            freed += stored.size();
            if freed >= needed {
                return Some(index + 1);
            }
        }
        None
    }

    fn pop_oldest(&mut self, count: usize) -> usize {
        let count = count.min(self.events.len());
        for stored in self.events.drain(..count) {
            self.bytes -= stored.size();
        }
        count
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_channel(&self, id: &str, token_hash: TokenHash) -> Result<(), StoreError> {
        self.with(|channels| {
            if channels.contains_key(id) || self.deleted_ids().contains(id) {
                return Err(StoreError::ChannelExists(id.to_owned()));
            }
            let channel = Channel {
                token_hash,
                last_seq: 0,
                events: VecDeque::new(),
                bytes: 0,
                expired: Vec::new(),
            };
            channels.insert(id.to_owned(), channel);
            Ok(())
        })?
    }

    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError> {
        self.with(|channels| {
            channels.get(id).map(|channel| ChannelInfo {
                id: id.to_owned(),
                token_hash: channel.token_hash,
                last_seq: channel.last_seq,
            })
        })
    }

    async fn set_token(&self, id: &str, token_hash: TokenHash) -> Result<bool, StoreError> {
        self.with(|channels| {
            channels.get_mut(id).map(|channel| channel.token_hash = token_hash).is_some()
        })
    }

    async fn deleted(&self, id: &str) -> Result<bool, StoreError> {
        self.with(|_| self.deleted_ids().contains(id))
    }

    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError> {
        self.with(|channels| {
            let existed = channels.remove(id).is_some();
            if existed {
                self.deleted_ids().insert(id.to_owned());
            }
            existed
        })
    }

    async fn append(&self, channel: &str, event: NewEvent) -> Result<u64, StoreError> {
        let retention = self.retention;
        let id = channel;
        self.with_channel(channel, |channel| {
            let size = event.body.len() as u64;
            let over = (channel.bytes + size).saturating_sub(retention.max_channel_bytes);
            if over > 0 {
                let Some(count) = channel.room_from_finished(over) else {
                    let limit = retention.max_channel_bytes;
                    return Err(StoreError::ChannelFull { channel: id.to_owned(), limit });
                };
                channel.pop_oldest(count);
            }
            channel.last_seq += 1;
            let seq = channel.last_seq;
            channel.bytes += size;
            channel.events.push_back(Stored {
                event_type: event.event_type.clone(),
                event: event.into_event(seq),
                deliveries: Vec::new(),
            });
            let excess = channel.events.len().saturating_sub(retention.max_events as usize);
            let finished = channel.events.iter().take(excess).take_while(|s| s.finished());
            let count = finished.count();
            channel.pop_oldest(count);
            Ok(seq)
        })?
    }

    async fn summaries(&self, channel: &str, page: Page) -> Result<Vec<EventSummary>, StoreError> {
        self.with_channel(channel, |channel| {
            let summary = |stored: &Stored| EventSummary {
                event_type: stored.event_type.clone(),
                id: stored.event.id.clone(),
                seq: stored.event.seq,
                received_at_ms: stored.event.received_at_ms,
                method: stored.event.method.clone(),
                path: stored.event.path.clone(),
                query: stored.event.query.clone(),
                size: stored.event.body.len() as u64,
                state: stored.state(),
                last_result: stored.last_result().cloned(),
            };
            match page {
                Page::After { after, limit } => {
                    channel.after(after).take(limit).map(summary).collect()
                }
                Page::Last(n) => {
                    let skip = channel.events.len().saturating_sub(n);
                    channel.events.iter().skip(skip).map(summary).collect()
                }
            }
        })
    }

    async fn find_event(&self, channel: &str, prefix: &str) -> Result<IdMatch, StoreError> {
        self.with_channel(channel, |channel| {
            let mut found =
                channel.events.iter().filter(|stored| stored.event.id.starts_with(prefix));
            match (found.next(), found.next()) {
                (None, _) => IdMatch::None,
                (Some(one), None) => IdMatch::One { id: one.event.id.clone(), seq: one.event.seq },
                (Some(first), Some(second)) => {
                    let rest = found.take(MAX_CANDIDATES - 2);
                    let ids = [first, second].into_iter().chain(rest);
                    IdMatch::Many(ids.map(|stored| stored.event.id.clone()).collect())
                }
            }
        })
    }

    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError> {
        self.with_channel(channel, |channel| {
            channel.events.iter().find(|stored| stored.event.id == id).map(|stored| EventDetail {
                event: stored.event.clone(),
                state: stored.state(),
                deliveries: stored.deliveries.clone(),
            })
        })
    }

    async fn events_after(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.with_channel(channel, |channel| {
            let mut events = Vec::new();
            let mut bytes = 0;
            for stored in channel.after(after).take(limit) {
                if !events.is_empty() && bytes + stored.event.body.len() > max_bytes {
                    break;
                }
                bytes += stored.event.body.len();
                events.push(stored.event.clone());
            }
            events
        })
    }

    async fn record_delivery(
        &self,
        channel: &str,
        seq: u64,
        id: &str,
        result: DeliveryResult,
    ) -> Result<bool, StoreError> {
        Ok(self
            .with(|channels| {
                let channel = channels.get_mut(channel)?;
                let index = channel.find(seq)?;
                let stored = &mut channel.events[index];
                let attempts = stored.deliveries.iter().filter(|r| !r.is_final()).count() as u64;
                let full = !result.is_final() && attempts >= MAX_ATTEMPTS_KEPT;
                (stored.event.id == id).then(|| {
                    if !full {
                        stored.deliveries.push(result);
                    }
                })
            })?
            .is_some())
    }

    async fn expire_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.with(|channels| {
            let mut removed = 0;
            for channel in channels.values_mut() {
                let old = channel.events.iter().filter(|s| s.event.received_at_ms < cutoff_ms);
                let Some(through) = old.map(|stored| stored.event.seq).max() else { continue };
                let count = channel.events.partition_point(|s| s.event.seq <= through);
                let unfinished = channel.events.iter().take(count).filter(|s| !s.finished());
                let runs = expired_runs(unfinished.map(|stored| stored.event.seq));
                channel.expired.extend(runs);
                removed += channel.pop_oldest(count) as u64;
            }
            removed
        })
    }

    async fn resume_point(&self, channel: &str, after: u64) -> Result<u64, StoreError> {
        self.with_channel(channel, |channel| {
            let start = channel.events.partition_point(|stored| stored.event.seq <= after);
            let mut resume = after;
            for stored in channel.events.range(start..) {
                if stored.event.seq != resume + 1 || !stored.finished() {
                    break;
                }
                resume = stored.event.seq;
            }
            resume
        })
    }

    async fn expired(&self, channel: &str, from: u64, to: u64) -> Result<Vec<Gap>, StoreError> {
        self.with_channel(channel, |channel| {
            let overlapping = channel.expired.iter().filter(|run| run.to_seq >= from);
            overlapping.take_while(|run| run.from_seq <= to).cloned().collect()
        })
    }

    async fn close(&self) {
        let mut guard = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = None;
    }
}
