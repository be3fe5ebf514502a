//! The binary event frame of `hookrelay.v2`: an event's body travels as raw bytes beside a
//! JSON head, not base64 inside JSON (a third smaller on the wire, and no encoding or
//! escaping on either side). Layout: the head's length as a 4-byte big-endian integer, the
//! head (the `event` message's JSON with an empty `body`), then the body.

use bytes::{BufMut as _, Bytes};

use crate::{Event, ServerMessage};

/// Bytes of the head's length prefix.
const PREFIX: usize = 4;

/// One event as a binary frame.
pub fn encode_event(mut event: Event) -> Vec<u8> {
    let body = std::mem::take(&mut event.body);
    let head = serde_json::to_vec(&ServerMessage::Event(event)).expect("events always serialize");
    let mut frame = Vec::with_capacity(PREFIX + head.len() + body.len());
    frame.put_u32(u32::try_from(head.len()).expect("an event head is far below 4 GiB"));
    frame.extend_from_slice(&head);
    frame.extend_from_slice(&body);
    frame
}

/// Splits a binary frame into its JSON head (to decode like a text message) and the body
/// (a view of `frame`, not a copy).
pub fn split_event_frame(frame: &Bytes) -> Result<(&str, Bytes), String> {
    let Some((prefix, rest)) = frame.split_first_chunk::<PREFIX>() else {
        return Err(format!("a binary frame of {} bytes has no head length", frame.len()));
    };
    let head_len = u32::from_be_bytes(*prefix) as usize;
    if head_len > rest.len() {
        return Err(format!("a binary frame's head of {head_len} bytes overruns the frame"));
    }
    let head = std::str::from_utf8(&rest[..head_len])
        .map_err(|err| format!("a binary frame's head is not UTF-8: {err}"))?;
    Ok((head, frame.slice(PREFIX + head_len..)))
}

/// Decodes a binary event frame whole.
pub fn decode_event(frame: &Bytes) -> Result<Event, String> {
    let (head, body) = split_event_frame(frame)?;
    match serde_json::from_str(head) {
        Ok(ServerMessage::Event(event)) => Ok(Event { body, ..event }),
        Ok(other) => Err(format!("a binary frame holds a {other:?}, not an event")),
        Err(err) => Err(format!("a binary frame's head is not an event: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &'static [u8]) -> Event {
        Event {
            seq: 7,
            id: "evt_1".into(),
            received_at_ms: 1,
            method: "POST".into(),
            path: "/p".into(),
            query: None,
            headers: vec![("a".into(), "1".into())],
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn events_round_trip_with_binary_bodies() {
        for body in [&b""[..], b"{}", &[0, 255, 10, 13, 0]] {
            let body: &'static [u8] = Box::leak(body.to_vec().into_boxed_slice());
            let frame = Bytes::from(encode_event(event(body)));
            assert_eq!(decode_event(&frame).expect("decodes"), event(body));
        }
    }

    #[test]
    fn broken_frames_are_errors_not_panics() {
        for frame in [&b""[..], b"\x00\x00", b"\x00\x00\x00\x09{}", b"\x00\x00\x00\x02\xff\xfe"] {
            assert!(decode_event(&Bytes::copy_from_slice(frame)).is_err(), "{frame:?}");
        }
        let hello =
            br#"{"type":"hello","channel":"c","last_seq":0,"window":1,"ping_interval_secs":1}"#;
        let mut frame = (hello.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(hello);
        assert!(decode_event(&Bytes::from(frame)).is_err(), "a hello is not an event");
    }
}
