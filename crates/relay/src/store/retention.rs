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
        let stop = first_unfinished(tx, channel)?;
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

    /// Age retention: per channel, removes the prefix up to the newest event received before
    /// `cutoff_ms`, recording its unfinished events as expired runs.
    pub(super) fn expire(&mut self, tx: &Transaction, cutoff_ms: i64) -> rusqlite::Result<u64> {
        // `last_seq` is otherwise recovered from the newest event, which may go now.
        tx.prepare_cached(
            "UPDATE channels SET last_seq = MAX(last_seq,
             COALESCE((SELECT MAX(seq) FROM events WHERE channel = channels.id), 0))",
        )?
        .execute([])?;
        let expiring: Vec<(String, u64)> = tx
            .prepare_cached(
                "SELECT channel, MAX(seq) FROM events INDEXED BY events_by_time
                 WHERE received_at_ms < ?1 GROUP BY channel",
            )?
            .query_map([cutoff_ms], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut removed = 0;
        for (channel, through) in expiring {
            let Some(tally) = self.tallies.get(&channel) else { continue };
            // At most a chunk per call: the caller calls again while events go.
            let budget = (PURGE_CHUNK as u64).saturating_sub(removed);
            if budget == 0 {
                break;
            }
            let through = through.min(tally.first_seq + budget - 1);
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
                let stop = first_unfinished(tx, &channel)?.unwrap_or(u64::MAX);
                let through = wanted_first.min(stop) - 1;
                if through >= tally.first_seq {
                    self.remove_through(tx, &channel, through)?;
                }
            }
            self.cache_ops.push(CacheOp::SetSeq(channel));
        }
        Ok(())
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
        tally.first_seq = tally.first_seq.max(through + 1);
        tally.bytes = tally.bytes.saturating_sub(freed);
        Ok(removed as u64)
    }
}

/// The oldest event of `channel` that no client has finished (through the partial index
/// `events_unfinished`).
fn first_unfinished(tx: &Transaction, channel: &str) -> rusqlite::Result<Option<u64>> {
    tx.prepare_cached(
        "SELECT seq FROM events WHERE channel = ?1 AND last_result IS NULL ORDER BY seq LIMIT 1",
    )?
    .query_row([channel], |row| row.get(0))
    .optional()
}

/// How far past `max_events` a channel may grow before count retention deletes: 1 % of
/// `max_events`, at most 100 events, so a channel never holds more than 1 % extra finished
/// events.
fn prune_step(retention: &Retention) -> u64 {
    (retention.max_events / 100).clamp(1, 100)
}
