//! Websocket messages of `hookrelay.v1`: JSON text frames, internally tagged by `type`.
//! Unknown types decode to `Unknown` and are ignored by both sides, so either can grow.

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
    },
    /// One captured event, in `seq` order.
    Event(Event),
    /// Events the stream skips because they are no longer stored, sent in their place in
    /// `seq` order (before the next event), so the client can tell the user.
    Gap(Gap),
    /// A message type this side does not know.
    #[serde(other)]
    Unknown,
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
