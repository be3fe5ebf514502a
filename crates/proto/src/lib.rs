//! Wire types shared by `hookrelayd` and the `hookrelay` CLI: the captured event record,
//! the websocket messages of protocol `hookrelay.v2` (with its binary event frame), and the
//! JSON bodies of the relay's HTTP API. Serde only, no I/O. `docs/protocol.md` describes the
//! same types in prose; the golden tests below pin their JSON so that neither side can drift.

mod api;
mod body;
mod event;
mod frame;
mod gap;
mod message;
mod page;

pub use api::{
    ChannelCreated, CreateChannel, ErrorBody, ErrorDetail, EventDetail, EventSummary, IngestAck,
};
pub use event::{
    DeliveryResult, DeliveryState, Event, Header, Outcome, SignatureCheck, event_type,
};
pub use frame::{decode_event, encode_event, split_event_frame};
pub use gap::{Gap, GapReason};
pub use message::{ClientMessage, Listener, ServerMessage};
pub use page::{MAX_PAGE, Page};

/// The websocket subprotocol a client asks for and the relay confirms.
pub const SUBPROTOCOL: &str = "hookrelay.v2";

/// Earlier subprotocols, which the relay refuses with a message saying to upgrade
/// (`hookrelay.v1` sent bodies base64-encoded inside JSON text frames).
pub const OLD_SUBPROTOCOLS: &[&str] = &["hookrelay.v1"];

/// Header added to every forwarded request (and to the relay's ingest answer) so that a
/// local app can de-duplicate at-least-once deliveries.
pub const EVENT_ID_HEADER: &str = "hookrelay-event-id";

#[cfg(test)]
mod golden_tests;
