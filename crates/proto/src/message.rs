//! Websocket messages of `hookrelay.v2`: JSON text frames, internally tagged by `type`,
//! except events, which the relay sends as binary frames (`frame.rs`).
//! Unknown types decode to `Unknown` and are ignored by both sides, so either can grow.
//! Also [`Listener`], the other sessions of a channel that `hello` and `listeners` name.

use serde::{Deserialize, Serialize};

use crate::{DeliveryResult, Event, Gap};

/// Relay → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message of a session.
    Hello {
        /// The channel being streamed.
        channel: String,
        /// The highest `seq` the channel has stored (0 when empty).
        last_seq: u64,
        /// How many events the relay sends before it waits for acknowledgements.
        window: u32,
        /// How often the relay pings; a peer silent for three intervals is dead.
        ping_interval_secs: u64,
        /// The other sessions streaming this channel right now, oldest first (absent when
        /// none): each of them gets every event too.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        others: Vec<Listener>,
        /// The largest body the relay accepts (`--max-body`), so the client can take any
        /// event the relay stored (absent from older relays).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_body: Option<u64>,
        /// Where this stream starts when the client asked to skip finished events
        /// (`skip_finished=true`): its `after`, moved past the events right after it that
        /// some client has finished. Absent otherwise (and from older relays).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_after: Option<u64>,
    },
    /// One captured event, in `seq` order.
    Event(Event),
    /// Events the stream skips because they are no longer stored, sent in their place in
    /// `seq` order (before the next event), so the client can tell the user.
    Gap(Gap),
    /// The other sessions streaming this channel changed (one connected or disconnected):
    /// here they are now, oldest first (empty: this session is the only one).
    Listeners {
        /// The other sessions, as in `Hello::others`.
        others: Vec<Listener>,
    },
    /// A message type this side does not know.
    #[serde(other)]
    Unknown,
}

/// Another session streaming the same channel: every event goes to each session, so two
/// `listen`s on one channel both deliver it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Listener {
    /// Where it connected from, as the relay sees it (`127.0.0.1:53122`; behind a reverse
    /// proxy, the proxy's address).
    pub peer: String,
    /// When its session started (relay clock, ms since the Unix epoch).
    pub connected_at_ms: i64,
}

/// Client → relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The client is done with event `seq`: delivered, rejected, skipped or given up.
    Ack {
        /// The event's `seq`.
        seq: u64,
        /// The event's id (checked against `seq`).
        id: String,
        /// What happened.
        result: DeliveryResult,
    },
    /// One attempt at event `seq` that failed and will be retried (`result.will_retry`): the
    /// relay records it in the event's history; the event stays in the window, unfinished.
    Attempt {
        /// The event's `seq`.
        seq: u64,
        /// The event's id (checked against `seq`).
        id: String,
        /// The attempt.
        result: DeliveryResult,
    },
    /// A message type this side does not know.
    #[serde(other)]
    Unknown,
}
