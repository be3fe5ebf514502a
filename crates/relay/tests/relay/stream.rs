//! The websocket session: hello, order, resume, window, limits, misbehaving peers, shutdown.

use futures_util::{SinkExt as _, StreamExt as _};
use hookrelay_proto::{Gap, GapReason, IngestAck, ServerMessage};
use hyper::StatusCode;
use hyper::http::Method;
use tokio_tungstenite::tungstenite::{Bytes as WsBytes, Message};

use crate::*;

#[tokio::test]
async fn events_sent_while_nobody_listens_stream_in_order_later() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for n in 1..=200 {
        assert_eq!(post(&channel.ingest_url, format!("body {n}")).await.status, StatusCode::OK);
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 200);
    for n in 1..=200u64 {
        let event = next_event(&mut ws).await;
        assert_eq!((event.seq, event.body.as_ref()), (n, format!("body {n}").as_bytes()));
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    relay.stop().await;
}

#[tokio::test]
async fn live_events_stream_as_they_arrive_and_resume_after_a_cursor() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 0);
    for n in 1..=3u64 {
        post(&format!("{}/live/{n}", channel.ingest_url), format!("{n}")).await;
        let event = next_event(&mut ws).await;
        assert_eq!((event.seq, event.path.as_str()), (n, format!("/live/{n}").as_str()));
    }
    drop(ws);

    let mut resumed = connect(&relay.url, &channel, 2).await;
    assert_eq!(expect_hello(&mut resumed, &channel.channel).await, 3);
    assert_eq!(next_event(&mut resumed).await.seq, 3);
    relay.stop().await;
}

#[tokio::test]
async fn a_5_mib_binary_body_streams_exactly() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let body: Vec<u8> = (0..5 * 1024 * 1024u32).map(|n| (n % 251) as u8).collect();
    post(&channel.ingest_url, body.clone()).await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    assert!(next_event(&mut ws).await.body == body, "5 MiB body changed on the way");
    relay.stop().await;
}

#[tokio::test]
async fn appends_wake_a_session_only_when_it_can_send_and_deletion_always_does() {
    // No pings during the test: they would wake the session too.
    let relay = TestRelay::with(|config| {
        config.window = 4;
        config.ping_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    let mut sent = Vec::new();
    for body in ["1", "2", "3"] {
        post(&channel.ingest_url, body).await;
        sent.push(next_event(&mut ws).await);
    }
    // Room for one, less than a batch (two), but nothing else waits: a live event goes at once.
    post(&channel.ingest_url, "4").await;
    sent.push(next_event(&mut ws).await);
    // The window is full: these appends do not wake the session; the acks do.
    for body in ["5", "6", "7"] {
        post(&channel.ingest_url, body).await;
    }
    for event in &sent[..2] {
        ack(&mut ws, event, Outcome::Delivered, 200).await;
    }
    let (fifth, sixth) = (next_event(&mut ws).await, next_event(&mut ws).await);
    assert_eq!((fifth.seq, &fifth.body[..], sixth.seq), (5, &b"5"[..], 6));
    // Full again, and the channel is deleted: the session ends without waiting for an ack.
    assert_eq!(delete_channel(&relay.url, &channel).await.status, StatusCode::NO_CONTENT);
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1008, "channel deleted"));
    relay.stop().await;
}

#[tokio::test]
async fn window_bounds_unacknowledged_events() {
    let relay = TestRelay::with(|config| config.window = 4).await;
    let channel = relay.channel().await;
    for _ in 0..10 {
        post(&channel.ingest_url, "x").await;
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    let mut outstanding = Vec::new();
    for seq in 1..=4 {
        let event = next_event(&mut ws).await;
        assert_eq!(event.seq, seq);
        outstanding.push(event);
    }
    // The relay fills its window before it reads our ping, so a fifth event would come first.
    within(ws.send(Message::Ping(WsBytes::from_static(b"barrier")))).await.expect("ping");
    match within(ws.next()).await.expect("open").expect("ok") {
        Message::Pong(payload) => assert_eq!(payload.as_ref(), b"barrier"),
        other => panic!("more than 4 events outstanding: got {other:?} before the pong"),
    }
    // One free slot is not a batch (half the window): still nothing before the pong.
    ack(&mut ws, &outstanding.remove(0), Outcome::Delivered, 200).await;
    within(ws.send(Message::Ping(WsBytes::from_static(b"one free")))).await.expect("ping");
    match within(ws.next()).await.expect("open").expect("ok") {
        Message::Pong(payload) => assert_eq!(payload.as_ref(), b"one free"),
        other => panic!("refilled a single slot: got {other:?} before the pong"),
    }
    // Two free slots are: the next two events come together.
    ack(&mut ws, &outstanding.remove(0), Outcome::Delivered, 200).await;
    assert_eq!(next_event(&mut ws).await.seq, 5);
    assert_eq!(next_event(&mut ws).await.seq, 6);
    for event in outstanding {
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    for seq in 7..=8 {
        assert_eq!(next_event(&mut ws).await.seq, seq);
    }
    relay.stop().await;
}

#[tokio::test]
async fn several_clients_each_get_every_event() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut first = connect(&relay.url, &channel, 0).await;
    let mut second = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut first, &channel.channel).await;
    expect_hello(&mut second, &channel.channel).await;
    for _ in 0..3 {
        post(&channel.ingest_url, "x").await;
    }
    for ws in [&mut first, &mut second] {
        for seq in 1..=3 {
            assert_eq!(next_event(ws).await.seq, seq);
        }
    }
    relay.stop().await;
}

#[tokio::test]
async fn stream_needs_the_channel_token() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let other = relay.channel().await;
    for (token, code) in [(None, "missing"), (Some(other.token.as_str()), "wrong")] {
        match try_connect(&relay.url, &channel.channel, token, 0).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{code} token");
            }
            Err(err) => panic!("unexpected error for a {code} token: {err}"),
            Ok(_) => panic!("connected with a {code} token"),
        }
    }
    let url = format!("{}/v1/channels/{}/stream", relay.url, channel.channel);
    let plain = http(Method::GET, &url, &[], "").await;
    assert_eq!(
        (plain.status, plain.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    relay.stop().await;
}

/// Opens the stream offering `protocol` (none: no header); returns the refusal's status and
/// body.
async fn refused_stream(relay: &TestRelay, protocol: Option<&str>) -> (StatusCode, String) {
    let channel = relay.channel().await;
    let url =
        format!("{}/v1/channels/{}/stream", relay.url.replacen("http", "ws", 1), channel.channel);
    let mut request = url.into_client_request().expect("valid url");
    let auth = format!("Bearer {}", channel.token).parse().expect("valid");
    request.headers_mut().insert("authorization", auth);
    if let Some(protocol) = protocol {
        let value = protocol.parse().expect("valid");
        request.headers_mut().insert("sec-websocket-protocol", value);
    }
    match within(tokio_tungstenite::connect_async(request)).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (response.status(), String::from_utf8_lossy(&body).into_owned())
        }
        Err(err) => panic!("unexpected error: {err}"),
        Ok(_) => panic!("connected offering {protocol:?}, not {SUBPROTOCOL}"),
    }
}

#[tokio::test]
async fn stream_without_the_subprotocol_is_refused() {
    let relay = TestRelay::start().await;
    let (status, body) = refused_stream(&relay, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("ask for websocket subprotocol hookrelay.v2"), "{body}");
    relay.stop().await;
}

#[tokio::test]
async fn a_hookrelay_v1_client_is_told_to_update() {
    let relay = TestRelay::start().await;
    let (status, body) = refused_stream(&relay, Some("hookrelay.v1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("this client speaks hookrelay.v1 and this relay hookrelay.v2: update"),
        "{body}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn unknown_message_types_are_ignored() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    within(ws.send(Message::text(r#"{"type":"from_the_future","x":1}"#))).await.expect("sent");
    post(&channel.ingest_url, "x").await;
    assert_eq!(next_event(&mut ws).await.seq, 1);
    relay.stop().await;
}

#[tokio::test]
async fn malformed_message_closes_with_1007_and_other_sessions_keep_working() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut bad = connect(&relay.url, &channel, 0).await;
    let mut good = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut bad, &channel.channel).await;
    expect_hello(&mut good, &channel.channel).await;

    within(bad.send(Message::text("{not json"))).await.expect("sent");
    let (code, reason) = expect_close(&mut bad).await;
    assert_eq!(code, 1007);
    assert!(reason.starts_with("malformed message"), "{reason}");

    post(&channel.ingest_url, "x").await;
    assert_eq!(next_event(&mut good).await.seq, 1);
    relay.stop().await;
}

#[tokio::test]
async fn binary_frames_close_with_1003() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    within(ws.send(Message::binary(vec![1, 2, 3]))).await.expect("sent");
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!(code, 1003, "{reason}");
    relay.stop().await;
}

#[tokio::test]
async fn oversized_messages_close_with_1009() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    let huge =
        format!(r#"{{"type":"ack","pad":"{}"}}"#, "x".repeat(hookrelay_relay::MAX_CLIENT_MESSAGE));
    within(ws.send(Message::text(huge))).await.expect("sent");
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!(code, 1009, "{reason}");

    let mut again = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut again, &channel.channel).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_silent_peer_is_closed_after_three_ping_intervals() {
    let relay = TestRelay::with(|config| config.ping_interval = Duration::from_millis(100)).await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    // Not reading means not answering pings: to the relay this peer is dead.
    tokio::time::sleep(Duration::from_millis(600)).await;
    expect_hello(&mut ws, &channel.channel).await;
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!(code, 1008, "{reason}");
    relay.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sessions_with_1001_before_serve_returns() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    let ack: IngestAck = post(&channel.ingest_url, "x").await.json();
    assert_eq!(next_event(&mut ws).await.id, ack.id);
    relay.shutdown.cancel();
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1001, "relay shutting down"));
    within(relay.served).await.expect("task").expect("clean shutdown");
}

#[tokio::test]
async fn a_client_close_is_answered_and_frees_the_session() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    within(ws.close(None)).await.expect("close sent");
    loop {
        match within(ws.next()).await {
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("no clean close: {err}"),
        }
    }
    until_metric(&relay.url, "hookrelay_sessions_open", 0.0).await;
    relay.stop().await;
}

#[tokio::test]
async fn the_backlog_metric_counts_what_open_sessions_have_not_acked() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for n in 1..=3 {
        post(&channel.ingest_url, format!("{n}")).await;
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    until_metric(&relay.url, "hookrelay_sessions_open", 1.0).await;
    until_metric(&relay.url, "hookrelay_session_backlog_events", 3.0).await;
    let first = next_event(&mut ws).await;
    ack(&mut ws, &first, Outcome::Delivered, 200).await;
    until_metric(&relay.url, "hookrelay_session_backlog_events", 2.0).await;
    post(&channel.ingest_url, "4").await;
    until_metric(&relay.url, "hookrelay_session_backlog_events", 3.0).await;
    // A session that ends takes its share with it.
    drop(ws);
    until_metric(&relay.url, "hookrelay_session_backlog_events", 0.0).await;
    relay.stop().await;
}

#[tokio::test]
async fn count_retention_keeps_every_event_no_client_has_finished() {
    let relay = TestRelay::with(|config| config.retention.max_events = 3).await;
    let channel = relay.channel().await;
    for n in 1..=5 {
        post(&channel.ingest_url, format!("{n}")).await;
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 5);
    for seq in 1..=5 {
        assert_eq!(next_event(&mut ws).await.seq, seq);
    }
    relay.stop().await;
}

#[tokio::test]
async fn sessions_over_the_limit_are_refused_with_503_until_one_ends() {
    let relay = TestRelay::with(|config| config.max_sessions = 1).await;
    let channel = relay.channel().await;
    let mut first = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut first, &channel.channel).await;
    match try_connect(&relay.url, &channel.channel, Some(&channel.token), 0).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        }
        Err(err) => panic!("unexpected error: {err}"),
        Ok(_) => panic!("a second session was let in"),
    }
    within(first.close(None)).await.expect("close sent");
    while let Some(Ok(_)) = within(first.next()).await {}
    let mut again = within(async {
        loop {
            if let Ok(ws) = try_connect(&relay.url, &channel.channel, Some(&channel.token), 0).await
            {
                return ws;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    expect_hello(&mut again, &channel.channel).await;
    relay.stop().await;
}

#[tokio::test]
async fn a_cursor_behind_history_gets_a_gap_notice_naming_what_is_missing_and_why() {
    let relay = TestRelay::with(|config| config.retention.max_events = 3).await;
    let channel = relay.channel().await;
    // One client finishes events 1..=5; count retention then removes the finished ones.
    let mut first = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut first, &channel.channel).await;
    for n in 1..=5u64 {
        post(&channel.ingest_url, format!("{n}")).await;
        let event = next_event(&mut first).await;
        assert_eq!(event.seq, n);
        ack(&mut first, &event, Outcome::Delivered, 200).await;
    }
    // Acks are recorded in order with later writes: the next append sees them finished.
    within(async {
        loop {
            let url = format!("{}/v1/channels/{}/events?last=1", relay.url, channel.channel);
            let page: Vec<hookrelay_proto::EventSummary> =
                get_with_token(&url, &channel.token).await.json();
            if page[0].state == hookrelay_proto::DeliveryState::Delivered {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    post(&channel.ingest_url, "6").await;
    drop(first);

    // A second client from the start is told, then streamed the rest.
    let mut second = connect(&relay.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut second, &channel.channel).await, 6);
    let gap = Gap { from_seq: 1, to_seq: 3, reason: GapReason::Pruned };
    assert_eq!(next_message(&mut second).await, ServerMessage::Gap(gap));
    let rest: Vec<u64> = [
        next_event(&mut second).await,
        next_event(&mut second).await,
        next_event(&mut second).await,
    ]
    .iter()
    .map(|event| event.seq)
    .collect();
    assert_eq!(rest, [4, 5, 6]);
    // A cursor inside history gets no notice.
    let mut third = connect(&relay.url, &channel, 4).await;
    expect_hello(&mut third, &channel.channel).await;
    assert_eq!(next_event(&mut third).await.seq, 5);
    relay.stop().await;
}

#[tokio::test]
async fn skip_finished_starts_past_the_events_whose_acks_the_relay_recorded() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for n in 1..=5 {
        post(&channel.ingest_url, format!("{n}")).await;
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    for _ in 1..=3 {
        let event = next_event(&mut ws).await;
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    // A client killed now, whose cursor file still says 1, reconnects: the relay starts
    // after 3 once its acks are recorded (they are written beside the stream).
    drop(ws);
    let resume = within(async {
        loop {
            let query = "after=1&skip_finished=true";
            let token = Some(channel.token.as_str());
            let mut ws = try_connect_query(&relay.url, &channel.channel, token, query)
                .await
                .expect("upgrade");
            match next_message(&mut ws).await {
                ServerMessage::Hello { resume_after: Some(3), .. } => return ws,
                ServerMessage::Hello { resume_after: Some(_), .. } => {
                    tokio::task::yield_now().await;
                }
                other => panic!("expected a hello with resume_after, got {other:?}"),
            }
        }
    })
    .await;
    let mut ws = resume;
    assert_eq!(next_event(&mut ws).await.seq, 4);
    assert_eq!(next_event(&mut ws).await.seq, 5);
    drop(ws);
    relay.stop().await;
}
