//! Who is streaming each channel: every session registers itself (peer address, start
//! time) for as long as it lives, learns who else is there, and is woken when that changes,
//! so two `listen`s on one channel each know the other gets every event too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hookrelay_proto::Listener;
use tokio::sync::watch;

/// Most other sessions named in a `hello` or `listeners` message (the oldest ones). Enough
/// to warn a user; without a bound, each session joining a busy channel would send every
/// other session the whole list, growing every socket's buffer with the crowd.
pub(crate) const MAX_LISTED: usize = 8;

/// Every channel's open sessions.
#[derive(Default, Clone)]
pub(crate) struct Listeners(Arc<Mutex<HashMap<String, Channel>>>);

/// One channel's sessions, oldest first, and a counter bumped on each change.
struct Channel {
    sessions: Vec<(u64, Listener)>,
    changes: watch::Sender<u64>,
    next_id: u64,
}

/// A session's place in [`Listeners`]; dropping it takes the session out and tells the
/// others.
pub(crate) struct Registration {
    listeners: Listeners,
    channel: String,
    id: u64,
    changes: watch::Receiver<u64>,
}

impl Listeners {
    /// Adds a session of `channel` (tells those already there) and returns its place.
    pub(crate) fn join(&self, channel: &str, me: Listener) -> Registration {
        let mut channels = self.lock();
        let entry = channels.entry(channel.to_owned()).or_insert_with(|| Channel {
            sessions: Vec::new(),
            changes: watch::Sender::new(0),
            next_id: 0,
        });
        let id = entry.next_id;
        entry.next_id += 1;
        entry.sessions.push((id, me));
        entry.changes.send_modify(|count| *count += 1);
        // Subscribed after the bump: the newcomer is not woken by its own arrival.
        let changes = entry.changes.subscribe();
        Registration { listeners: self.clone(), channel: channel.to_owned(), id, changes }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Registration {
    /// The channel's other sessions now, the oldest [`MAX_LISTED`] of them; marks the
    /// current state as seen.
    pub(crate) fn others(&mut self) -> Vec<Listener> {
        self.changes.borrow_and_update();
        let channels = self.listeners.lock();
        let sessions = channels.get(&self.channel).map(|channel| channel.sessions.as_slice());
        let others = sessions.unwrap_or_default().iter().filter(|(id, _)| *id != self.id);
        others.take(MAX_LISTED).map(|(_, listener)| listener.clone()).collect()
    }

    /// Resolves when another session of the channel connected or disconnected since the
    /// last [`Registration::others`].
    pub(crate) async fn changed(&mut self) {
        if self.changes.changed().await.is_err() {
            // Only our own drop removes the channel's entry while we are in it.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut channels = self.listeners.lock();
        let Some(channel) = channels.get_mut(&self.channel) else { return };
        channel.sessions.retain(|(id, _)| *id != self.id);
        if channel.sessions.is_empty() {
            channels.remove(&self.channel);
        } else {
            channel.changes.send_modify(|count| *count += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn listener(port: u16) -> Listener {
        Listener { peer: format!("127.0.0.1:{port}"), connected_at_ms: i64::from(port) }
    }

    async fn woken(registration: &mut Registration) -> bool {
        tokio::time::timeout(Duration::from_millis(50), registration.changed()).await.is_ok()
    }

    #[test]
    fn at_most_the_oldest_few_others_are_named() {
        let listeners = Listeners::default();
        let peer = |n: usize| Listener { peer: format!("127.0.0.1:{n}"), connected_at_ms: 0 };
        let _crowd: Vec<_> = (0..MAX_LISTED + 5).map(|n| listeners.join("ch", peer(n))).collect();
        let mut me = listeners.join("ch", peer(999));
        let named = me.others();
        assert_eq!(named.len(), MAX_LISTED);
        assert_eq!(named[0], peer(0), "oldest first");
    }

    #[tokio::test]
    async fn sessions_see_each_other_and_are_woken_by_arrivals_and_departures() {
        let listeners = Listeners::default();
        let mut first = listeners.join("ch", listener(1));
        assert!(first.others().is_empty());
        let mut second = listeners.join("ch", listener(2));
        assert!(!woken(&mut second).await, "not woken by its own arrival");
        assert_eq!(second.others(), [listener(1)]);
        assert!(woken(&mut first).await);
        assert_eq!(first.others(), [listener(2)]);
        let third = listeners.join("ch", listener(3));
        assert!(woken(&mut first).await);
        assert_eq!(first.others(), [listener(2), listener(3)]);
        drop(third);
        assert!(woken(&mut first).await);
        assert_eq!(first.others(), [listener(2)]);
        drop(second);
        assert!(woken(&mut first).await);
        assert!(first.others().is_empty());
    }

    #[tokio::test]
    async fn channels_are_separate_and_forgotten_when_empty() {
        let listeners = Listeners::default();
        let mut one = listeners.join("one", listener(1));
        let two = listeners.join("two", listener(2));
        assert!(!woken(&mut one).await);
        assert!(one.others().is_empty());
        drop((one, two));
        assert!(listeners.lock().is_empty());
    }
}
