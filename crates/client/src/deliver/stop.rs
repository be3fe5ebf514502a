//! "Stop waiting on this event" (`s` in `listen --tui`): the inspector asks by `seq`, and the
//! retry loop delivering that event gives up at once, mid-request or mid-backoff, recording
//! it as failed so the queue moves on. A tiny bounded set plus a wake-up, shared by both.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Most stop requests waiting to be picked up. One is asked per key press, for an event
/// being retried, and each is consumed when its retry loop sees it or finishes; past this,
/// [`StopRequests::request`] refuses (the inspector says so) rather than grow.
const MAX_PENDING: usize = 64;

/// Stop requests by event `seq`.
#[derive(Debug, Default)]
pub(crate) struct StopRequests {
    asked: Mutex<HashSet<u64>>,
    changed: Notify,
}

impl StopRequests {
    /// An empty set, shared between the inspector and the delivery loop.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks the loop delivering `seq` to give up. False when too many requests wait.
    pub(crate) fn request(&self, seq: u64) -> bool {
        let mut asked = self.asked.lock().expect("stop set lock is never poisoned");
        if asked.len() >= MAX_PENDING && !asked.contains(&seq) {
            return false;
        }
        asked.insert(seq);
        drop(asked);
        self.changed.notify_waiters();
        true
    }

    /// Consumes a request for `seq`, if one was made.
    pub(crate) fn take(&self, seq: u64) -> bool {
        self.asked.lock().expect("stop set lock is never poisoned").remove(&seq)
    }

    /// Resolves once a stop for `seq` is requested (and consumes it).
    pub(crate) async fn requested(&self, seq: u64) {
        loop {
            let changed = self.changed.notified();
            if self.take(seq) {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_request_wakes_the_waiter_for_that_seq_only() {
        let stops = StopRequests::new();
        let waiter = tokio::spawn({
            let stops = stops.clone();
            async move { stops.requested(7).await }
        });
        assert!(stops.request(8));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert!(stops.request(7));
        tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").expect("ok");
        assert!(!stops.take(7), "consumed");
        assert!(stops.take(8), "the other request stays");
    }

    #[test]
    fn the_set_is_bounded() {
        let stops = StopRequests::new();
        for seq in 0..MAX_PENDING as u64 {
            assert!(stops.request(seq));
        }
        assert!(!stops.request(1000));
        assert!(stops.request(3), "asking again for a waiting one is fine");
    }
}
