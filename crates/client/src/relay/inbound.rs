//! What the client makes of what the relay sends on a session: each text frame (and each
//! binary event frame: JSON head, raw body) becomes a message to act on, one to ignore (an unknown type: DESIGN §5), an event it cannot decode
//! (still acknowledged, as a failure, so it does not hold a slot of the relay's window for
//! the rest of the session) or a protocol error (the session is closed and started again).
//! Also words close frames and read errors as the reason shown for reconnecting.

use hookrelay_proto::{Event, ServerMessage, split_event_frame};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// One text frame from the relay, decoded.
#[derive(Debug, PartialEq)]
pub(crate) enum Inbound {
    /// A `hookrelay.v1` message (`Unknown` for a type this client does not know).
    Message(ServerMessage),
    /// A known type that is not an event but did not decode; it holds no window slot, so it
    /// is only worth a warning.
    Ignored(String),
    /// An event whose `seq` and `id` could be read but not the rest (a bad base64 body, a
    /// missing field): it cannot be forwarded, and must still be acknowledged.
    Undecodable(Undecodable),
    /// Not JSON, or an event without a usable `seq` and `id`: nothing can be acknowledged,
    /// and going on would leave the relay's window short of a slot for good.
    Broken(String),
}

/// An event that arrived but could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Undecodable {
    /// What could be read of it: `seq` and `id` always, method, path and query when they
    /// were readable; no headers and an empty body.
    pub event: Event,
    /// Why it could not be decoded, for the delivery line and the relay's history.
    pub error: String,
}

/// Decodes one text frame.
pub(crate) fn decode(text: &str) -> Inbound {
    let err = match serde_json::from_str::<ServerMessage>(text) {
        Ok(message) => return Inbound::Message(message),
        Err(err) => err,
    };
    let Ok(Value::Object(raw)) = serde_json::from_str::<Value>(text) else {
        return Inbound::Broken(format!(
            "the relay sent a frame that is not a JSON message: {err}"
        ));
    };
    if raw.get("type").and_then(Value::as_str) != Some("event") {
        return Inbound::Ignored(err.to_string());
    }
    let text_field = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(seq), Some(id)) = (raw.get("seq").and_then(Value::as_u64), text_field("id")) else {
        return Inbound::Broken(format!(
            "the relay sent an event without a usable seq and id ({err})"
        ));
    };
    let event = Event {
        id,
        seq,
        received_at_ms: raw.get("received_at_ms").and_then(Value::as_i64).unwrap_or_default(),
        method: text_field("method").unwrap_or_default(),
        path: text_field("path").unwrap_or_default(),
        query: text_field("query"),
        headers: Vec::new(),
        body: bytes::Bytes::new(),
    };
    let error = format!("could not decode the event from the relay: {err}");
    Inbound::Undecodable(Undecodable { event, error })
}

/// Decodes one binary frame: an event whose body follows its JSON head.
pub(crate) fn decode_binary(frame: &bytes::Bytes) -> Inbound {
    let (head, body) = match split_event_frame(frame) {
        Ok(parts) => parts,
        Err(err) => return Inbound::Broken(format!("the relay sent a broken event frame: {err}")),
    };
    match decode(head) {
        Inbound::Message(ServerMessage::Event(event)) => {
            Inbound::Message(ServerMessage::Event(Event { body, ..event }))
        }
        Inbound::Message(other) => {
            Inbound::Ignored(format!("a binary frame held a {other:?} instead of an event"))
        }
        undecodable => undecodable,
    }
}

/// Why the relay ended the session, from its close frame.
pub(crate) fn closed(frame: Option<CloseFrame>) -> String {
    match frame {
        Some(frame) if frame.code == CloseCode::Away => "the relay is shutting down".into(),
        Some(frame) if !frame.reason.is_empty() => {
            format!("the relay closed the connection ({})", frame.reason)
        }
        _ => "the relay closed the connection".into(),
    }
}

/// A websocket error as a reason to reconnect.
pub(crate) fn describe(err: &WsError) -> String {
    match err {
        WsError::Io(io) => hookrelay_http::root_cause(io),
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => format!(
            "the relay sent a message of {size} bytes, over this client's limit of {max_size}"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_event_frames_decode_with_their_body_and_broken_ones_are_broken() {
        let event = Event {
            seq: 3,
            id: "evt_3".into(),
            received_at_ms: 1,
            method: "POST".into(),
            path: "/x".into(),
            query: None,
            headers: Vec::new(),
            body: bytes::Bytes::from_static(&[0, 255, 1]),
        };
        let frame = bytes::Bytes::from(hookrelay_proto::encode_event(event.clone()));
        assert_eq!(decode_binary(&frame), Inbound::Message(ServerMessage::Event(event)));
        let broken = bytes::Bytes::from_static(b"\x00\x00\x01\x00{");
        assert!(matches!(decode_binary(&broken), Inbound::Broken(_)));
    }

    const GOOD: &str = r#"{"type":"event","id":"evt_1","seq":7,"received_at_ms":5,
        "method":"POST","path":"/x","query":"a=1","headers":[],"body":"AJ//ew=="}"#;

    #[test]
    fn a_good_event_and_an_unknown_type_decode_as_messages() {
        assert!(matches!(decode(GOOD), Inbound::Message(ServerMessage::Event(e)) if e.seq == 7));
        assert_eq!(decode(r#"{"type":"nudge"}"#), Inbound::Message(ServerMessage::Unknown));
    }

    #[test]
    fn an_event_with_a_bad_body_keeps_what_identifies_it() {
        let Inbound::Undecodable(bad) = decode(&GOOD.replace("AJ//ew==", "!!not base64!!")) else {
            panic!("not undecodable")
        };
        assert_eq!((bad.event.seq, bad.event.id.as_str()), (7, "evt_1"));
        assert_eq!((bad.event.method.as_str(), bad.event.path.as_str()), ("POST", "/x"));
        assert_eq!(bad.event.query.as_deref(), Some("a=1"));
        assert!(bad.event.body.is_empty() && bad.event.headers.is_empty());
        assert!(
            bad.error.starts_with("could not decode the event from the relay: "),
            "{}",
            bad.error
        );
    }

    #[test]
    fn an_event_missing_seq_or_id_or_a_frame_that_is_not_json_breaks_the_session() {
        for text in [
            r#"{"type":"event","id":"evt_1","body":"!"}"#,
            r#"{"type":"event","seq":7,"body":"!"}"#,
            r#"{"type":"event","seq":-1,"id":"evt_1"}"#,
            r#"{"type":"event","seq":7,"id":"evt_1""#,
            "not json",
            r#"["type","event"]"#,
        ] {
            assert!(matches!(decode(text), Inbound::Broken(_)), "{text}");
        }
    }

    #[test]
    fn a_malformed_message_that_is_not_an_event_is_only_ignored() {
        assert!(matches!(decode(r#"{"type":"hello","last_seq":"x"}"#), Inbound::Ignored(_)));
        assert!(matches!(decode(r#"{"no_type":1}"#), Inbound::Ignored(_)));
    }

    #[test]
    fn an_oversized_message_is_described_with_both_sizes() {
        let err = WsError::Capacity(CapacityError::MessageTooLong { size: 11, max_size: 10 });
        assert_eq!(
            describe(&err),
            "the relay sent a message of 11 bytes, over this client's limit of 10"
        );
    }
}
