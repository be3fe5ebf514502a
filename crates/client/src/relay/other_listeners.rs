//! The other clients streaming our channel, as the relay names them (`hello`'s `others`,
//! then a `listeners` notice on each change), turned into what the user is told: who was
//! already there, who connected since, who left. Kept across reconnects, so a reconnect
//! does not repeat a warning about a listener already reported.

use hookrelay_proto::Listener;
use time::OffsetDateTime;

use crate::output::queue::{ListenerChange, UiEvent};

/// The other listeners last heard of.
#[derive(Debug, Default)]
pub(crate) struct OtherListeners {
    known: Vec<Listener>,
}

impl OtherListeners {
    /// The list in a session's `hello`: ones not known before were already connected.
    pub(crate) fn at_hello(&mut self, others: Vec<Listener>) -> Vec<UiEvent> {
        self.update(others, ListenerChange::AlreadyConnected)
    }

    /// The list in a `listeners` notice: ones not known before just connected.
    pub(crate) fn changed(&mut self, others: Vec<Listener>) -> Vec<UiEvent> {
        self.update(others, ListenerChange::Connected)
    }

    fn update(&mut self, others: Vec<Listener>, new: ListenerChange) -> Vec<UiEvent> {
        let count = others.len();
        let event = |change, listener: &Listener| UiEvent::OtherListener {
            change,
            peer: listener.peer.clone(),
            since: since(listener.connected_at_ms),
            others: count,
        };
        let left = self.known.iter().filter(|known| !others.contains(known));
        let mut events: Vec<_> = left.map(|gone| event(ListenerChange::Left, gone)).collect();
        let joined = others.iter().filter(|other| !self.known.contains(other));
        events.extend(joined.map(|other| event(new, other)));
        self.known = others;
        events
    }
}

/// A relay timestamp (ms since the Unix epoch) as a time; the epoch if it is out of range.
fn since(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(port: u16) -> Listener {
        Listener { peer: format!("127.0.0.1:{port}"), connected_at_ms: 1_700_000_000_000 }
    }

    fn changes(events: &[UiEvent]) -> Vec<(ListenerChange, &str, usize)> {
        events
            .iter()
            .map(|event| match event {
                UiEvent::OtherListener { change, peer, others, .. } => {
                    (*change, peer.as_str(), *others)
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn arrivals_and_departures_are_reported_once_each() {
        let mut others = OtherListeners::default();
        assert!(others.at_hello(vec![]).is_empty());
        let events = others.changed(vec![listener(1)]);
        assert_eq!(changes(&events), [(ListenerChange::Connected, "127.0.0.1:1", 1)]);
        let UiEvent::OtherListener { since, .. } = &events[0] else { unreachable!() };
        assert_eq!(since.unix_timestamp(), 1_700_000_000);
        let events = others.changed(vec![listener(1), listener(2)]);
        assert_eq!(changes(&events), [(ListenerChange::Connected, "127.0.0.1:2", 2)]);
        let events = others.changed(vec![listener(2)]);
        assert_eq!(changes(&events), [(ListenerChange::Left, "127.0.0.1:1", 1)]);
        let events = others.changed(vec![]);
        assert_eq!(changes(&events), [(ListenerChange::Left, "127.0.0.1:2", 0)]);
    }

    #[test]
    fn a_reconnect_reports_only_what_changed_meanwhile() {
        let mut others = OtherListeners::default();
        let events = others.at_hello(vec![listener(1)]);
        assert_eq!(changes(&events), [(ListenerChange::AlreadyConnected, "127.0.0.1:1", 1)]);
        assert!(others.at_hello(vec![listener(1)]).is_empty(), "not repeated on a reconnect");
        let events = others.at_hello(vec![listener(3)]);
        assert_eq!(
            changes(&events),
            [
                (ListenerChange::Left, "127.0.0.1:1", 1),
                (ListenerChange::AlreadyConnected, "127.0.0.1:3", 1)
            ]
        );
    }
}
