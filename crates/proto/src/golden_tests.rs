//! Golden JSON for every wire type: a change here is a protocol change.

use bytes::Bytes;
use serde_json::json;

use crate::*;

fn sample_event() -> Event {
    Event {
        id: "evt_k2qza9xm4t7d2bq6y5wnc3hp4e".into(),
        seq: 7,
        received_at_ms: 1_700_000_000_123,
        method: "POST".into(),
        path: "/stripe/events".into(),
        query: Some("a=1&a=2".into()),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-dup".into(), "1".into()),
            ("x-dup".into(), "2".into()),
        ],
        body: Bytes::from_static(&[0, 159, 255, b'{']),
    }
}

#[test]
fn event_message_json_is_pinned() {
    let message = ServerMessage::Event(sample_event());
    let value = serde_json::to_value(&message).expect("serializable");
    assert_eq!(
        value,
        json!({
            "type": "event",
            "id": "evt_k2qza9xm4t7d2bq6y5wnc3hp4e",
            "seq": 7,
            "received_at_ms": 1_700_000_000_123_i64,
            "method": "POST",
            "path": "/stripe/events",
            "query": "a=1&a=2",
            "headers": [["content-type", "application/json"], ["x-dup", "1"], ["x-dup", "2"]],
            "body": "AJ//ew=="
        })
    );
    let back: ServerMessage = serde_json::from_value(value).expect("round trip");
    assert_eq!(back, message);
}

#[test]
fn hello_json_is_pinned() {
    let hello = ServerMessage::Hello {
        channel: "ch_x".into(),
        last_seq: 3,
        window: 64,
        ping_interval_secs: 10,
        others: Vec::new(),
        max_body: None,
        resume_after: None,
    };
    let value = serde_json::to_value(&hello).expect("serializable");
    assert_eq!(
        value,
        json!({"type": "hello", "channel": "ch_x", "last_seq": 3, "window": 64, "ping_interval_secs": 10})
    );
    assert_eq!(serde_json::from_value::<ServerMessage>(value).expect("round trip"), hello);
}

fn sample_listener() -> Listener {
    Listener { peer: "127.0.0.1:53122".into(), connected_at_ms: 1_700_000_000_123 }
}

#[test]
fn hello_with_other_listeners_json_is_pinned() {
    let hello = ServerMessage::Hello {
        channel: "ch_x".into(),
        last_seq: 3,
        window: 64,
        ping_interval_secs: 10,
        others: vec![sample_listener()],
        max_body: Some(26_214_400),
        resume_after: Some(2),
    };
    let value = serde_json::to_value(&hello).expect("serializable");
    assert_eq!(
        value,
        json!({"type": "hello", "channel": "ch_x", "last_seq": 3, "window": 64,
               "ping_interval_secs": 10,
               "others": [{"peer": "127.0.0.1:53122", "connected_at_ms": 1_700_000_000_123_i64}],
               "max_body": 26_214_400, "resume_after": 2})
    );
    assert_eq!(serde_json::from_value::<ServerMessage>(value).expect("round trip"), hello);
}

#[test]
fn listeners_json_is_pinned() {
    let message = ServerMessage::Listeners { others: vec![sample_listener()] };
    let value = serde_json::to_value(&message).expect("serializable");
    assert_eq!(
        value,
        json!({"type": "listeners",
               "others": [{"peer": "127.0.0.1:53122", "connected_at_ms": 1_700_000_000_123_i64}]})
    );
    assert_eq!(serde_json::from_value::<ServerMessage>(value).expect("round trip"), message);
    let alone = ServerMessage::Listeners { others: Vec::new() };
    assert_eq!(
        serde_json::to_value(&alone).expect("serializable"),
        json!({"type": "listeners", "others": []})
    );
}

#[test]
fn gap_json_is_pinned() {
    let gap = ServerMessage::Gap(Gap { from_seq: 51, to_seq: 1500, reason: GapReason::Expired });
    let value = serde_json::to_value(&gap).expect("serializable");
    assert_eq!(value, json!({"type": "gap", "from_seq": 51, "to_seq": 1500, "reason": "expired"}));
    assert_eq!(serde_json::from_value::<ServerMessage>(value).expect("round trip"), gap);
    let future: Gap = serde_json::from_value(json!({"from_seq": 1, "to_seq": 1, "reason": "new"}))
        .expect("an unknown reason is tolerated");
    assert_eq!((future.reason, future.count()), (GapReason::Unknown, 1));
}

#[test]
fn ack_json_is_pinned() {
    let ack = ClientMessage::Ack {
        seq: 7,
        id: "evt_1".into(),
        result: DeliveryResult {
            outcome: Outcome::Rejected,
            status: Some(422),
            latency_ms: 12,
            attempt: 1,
            error: None,
            response: Some("bad".into()),
            replay: true,
            signature: Some(SignatureCheck {
                scheme: "stripe".into(),
                valid: false,
                reason: Some("timestamp too old".into()),
            }),
            ..DeliveryResult::new(Outcome::Rejected, Some(422), 12, 1)
        },
    };
    let value = serde_json::to_value(&ack).expect("serializable");
    assert_eq!(
        value,
        json!({"type": "ack", "seq": 7, "id": "evt_1",
               "result": {"outcome": "rejected", "status": 422, "latency_ms": 12, "attempt": 1, "response": "bad",
                          "replay": true,
                          "signature": {"scheme": "stripe", "valid": false, "reason": "timestamp too old"}}})
    );
    assert_eq!(serde_json::from_value::<ClientMessage>(value).expect("round trip"), ack);
}

#[test]
fn attempt_json_is_pinned() {
    let attempt = ClientMessage::Attempt {
        seq: 3,
        id: "evt_1".into(),
        result: DeliveryResult {
            target: Some("http://localhost:3000/hooks/x?a=1".into()),
            response_headers: vec![("content-type".into(), "text/plain".into())],
            response: Some("boom".into()),
            will_retry: true,
            max_attempts: Some(5),
            edited: true,
            resigned: Some("stripe".into()),
            ..DeliveryResult::new(Outcome::Failed, Some(500), 4, 2)
        },
    };
    let value = serde_json::to_value(&attempt).expect("serializable");
    assert_eq!(
        value,
        json!({"type": "attempt", "seq": 3, "id": "evt_1",
               "result": {"outcome": "failed", "status": 500, "latency_ms": 4, "attempt": 2,
                          "response": "boom", "target": "http://localhost:3000/hooks/x?a=1",
                          "response_headers": [["content-type", "text/plain"]],
                          "will_retry": true, "max_attempts": 5, "edited": true,
                          "resigned": "stripe"}})
    );
    let back: ClientMessage = serde_json::from_value(value).expect("round trip");
    assert_eq!(back, attempt);
    let ClientMessage::Attempt { result, .. } = back else { unreachable!("an attempt") };
    assert!(!result.is_final());
}

#[test]
fn unknown_message_types_decode_to_unknown() {
    let server: ServerMessage =
        serde_json::from_str(r#"{"type":"from_the_future","x":1}"#).expect("tolerated");
    assert_eq!(server, ServerMessage::Unknown);
    let client: ClientMessage = serde_json::from_str(r#"{"type":"nack"}"#).expect("tolerated");
    assert_eq!(client, ClientMessage::Unknown);
}

#[test]
fn bad_base64_body_is_an_error() {
    let text = r#"{"type":"event","id":"e","seq":1,"received_at_ms":0,"method":"GET","path":"","headers":[],"body":"!!"}"#;
    let err = serde_json::from_str::<ServerMessage>(text).expect_err("must reject");
    assert!(err.to_string().contains("base64"), "{err}");
}

#[test]
fn event_detail_flattens_the_event() {
    let detail =
        EventDetail { event: sample_event(), state: DeliveryState::Pending, deliveries: vec![] };
    let value = serde_json::to_value(&detail).expect("serializable");
    assert_eq!(value["id"], "evt_k2qza9xm4t7d2bq6y5wnc3hp4e");
    assert_eq!(value["state"], "pending");
    assert_eq!(value["body"], "AJ//ew==");
    assert_eq!(serde_json::from_value::<EventDetail>(value).expect("round trip"), detail);
}

#[test]
fn path_and_query_joins_with_question_mark() {
    assert_eq!(sample_event().path_and_query(), "/stripe/events?a=1&a=2");
    let bare = Event { query: None, path: String::new(), ..sample_event() };
    assert_eq!(bare.path_and_query(), "");
}

#[test]
fn error_body_json_is_pinned() {
    assert_eq!(
        serde_json::to_value(ErrorBody::new("unknown_channel", "no such channel")).expect("ok"),
        json!({"error": {"code": "unknown_channel", "message": "no such channel"}})
    );
}

#[test]
fn live_results_omit_replay_and_signature() {
    let result = DeliveryResult::new(Outcome::Delivered, Some(200), 1, 1);
    assert_eq!(
        serde_json::to_value(&result).expect("serializable"),
        json!({"outcome": "delivered", "status": 200, "latency_ms": 1, "attempt": 1})
    );
}

#[test]
fn event_type_comes_from_type_or_event_type() {
    assert_eq!(event_type(br#"{"type":"invoice.paid"}"#).as_deref(), Some("invoice.paid"));
    assert_eq!(event_type(br#"{"event_type":"test","data":null}"#).as_deref(), Some("test"));
    assert_eq!(event_type(br#"{"type":3,"event_type":"x"}"#).as_deref(), Some("x"));
    assert_eq!(event_type(b"[1]"), None);
    assert_eq!(event_type(b"not json"), None);
}

#[test]
fn binary_event_frame_is_pinned() {
    let event = crate::Event {
        seq: 2,
        id: "evt_1".into(),
        received_at_ms: 5,
        method: "POST".into(),
        path: "/p".into(),
        query: None,
        headers: vec![("a".into(), "b".into())],
        body: bytes::Bytes::from_static(b"\x00{}"),
    };
    let frame = crate::encode_event(event);
    let head = br#"{"type":"event","id":"evt_1","seq":2,"received_at_ms":5,"method":"POST","path":"/p","headers":[["a","b"]],"body":""}"#;
    let mut expected = (head.len() as u32).to_be_bytes().to_vec();
    expected.extend_from_slice(head);
    expected.extend_from_slice(b"\x00{}");
    assert_eq!(frame, expected);
}
