//! Fan-out: one `watch` per channel carrying the newest stored `seq`. Ingest bumps it after
//! the append and moves on (it never waits for sessions); each session wakes up, reads what
//! it has not sent from the store, and so never misses or reorders an event.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// Per-channel wake-ups for websocket sessions.
#[derive(Default)]
pub(crate) struct Hub {
    channels: Mutex<HashMap<String, watch::Sender<u64>>>,
    /// Woken when a channel gets its first subscriber (`follow` then watches it too).
    new_channel: tokio::sync::Notify,
}

impl Hub {
    /// Receives the channel's newest `seq` each time it grows. Subscribe before reading the
    /// store: an append that lands after the read then always marks the receiver changed.
    /// The receiver's `changed()` fails when the channel is deleted.
    pub(crate) fn subscribe(&self, channel: &str) -> watch::Receiver<u64> {
        let mut channels = self.lock();
        match channels.get(channel) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(0);
                channels.insert(channel.to_owned(), sender);
                self.new_channel.notify_one();
                receiver
            }
        }
    }

    /// Tells the channel's sessions that `seq` is stored.
    pub(crate) fn notify(&self, channel: &str, seq: u64) {
        let mut channels = self.lock();
        let Some(sender) = channels.get(channel) else { return };
        if sender.receiver_count() == 0 {
            channels.remove(channel);
            return;
        }
        sender.send_if_modified(|newest| {
            let grew = seq > *newest;
            *newest = (*newest).max(seq);
            grew
        });
    }

    /// The channels that have subscribers now.
    pub(crate) fn watched(&self) -> Vec<String> {
        let channels = self.lock();
        let live = channels.iter().filter(|(_, sender)| sender.receiver_count() > 0);
        live.map(|(channel, _)| channel.clone()).collect()
    }

    /// Waits until a channel gets its first subscriber (at once if one did since the last
    /// call).
    pub(crate) async fn new_channel(&self) {
        self.new_channel.notified().await;
    }

    /// Ends the channel's sessions (it was deleted).
    pub(crate) fn close(&self, channel: &str) {
        self.lock().remove(channel);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<u64>>> {
        self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_the_newest_seq_and_never_go_back() {
        let hub = Hub::default();
        let mut receiver = hub.subscribe("ch");
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
        let mut receiver = hub.subscribe("ch");
        hub.close("ch");
        assert!(receiver.changed().await.is_err());
    }

    #[test]
    fn channels_without_subscribers_are_forgotten() {
        let hub = Hub::default();
        drop(hub.subscribe("ch"));
        hub.notify("ch", 1);
        assert!(hub.lock().is_empty());
    }
}
