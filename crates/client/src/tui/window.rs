//! The part of a channel's history the inspector holds: a contiguous run of rows in `seq`
//! order, at most [`MAX_ROWS`] of them whatever the channel's size. Live events join at the
//! newest end; scrolling past the oldest row pages older ones in from the relay (dropping
//! the newest past the bound), scrolling past the newest pages them back.

use std::collections::VecDeque;

use hookrelay_proto::EventSummary;

use crate::tui::row::Row;

/// Most rows held. Past it, rows are dropped from the end away from where the user looks,
/// and paged in again from the relay when they scroll back there.
pub(crate) const MAX_ROWS: usize = 2000;

/// Summaries asked of the relay per page.
pub(crate) const PAGE: usize = 200;

/// The rows held, and whether more exist on either side.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    rows: VecDeque<Row>,
    cap: usize,
    /// Older events may exist in the relay's history.
    pub older: bool,
    /// Newer events were dropped (or never taken while they were): the window does not
    /// reach the newest event, so live ones are not appended until it is paged back.
    pub detached: bool,
}

impl Default for Window {
    fn default() -> Self {
        Self::with_cap(MAX_ROWS)
    }
}

impl Window {
    /// An empty window holding at most `cap` rows.
    pub(crate) fn with_cap(cap: usize) -> Self {
        Self { rows: VecDeque::new(), cap: cap.max(1), older: false, detached: false }
    }

    /// The rows, oldest first.
    pub(crate) fn rows(&self) -> &VecDeque<Row> {
        &self.rows
    }

    /// The row with this seq.
    pub(crate) fn get(&self, seq: u64) -> Option<&Row> {
        self.position(seq).ok().map(|at| &self.rows[at])
    }

    fn position(&self, seq: u64) -> Result<usize, usize> {
        self.rows.binary_search_by_key(&seq, |row| row.seq)
    }

    /// Oldest and newest seq held.
    pub(crate) fn bounds(&self) -> Option<(u64, u64)> {
        Some((self.rows.front()?.seq, self.rows.back()?.seq))
    }

    /// Changes the row for `seq` with `change`, or adds `new()` where it belongs when the
    /// window covers that seq (a live event newer than a detached window is left to paging).
    pub(crate) fn upsert(
        &mut self,
        seq: u64,
        new: impl FnOnce() -> Row,
        change: impl FnOnce(&mut Row),
    ) {
        match self.position(seq) {
            Ok(at) => change(&mut self.rows[at]),
            Err(at) if at == self.rows.len() => {
                if !self.detached {
                    self.rows.push_back(new());
                    self.trim_front();
                }
            }
            // Older than the oldest row while older ones exist: it is in history, paged later.
            Err(0) if self.older => {}
            Err(at) => {
                self.rows.insert(at, new());
                self.trim_front();
            }
        }
    }

    /// The newest page (on start, and on `G` from a detached window): rows already held
    /// keep their live state.
    pub(crate) fn take_latest(&mut self, summaries: &[EventSummary]) {
        if self.detached {
            self.rows.clear();
            self.detached = false;
        }
        for summary in summaries {
            self.upsert(summary.seq, || Row::from_summary(summary), |_| {});
        }
        self.older = self.rows.front().is_some_and(|row| row.seq > 1);
        self.trim_front();
    }

    /// A page of events older than the oldest row (empty: there are none).
    pub(crate) fn take_older(&mut self, summaries: &[EventSummary]) {
        let oldest = self.rows.front().map_or(u64::MAX, |row| row.seq);
        let older: Vec<&EventSummary> = summaries.iter().filter(|s| s.seq < oldest).collect();
        if older.is_empty() {
            self.older = false;
            return;
        }
        for summary in older.into_iter().rev() {
            self.rows.push_front(Row::from_summary(summary));
        }
        self.older = self.rows.front().is_some_and(|row| row.seq > 1);
        while self.rows.len() > self.cap {
            self.rows.pop_back();
            self.detached = true;
        }
    }

    /// A page of events newer than the newest row, as the relay listed it (`limit`
    /// asked): fewer than asked means the window reaches the newest event again.
    pub(crate) fn take_newer(&mut self, summaries: &[EventSummary], limit: usize) {
        let newest = self.rows.back().map_or(0, |row| row.seq);
        for summary in summaries.iter().filter(|s| s.seq > newest) {
            self.rows.push_back(Row::from_summary(summary));
        }
        if summaries.len() < limit {
            self.detached = false;
        }
        self.trim_front();
    }

    fn trim_front(&mut self) {
        while self.rows.len() > self.cap {
            self.rows.pop_front();
            self.older = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use hookrelay_proto::DeliveryState;

    use super::*;

    fn summary(seq: u64) -> EventSummary {
        EventSummary {
            id: format!("evt_{seq}"),
            seq,
            received_at_ms: 0,
            method: "POST".into(),
            path: "/x".into(),
            query: None,
            size: 0,
            event_type: None,
            state: DeliveryState::Delivered,
            last_result: None,
        }
    }

    fn page(seqs: std::ops::RangeInclusive<u64>) -> Vec<EventSummary> {
        seqs.map(summary).collect()
    }

    fn seqs(window: &Window) -> Vec<u64> {
        window.rows().iter().map(|row| row.seq).collect()
    }

    #[test]
    fn memory_stays_bounded_while_paging_both_ways() {
        let mut window = Window::with_cap(5);
        window.take_latest(&page(96..=100));
        assert!(window.older && !window.detached);
        window.take_older(&page(91..=95));
        assert_eq!(seqs(&window), [91, 92, 93, 94, 95], "the newest were dropped");
        assert!(window.detached && window.older);
        // A live event while detached is not appended: it is paged back from history.
        window.upsert(101, || Row::from_summary(&summary(101)), |_| {});
        assert_eq!(window.bounds(), Some((91, 95)));
        window.take_newer(&page(96..=100), 5);
        assert_eq!(seqs(&window), [96, 97, 98, 99, 100]);
        assert!(window.detached, "a full page: there may be more");
        window.take_newer(&page(101..=101), 5);
        assert_eq!(seqs(&window), [97, 98, 99, 100, 101]);
        assert!(!window.detached);
        window.upsert(102, || Row::from_summary(&summary(102)), |_| {});
        assert_eq!(window.bounds(), Some((98, 102)));
        assert!(window.rows().len() <= 5);
    }

    #[test]
    fn the_first_event_ends_paging_and_live_rows_keep_their_state() {
        let mut window = Window::with_cap(10);
        window.upsert(3, || Row::from_summary(&summary(3)), |_| {});
        window.upsert(3, || unreachable!("exists"), |row| row.attempts = 7);
        window.take_latest(&page(1..=3));
        assert_eq!(seqs(&window), [1, 2, 3]);
        assert_eq!(window.get(3).map(|row| row.attempts), Some(7));
        assert!(!window.older);
        window.take_older(&[]);
        assert!(!window.older);
    }
}
