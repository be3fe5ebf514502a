//! The warning `listen` prints when another client streams the same channel (each event is
//! then delivered by both), and the note when one of them goes.

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::output::queue::ListenerChange;
use crate::output::style::Tone;

/// The text and tone of an [`crate::output::queue::UiEvent::OtherListener`]; `now` decides
/// whether `since` needs its date.
pub(crate) fn listener_text(
    change: ListenerChange,
    peer: &str,
    since: OffsetDateTime,
    others: usize,
    now: OffsetDateTime,
    offset: UtcOffset,
) -> (Tone, String) {
    let since = when(since, now, offset);
    // From the relay: shown, never obeyed by the terminal.
    let peer: String = peer.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
    let who = match others {
        0 | 1 => "both".to_owned(),
        n => format!("all {}", n + 1),
    };
    match change {
        ListenerChange::AlreadyConnected => (
            Tone::Yellow,
            format!(
                "warning: another listener is already connected to this channel, from {peer} \
                 (since {since}): every event will be delivered by {who}"
            ),
        ),
        ListenerChange::Connected => (
            Tone::Yellow,
            format!(
                "warning: another listener connected to this channel, from {peer} (at \
                 {since}): every event will be delivered by {who}"
            ),
        ),
        ListenerChange::Left if others == 0 => (
            Tone::Dim,
            format!(
                "the other listener of this channel (from {peer}, connected {since}) \
                 disconnected: events are delivered by this one only"
            ),
        ),
        ListenerChange::Left => (
            Tone::Dim,
            format!(
                "a listener of this channel (from {peer}, connected {since}) disconnected; \
                 {others} other{} still deliver every event too",
                if others == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// `10:42:01` today, `2026-11-30 10:42:01` another day, in the local time zone.
fn when(at: OffsetDateTime, now: OffsetDateTime, offset: UtcOffset) -> String {
    let (at, now) = (at.to_offset(offset), now.to_offset(offset));
    let format = if at.date() == now.date() {
        format_description!("[hour]:[minute]:[second]").to_vec()
    } else {
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]").to_vec()
    };
    at.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:43:10 UTC);

    fn text(change: ListenerChange, since: OffsetDateTime, others: usize) -> (Tone, String) {
        listener_text(change, "127.0.0.1:53122", since, others, NOW, UtcOffset::UTC)
    }

    #[test]
    fn a_second_listener_is_a_warning_naming_where_and_when() {
        let since = datetime!(2026-12-01 10:42:01 UTC);
        assert_eq!(
            text(ListenerChange::AlreadyConnected, since, 1),
            (
                Tone::Yellow,
                "warning: another listener is already connected to this channel, from \
                 127.0.0.1:53122 (since 10:42:01): every event will be delivered by both"
                    .into()
            )
        );
        let (tone, joined) = text(ListenerChange::Connected, NOW, 2);
        assert_eq!(tone, Tone::Yellow);
        assert_eq!(
            joined,
            "warning: another listener connected to this channel, from 127.0.0.1:53122 (at \
             10:43:10): every event will be delivered by all 3"
        );
    }

    #[test]
    fn a_listener_from_another_day_shows_the_date() {
        let (_, text) =
            text(ListenerChange::AlreadyConnected, datetime!(2026-11-30 23:59:00 UTC), 1);
        assert!(text.contains("(since 2026-11-30 23:59:00)"), "{text}");
    }

    #[test]
    fn a_departure_says_who_delivers_now() {
        let since = datetime!(2026-12-01 10:42:01 UTC);
        assert_eq!(
            text(ListenerChange::Left, since, 0).1,
            "the other listener of this channel (from 127.0.0.1:53122, connected 10:42:01) \
             disconnected: events are delivered by this one only"
        );
        assert!(
            text(ListenerChange::Left, since, 1)
                .1
                .ends_with("1 other still deliver every event too")
        );
    }
}
