//! Which events are done, as a resumable cursor: the highest `seq` such that every event
//! received before it is acknowledged. With `--concurrency N` events finish out of order,
//! so finished ones above a still-running one wait here until the gap closes.

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
    Finished(Option<DeliveryResult>),
}

/// Cursor plus the events received after it.
#[derive(Debug, Default)]
pub(crate) struct Watermark {
    acked: u64,
    /// Received after `acked`, in order; `Some` once finished.
    pending: VecDeque<(u64, Option<DeliveryResult>)>,
    recent: VecDeque<(u64, DeliveryResult)>,
}

impl Watermark {
    /// Starts from a saved cursor.
    pub(crate) fn new(acked: u64) -> Self {
        Self { acked, ..Self::default() }
    }

    /// The resumable cursor.
    #[cfg(test)]
    pub(crate) fn acked(&self) -> u64 {
        self.acked
    }

    /// Decides about event `seq` and, when fresh, records it as received.
    pub(crate) fn admit(&mut self, seq: u64) -> Admission {
        if seq <= self.acked || self.pending.back().is_some_and(|(last, _)| seq <= *last) {
            if let Some((_, result)) = self.pending.iter().find(|(s, _)| *s == seq) {
                return match result {
                    Some(result) => Admission::Finished(Some(result.clone())),
                    None => Admission::InProgress,
                };
            }
            let remembered = self.recent.iter().find(|(s, _)| *s == seq).map(|(_, r)| r.clone());
            return Admission::Finished(remembered);
        }
        self.pending.push_back((seq, None));
        Admission::Fresh
    }

    /// Records that `seq` finished; returns the new cursor when it moved.
    pub(crate) fn finish(&mut self, seq: u64, result: DeliveryResult) -> Option<u64> {
        if let Some(slot) = self.pending.iter_mut().find(|(s, _)| *s == seq) {
            slot.1 = Some(result.clone());
        }
        if self.recent.len() == RECENT_RESULTS {
            self.recent.pop_front();
        }
        self.recent.push_back((seq, result));
        let before = self.acked;
        while let Some((seq, Some(_))) = self.pending.front() {
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
    fn gaps_in_seq_from_retention_do_not_block_the_cursor() {
        let mut mark = Watermark::new(0);
        assert_eq!(mark.admit(5), Admission::Fresh);
        assert_eq!(mark.admit(9), Admission::Fresh);
        assert_eq!(mark.finish(5, ok()), Some(5));
        assert_eq!(mark.finish(9, ok()), Some(9));
    }

    #[test]
    fn duplicates_are_recognised_by_state() {
        let mut mark = Watermark::new(3);
        assert_eq!(mark.admit(2), Admission::Finished(None));
        assert_eq!(mark.admit(4), Admission::Fresh);
        assert_eq!(mark.admit(5), Admission::Fresh);
        assert_eq!(mark.admit(4), Admission::InProgress);
        mark.finish(5, ok());
        assert_eq!(mark.admit(5), Admission::Finished(Some(ok())));
        mark.finish(4, ok());
        assert_eq!(mark.admit(4), Admission::Finished(Some(ok())));
        assert_eq!(mark.admit(6), Admission::Fresh);
    }
}
