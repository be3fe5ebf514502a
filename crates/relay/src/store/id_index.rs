//! The SQLite store's id index, written in sorted runs. Event ids are random, so an index
//! entry written at each append lands on a random index page: that page (4 KiB in the WAL)
//! per event was most of the WAL the relay wrote. Instead `event_ids` maps
//! `(channel, id) -> seq` for a channel's events up to its `ids_through`, and the writer
//! adds the newer ones in one sorted insert every [`MERGE_EVERY`] appends, where they share
//! pages. Readers look an id up in `event_ids` and in the few events after `ids_through`
//! (one short range scan). Entries of events that retention removed are swept a chunk at
//! a time at each merge; lookups join with `events`, so such an entry finds nothing.

use rusqlite::{OptionalExtension as _, Transaction, params};

use super::batch::Batch;

/// Appends to a channel after which its new ids are merged into `event_ids`: the most
/// events a lookup by id scans without the index.
pub(super) const MERGE_EVERY: u64 = 512;
/// `event_ids` entries checked for removed events at each merge.
const SWEEP_CHUNK: u64 = 4 * MERGE_EVERY;

/// The `seq`s of channel `?1`'s events whose id matches the GLOB pattern `?2`: from the
/// index, and from the events not yet in it. Callers still check `id` against the event
/// row, which also skips entries of removed events.
pub(super) const SEQS_MATCHING: &str = "
    SELECT seq FROM event_ids WHERE channel = ?1 AND id GLOB ?2
    UNION ALL
    SELECT seq FROM events WHERE channel = ?1 AND id GLOB ?2
        AND seq > (SELECT ids_through FROM channels WHERE id = ?1)";
/// The same for the exact id `?2`.
pub(super) const SEQS_OF_ID: &str = "
    SELECT seq FROM event_ids WHERE channel = ?1 AND id = ?2
    UNION ALL
    SELECT seq FROM events WHERE channel = ?1 AND id = ?2
        AND seq > (SELECT ids_through FROM channels WHERE id = ?1)";

impl Batch<'_> {
    /// Merges `channel`'s ids appended since the last merge into `event_ids` once there
    /// are [`MERGE_EVERY`] of them, and sweeps a chunk of entries of removed events.
    pub(super) fn index_ids(&mut self, tx: &Transaction, channel: &str) -> rusqlite::Result<()> {
        let Some(&tally) = self.tallies.get(channel) else { return Ok(()) };
        if tally.last_seq < tally.ids_through + MERGE_EVERY {
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT OR REPLACE INTO event_ids (channel, id, seq)
             SELECT channel, id, seq FROM events WHERE channel = ?1 AND seq > ?2 ORDER BY id",
        )?
        .execute(params![channel, tally.ids_through])?;
        tx.prepare_cached("UPDATE channels SET ids_through = ?2 WHERE id = ?1")?
            .execute(params![channel, tally.last_seq])?;
        self.tally(channel).ids_through = tally.last_seq;
        self.sweep_ids(tx, channel, tally.first_seq)
    }

    /// Deletes the entries of removed events (`seq < first_seq`) among the next
    /// [`SWEEP_CHUNK`] entries of `channel` after the sweep's cursor, wrapping at the end.
    fn sweep_ids(
        &mut self,
        tx: &Transaction,
        channel: &str,
        first_seq: u64,
    ) -> rusqlite::Result<()> {
        let cursor = self.id_sweeps.get(channel).cloned().unwrap_or_default();
        let end: Option<String> = tx
            .prepare_cached(
                "SELECT MAX(id) FROM (SELECT id FROM event_ids WHERE channel = ?1 AND id > ?2
                 ORDER BY id LIMIT ?3)",
            )?
            .query_row(params![channel, cursor, SWEEP_CHUNK], |row| row.get(0))
            .optional()?
            .flatten();
        let Some(end) = end else {
            self.id_sweeps.remove(channel);
            return Ok(());
        };
        tx.prepare_cached(
            "DELETE FROM event_ids WHERE channel = ?1 AND id > ?2 AND id <= ?3 AND seq < ?4",
        )?
        .execute(params![channel, cursor, end, first_seq])?;
        self.id_sweeps.insert(channel.to_owned(), end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use hookrelay_proto::{DeliveryResult, Outcome, Page};

    use super::MERGE_EVERY;
    use crate::config::Retention;
    use crate::ids::hash_token;
    use crate::store::{IdMatch, NewEvent, SqliteStore, Store};

    fn event(n: u64) -> NewEvent {
        NewEvent {
            id: format!("evt_{n:08}"),
            received_at_ms: 1_000 + n as i64,
            method: "POST".into(),
            path: "/".into(),
            query: None,
            headers: Vec::new(),
            body: Bytes::from_static(b"{}"),
            event_type: None,
        }
    }

    fn delivered() -> DeliveryResult {
        DeliveryResult::new(Outcome::Delivered, Some(200), 3, 1)
    }

    #[tokio::test]
    async fn ids_are_found_before_and_after_a_merge_and_removed_ones_are_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("relay.sqlite3");
        let retention = Retention { max_events: 600, ..Retention::default() };
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&path, false, retention).expect("open"));
        store.create_channel("a", hash_token("t")).await.expect("create");
        let total = 3 * MERGE_EVERY + 7;
        for n in 1..=total {
            assert_eq!(store.append("a", event(n)).await.expect("append"), n);
            if n <= 2 * MERGE_EVERY {
                let result = delivered();
                let id = format!("evt_{n:08}");
                assert!(store.record_delivery("a", n, &id, result).await.expect("ack"));
            }
        }
        // Merged long ago, merged last, and not merged yet.
        for n in [2 * MERGE_EVERY + 1, 3 * MERGE_EVERY, total] {
            let id = format!("evt_{n:08}");
            let detail = store.detail("a", &id).await.expect("read").expect("found");
            assert_eq!(detail.event.seq, n);
            let found = store.find_event("a", &id).await.expect("find");
            assert_eq!(found, IdMatch::One { id, seq: n });
        }
        // Count retention removed the oldest finished events; their ids find nothing.
        let first = store.summaries("a", Page::After { after: 0, limit: 1 }).await.expect("read");
        assert!(first[0].seq > 1, "retention removed a prefix");
        assert!(store.detail("a", "evt_00000001").await.expect("read").is_none());
        assert_eq!(store.find_event("a", "evt_00000001").await.expect("find"), IdMatch::None);
        store.close().await;

        // After a restart, the merged and unmerged ids are still found.
        let store = SqliteStore::open(&path, false, retention).expect("reopen");
        let id = format!("evt_{total:08}");
        assert_eq!(
            store.find_event("a", &id).await.expect("find"),
            IdMatch::One { id, seq: total }
        );
        let id = format!("evt_{:08}", 2 * MERGE_EVERY + 1);
        assert!(store.detail("a", &id).await.expect("read").is_some());
        store.close().await;
    }
}
