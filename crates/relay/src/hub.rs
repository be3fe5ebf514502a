//! Fan-out: one `watch` per channel carrying the newest stored `seq`, and one token per
//! channel for its deletion. Ingest bumps the `seq` after the append and moves on (it never
//! waits for sessions); each session with room in its window wakes up, reads what it has
//! not sent from the store, and so never misses or reorders an event. A session whose
//! window is full waits for acks and the deletion token only: appends do not wake it.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Per-channel wake-ups for websocket sessions.
#[derive(Default)]
pub(crate) struct Hub {
    channels: Mutex<HashMap<String, Watched>>,
    /// Woken when a channel gets its first subscriber (`follow` then watches it too).
    new_channel: tokio::sync::Notify,
}

/// One watched channel.
struct Watched {
    seqs: watch::Sender<u64>,
    deleted: CancellationToken,
}

/// What a session holds of its channel.
pub(crate) struct Subscription {
    /// The channel's newest `seq`, marked changed each time it grows; `changed()` fails
    /// once the channel is deleted.
    pub seqs: watch::Receiver<u64>,
    /// Cancelled when the channel is deleted.
    pub deleted: CancellationToken,
}

impl Hub {
    /// Subscribes to the channel's newest `seq` and its deletion. Subscribe before reading
    /// the store: an append that lands after the read then always marks `seqs` changed.
    pub(crate) fn subscribe(&self, channel: &str) -> Subscription {
        let mut channels = self.lock();
        if let Some(watched) = channels.get(channel) {
            return Subscription {
                seqs: watched.seqs.subscribe(),
                deleted: watched.deleted.clone(),
            };
        }
        let (sender, seqs) = watch::channel(0);
        let deleted = CancellationToken::new();
        channels.insert(channel.to_owned(), Watched { seqs: sender, deleted: deleted.clone() });
        self.new_channel.notify_one();
        Subscription { seqs, deleted }
    }

    /// Tells the channel's sessions that `seq` is stored.
    pub(crate) fn notify(&self, channel: &str, seq: u64) {
        let mut channels = self.lock();
        let Some(watched) = channels.get(channel) else { return };
        if watched.seqs.receiver_count() == 0 {
            channels.remove(channel);
            return;
        }
        watched.seqs.send_if_modified(|newest| {
            let grew = seq > *newest;
            *newest = (*newest).max(seq);
            grew
        });
    }

    /// The channels that have subscribers now.
    pub(crate) fn watched(&self) -> Vec<String> {
        let channels = self.lock();
        let live = channels.iter().filter(|(_, watched)| watched.seqs.receiver_count() > 0);
        live.map(|(channel, _)| channel.clone()).collect()
    }

    /// Waits until a channel gets its first subscriber (at once if one did since the last
    /// call).
    pub(crate) async fn new_channel(&self) {
        self.new_channel.notified().await;
    }

    /// Ends the channel's sessions (it was deleted).
    pub(crate) fn close(&self, channel: &str) {
        if let Some(watched) = self.lock().remove(channel) {
            watched.deleted.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Watched>> {
        self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_the_newest_seq_and_never_go_back() {
        let hub = Hub::default();
        let mut receiver = hub.subscribe("ch").seqs;
        hub.notify("ch", 3);
        hub.notify("ch", 2);
        receiver.changed().await.expect("open");
        assert_eq!(*receiver.borrow_and_update(), 3);
        hub.notify("ch", 4);
        assert!(receiver.has_changed().expect("open"));
    }

    #[tokio::test]
    async fn closing_a_channel_ends_its_subscribers() {
        let hub = Hub::default();
        let mut subscription = hub.subscribe("ch");
        hub.close("ch");
        assert!(subscription.deleted.is_cancelled());
        assert!(subscription.seqs.changed().await.is_err());
    }

    #[test]
    fn channels_without_subscribers_are_forgotten() {
        let hub = Hub::default();
        drop(hub.subscribe("ch"));
        hub.notify("ch", 1);
        assert!(hub.lock().is_empty());
    }
}
