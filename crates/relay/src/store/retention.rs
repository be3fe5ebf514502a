//! Retention inside one batch (DESIGN §2.2): the byte quota making room from finished
//! events, count retention after appends, age retention in chunks recording expired runs,
//! and the prefix removal they share. A channel's stored events stay one contiguous run of
//! `seq`s: everything removed is a prefix, and never an event a client has not finished,
//! except by age.

use rusqlite::{OptionalExtension as _, Transaction, params};

use super::batch::{Batch, PURGE_CHUNK};
use super::writer::CacheOp;
use super::{expired_runs, now_ms};
use crate::config::Retention;

impl Batch<'_> {
    /// Removes the oldest finished events until `needed` body bytes are free; `false`
    /// (nothing removed) when the finished prefix cannot free that much.
    pub(super) fn make_room(
        &mut self,
        tx: &Transaction,
        channel: &str,
        needed: u64,
    ) -> rusqlite::Result<bool> {
        let stop = self.first_unfinished(tx, channel)?;
        let mut statement = tx.prepare_cached(
            "SELECT seq, size FROM events WHERE channel = ?1 AND seq < ?2 ORDER BY seq",
        )?;
        let mut rows = statement.query(params![channel, stop.unwrap_or(u64::MAX >> 1)])?;
        let mut freed = 0;
        while let Some(row) = rows.next()? {
            freed += row.get::<_, u64>(1)?;
            if freed >= needed {
                let through: u64 = row.get(0)?;
                drop(rows);
                self.remove_through(tx, channel, through)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Age retention: per channel, removes the run of oldest events received before
    /// `cutoff_ms`, recording its unfinished events as expired runs. Events are numbered in
    /// the order they arrive, so the old ones are the oldest `seq`s: a walk from the first
    /// stored event finds them without a time index for every append to write.
    pub(super) fn expire(&mut self, tx: &Transaction, cutoff_ms: i64) -> rusqlite::Result<u64> {
        // `last_seq` is otherwise recovered from the newest event, which may go now.
        tx.prepare_cached(
            "UPDATE channels SET last_seq = MAX(last_seq,
             COALESCE((SELECT MAX(seq) FROM events WHERE channel = channels.id), 0))",
        )?
        .execute([])?;
        let channels: Vec<(String, u64)> = self
            .tallies
            .iter()
            .filter(|(_, tally)| tally.stored() > 0)
            .filter(|(_, tally)| tally.oldest_received_ms.is_none_or(|at| at < cutoff_ms))
            .map(|(channel, tally)| (channel.clone(), tally.first_seq))
            .collect();
        let mut removed = 0;
        for (channel, first_seq) in channels {
            // At most a chunk per call: the caller calls again while events go.
            let budget = (PURGE_CHUNK as u64).saturating_sub(removed);
            if budget == 0 {
                break;
            }
            let (through, first_young) = old_prefix(tx, &channel, first_seq, cutoff_ms, budget)?;
            let Some(through) = through else {
                // Nothing old: remembered until the oldest events change.
                self.tally(&channel).oldest_received_ms = first_young;
                continue;
            };
            let unfinished: Vec<u64> = tx
                .prepare_cached(
                    "SELECT seq FROM events WHERE channel = ?1 AND seq <= ?2
                     AND last_result IS NULL ORDER BY seq",
                )?
                .query_map(params![channel, through], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let runs = expired_runs(unfinished);
            for run in &runs {
                // A run that continues the last one (an expiry in chunks) extends it.
                let extended = tx
                    .prepare_cached(
                        "UPDATE expired SET to_seq = ?3 WHERE channel = ?1 AND to_seq = ?2 - 1",
                    )?
                    .execute(params![channel, run.from_seq, run.to_seq])?;
                if extended == 0 {
                    tx.prepare_cached(
                        "INSERT INTO expired (channel, from_seq, to_seq, expired_at_ms)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![
                        channel,
                        run.from_seq,
                        run.to_seq,
                        now_ms()
                    ])?;
                }
            }
            if !runs.is_empty() {
                let count: u64 = runs.iter().map(hookrelay_proto::Gap::count).sum();
                tracing::warn!(
                    channel,
                    count,
                    from_seq = runs[0].from_seq,
                    to_seq = runs[runs.len() - 1].to_seq,
                    "age retention expired events no client has finished"
                );
            }
            removed += self.remove_through(tx, &channel, through)?;
        }
        Ok(removed)
    }

    /// Applies count retention to each appended channel: the oldest finished events go,
    /// never one after an unfinished event. In steps of `prune_step` events so that most
    /// commits delete nothing.
    pub(super) fn finish(&mut self, tx: &Transaction) -> rusqlite::Result<()> {
        let max_events = self.retention.max_events.max(1);
        let step = prune_step(self.retention);
        for channel in std::mem::take(&mut self.appended) {
            let Some(&tally) = self.tallies.get(&channel) else { continue };
            if tally.stored() >= max_events + step {
                let wanted_first = tally.last_seq + 1 - max_events;
                let stop = self.first_unfinished(tx, &channel)?.unwrap_or(u64::MAX);
                let through = wanted_first.min(stop) - 1;
                if through >= tally.first_seq {
                    self.remove_through(tx, &channel, through)?;
                }
            }
            self.cache_ops.push(CacheOp::SetSeq(channel));
        }
        Ok(())
    }

    /// The oldest event of `channel` that no client has finished. The walk starts at the
    /// tally's `finished_below` (finished events never become unfinished again) and moves
    /// it on, so over time each event is stepped over about once.
    fn first_unfinished(
        &mut self,
        tx: &Transaction,
        channel: &str,
    ) -> rusqlite::Result<Option<u64>> {
        let Some(&tally) = self.tallies.get(channel) else { return Ok(None) };
        let from = tally.finished_below.max(tally.first_seq);
        let found: Option<u64> = tx
            .prepare_cached(
                "SELECT seq FROM events WHERE channel = ?1 AND seq >= ?2 AND last_result IS NULL
                 ORDER BY seq LIMIT 1",
            )?
            .query_row(params![channel, from], |row| row.get(0))
            .optional()?;
        let bound = found.unwrap_or(tally.last_seq + 1);
        if bound != tally.finished_below {
            self.tally(channel).finished_below = bound;
        }
        Ok(found)
    }

    /// Deletes a channel's events `..=through` with their delivery records; returns how
    /// many events went.
    fn remove_through(
        &mut self,
        tx: &Transaction,
        channel: &str,
        through: u64,
    ) -> rusqlite::Result<u64> {
        let freed: u64 = tx
            .prepare_cached(
                "SELECT COALESCE(SUM(size), 0) FROM events WHERE channel = ?1 AND seq <= ?2",
            )?
            .query_row(params![channel, through], |row| row.get(0))?;
        tx.prepare_cached("DELETE FROM deliveries WHERE channel = ?1 AND seq <= ?2")?
            .execute(params![channel, through])?;
        let removed = tx
            .prepare_cached("DELETE FROM events WHERE channel = ?1 AND seq <= ?2")?
            .execute(params![channel, through])?;
        let tally = self.tally(channel);
        tally.oldest_received_ms = None;
        tally.first_seq = tally.first_seq.max(through + 1);
        tally.bytes = tally.bytes.saturating_sub(freed);
        Ok(removed as u64)
    }
}

/// The last `seq` of the run of `channel`'s events from `first_seq` on that were received
/// before `cutoff_ms`, at most `budget` of them (`None` when the first one is not old),
/// and when the first event after that run was received.
fn old_prefix(
    tx: &Transaction,
    channel: &str,
    first_seq: u64,
    cutoff_ms: i64,
    budget: u64,
) -> rusqlite::Result<(Option<u64>, Option<i64>)> {
    let mut statement = tx.prepare_cached(
        "SELECT seq, received_at_ms FROM events WHERE channel = ?1 AND seq >= ?2
         ORDER BY seq LIMIT ?3",
    )?;
    let mut rows = statement.query(params![channel, first_seq, budget])?;
    let mut through = None;
    while let Some(row) = rows.next()? {
        let received_at_ms: i64 = row.get(1)?;
        if received_at_ms >= cutoff_ms {
            return Ok((through, Some(received_at_ms)));
        }
        through = Some(row.get(0)?);
    }
    Ok((through, None))
}

/// How far past `max_events` a channel may grow before count retention deletes: 1 % of
/// `max_events`, at most 100 events, so a channel never holds more than 1 % extra finished
/// events.
fn prune_step(retention: &Retention) -> u64 {
    (retention.max_events / 100).clamp(1, 100)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::config::Retention;
    use crate::ids::hash_token;
    use crate::store::{NewEvent, SqliteStore, Store};

    fn event(n: i64) -> NewEvent {
        NewEvent {
            id: format!("evt_{n}"),
            received_at_ms: 1_000 + n,
            method: "POST".into(),
            path: "/".into(),
            query: None,
            headers: Vec::new(),
            body: Bytes::from_static(b"{}"),
            event_type: None,
        }
    }

    #[tokio::test]
    async fn a_channel_found_young_still_expires_once_its_events_are_old() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("relay.sqlite3");
        let store = SqliteStore::open(&path, false, Retention::default()).expect("open");
        store.create_channel("a", hash_token("t")).await.expect("create");
        for n in 1..=10 {
            store.append("a", event(n)).await.expect("append");
        }
        assert_eq!(store.expire_before(1_000).await.expect("expire"), 0, "nothing old yet");
        assert_eq!(store.expire_before(1_006).await.expect("expire"), 5);
        assert_eq!(store.expire_before(1_006).await.expect("expire"), 0);
        assert_eq!(store.expire_before(i64::MAX).await.expect("expire"), 5);
        store.close().await;
    }
}
