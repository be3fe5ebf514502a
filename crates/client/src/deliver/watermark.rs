//! Which events are done, as a resumable cursor: the highest `seq` such that every event
//! received before it is acknowledged. With `--concurrency N` events finish out of order,
//! so finished ones above a still-running one wait here until the hole closes. A range the
//! relay no longer holds (a gap, reported to the user) counts as done, so the cursor moves
//! past it and the next run does not report it again.

use std::collections::VecDeque;

use hookrelay_proto::DeliveryResult;

/// How many recent final results are remembered, to answer a relay that re-sends an event
/// we already finished (after a reconnect raced with its acknowledgement).
pub(crate) const RECENT_RESULTS: usize = 256;

/// What to do with an incoming event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Not seen before: deliver it.
    Fresh,
    /// Already queued or running: its acknowledgement will follow; ignore this copy.
    InProgress,
    /// Already finished: acknowledge again with this result (if still remembered).
    Finished(Option<Box<DeliveryResult>>),
}

/// Where an event (or the end of a gap) stands.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Running,
    Finished(Box<DeliveryResult>),
    /// The last `seq` of a reported gap: done as soon as everything before it is.
    GapEnd,
}

/// Cursor plus the events received after it.
#[derive(Debug, Default)]
pub(crate) struct Watermark {
    acked: u64,
    /// Received after `acked`, in order.
    pending: VecDeque<(u64, Slot)>,
    recent: VecDeque<(u64, Box<DeliveryResult>)>,
}

impl Watermark {
    /// Starts from a saved cursor.
    pub(crate) fn new(acked: u64) -> Self {
        Self { acked, ..Self::default() }
    }

    /// The resumable cursor.
    pub(crate) fn acked(&self) -> u64 {
        self.acked
    }

    /// The highest `seq` received (or passed as a gap) so far.
    pub(crate) fn newest(&self) -> u64 {
        self.pending.back().map_or(self.acked, |(seq, _)| *seq)
    }

    /// The `seq`s between what came before and event `seq` that never arrived, if any: a
    /// hole the relay did not explain.
    pub(crate) fn hole_before(&self, seq: u64) -> Option<(u64, u64)> {
        let expected = self.newest() + 1;
        (seq > expected).then(|| (expected, seq - 1))
    }

    /// Decides about event `seq` and, when fresh, records it as received.
    pub(crate) fn admit(&mut self, seq: u64) -> Admission {
        if seq <= self.newest() {
            match self.pending.iter().find(|(s, _)| *s == seq) {
                Some((_, Slot::Finished(result))) => {
                    return Admission::Finished(Some(result.clone()));
                }
                Some((_, Slot::Running)) => return Admission::InProgress,
                Some((_, Slot::GapEnd)) | None => {}
            }
            let remembered = self.recent.iter().find(|(s, _)| *s == seq).map(|(_, r)| r.clone());
            return Admission::Finished(remembered);
        }
        self.pending.push_back((seq, Slot::Running));
        Admission::Fresh
    }

    /// Records a gap through `to_seq` (reported to the user) as done; returns the new
    /// cursor when it moved, and `None` for a gap already passed (a reconnect repeats it).
    pub(crate) fn pass_gap(&mut self, to_seq: u64) -> Option<u64> {
        if to_seq <= self.newest() {
            return None;
        }
        self.pending.push_back((to_seq, Slot::GapEnd));
        self.advance()
    }

    /// Records that `seq` finished; returns the new cursor when it moved.
    pub(crate) fn finish(&mut self, seq: u64, result: DeliveryResult) -> Option<u64> {
        if let Some(slot) = self.pending.iter_mut().find(|(s, _)| *s == seq) {
            slot.1 = Slot::Finished(Box::new(result.clone()));
        }
        if self.recent.len() == RECENT_RESULTS {
            self.recent.pop_front();
        }
        self.recent.push_back((seq, Box::new(result)));
        self.advance()
    }

    /// Moves the cursor over the done prefix; returns it when it moved.
    fn advance(&mut self) -> Option<u64> {
        let before = self.acked;
        while let Some((seq, slot)) = self.pending.front() {
            if *slot == Slot::Running {
                break;
            }
            self.acked = *seq;
            self.pending.pop_front();
        }
        (self.acked != before).then_some(self.acked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_proto::Outcome;

    fn ok() -> DeliveryResult {
        crate::test_support::result(Outcome::Delivered, Some(200))
    }

    #[test]
    fn cursor_moves_only_over_a_contiguous_finished_prefix() {
        let mut mark = Watermark::new(10);
        for seq in [11, 12, 13] {
            assert_eq!(mark.admit(seq), Admission::Fresh);
        }
        assert_eq!(mark.finish(13, ok()), None);
        assert_eq!(mark.finish(12, ok()), None);
        assert_eq!(mark.acked(), 10);
        assert_eq!(mark.finish(11, ok()), Some(13));
        assert_eq!(mark.acked(), 13);
    }

    #[test]
    fn holes_are_found_and_passed_gaps_move_the_cursor_once() {
        let mut mark = Watermark::new(0);
        assert_eq!(mark.hole_before(1), None);
        assert_eq!(mark.hole_before(5), Some((1, 4)));
        assert_eq!(mark.pass_gap(4), Some(4));
        assert_eq!(mark.pass_gap(4), None, "a repeated gap is not new");
        assert_eq!(mark.hole_before(5), None);
        assert_eq!(mark.admit(5), Admission::Fresh);
        assert_eq!(mark.pass_gap(8), None, "waits for event 5");
        assert_eq!(mark.hole_before(9), None);
        assert_eq!(mark.admit(9), Admission::Fresh);
        assert_eq!(mark.admit(7), Admission::Finished(None), "inside a passed gap");
        assert_eq!(mark.finish(5, ok()), Some(8));
        assert_eq!(mark.finish(9, ok()), Some(9));
        assert_eq!(mark.hole_before(12), Some((10, 11)));
    }

    #[test]
    fn duplicates_are_recognised_by_state() {
        let mut mark = Watermark::new(3);
        assert_eq!(mark.admit(2), Admission::Finished(None));
        assert_eq!(mark.admit(4), Admission::Fresh);
        assert_eq!(mark.admit(5), Admission::Fresh);
        assert_eq!(mark.admit(4), Admission::InProgress);
        mark.finish(5, ok());
        assert_eq!(mark.admit(5), Admission::Finished(Some(Box::new(ok()))));
        mark.finish(4, ok());
        assert_eq!(mark.admit(4), Admission::Finished(Some(Box::new(ok()))));
        assert_eq!(mark.admit(6), Admission::Fresh);
    }
}
