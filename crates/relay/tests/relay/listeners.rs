//! Several sessions on one channel: each is told of the others (where from, since when) in
//! its `hello`, and again whenever one connects or disconnects.

use hookrelay_proto::Listener;

use crate::*;

/// The address a session connects from, as the relay sees it.
fn local_address(ws: &Ws) -> String {
    match ws.get_ref() {
        MaybeTlsStream::Plain(stream) => stream.local_addr().expect("address").to_string(),
        _ => panic!("plain connections only"),
    }
}

/// Reads the hello and returns the other listeners it names.
async fn hello_others(ws: &mut Ws) -> Vec<Listener> {
    match next_message_of_any_kind(ws).await {
        ServerMessage::Hello { others, .. } => others,
        other => panic!("expected hello, got {other:?}"),
    }
}

/// Reads the next message, which must be a `listeners` notice, and returns its list.
async fn listeners_notice(ws: &mut Ws) -> Vec<Listener> {
    match next_message_of_any_kind(ws).await {
        ServerMessage::Listeners { others } => others,
        other => panic!("expected a listeners notice, got {other:?}"),
    }
}

#[tokio::test]
async fn sessions_of_a_channel_are_told_of_each_other_as_they_come_and_go() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let before = now_ms();
    let mut first = connect(&relay.url, &channel, 0).await;
    assert_eq!(hello_others(&mut first).await, [], "alone on the channel");
    let first_at = local_address(&first);

    let mut second = connect(&relay.url, &channel, 0).await;
    let others = hello_others(&mut second).await;
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!(others[0].peer, first_at);
    assert!(others[0].connected_at_ms >= before, "{others:?}");
    assert!(others[0].connected_at_ms <= now_ms(), "{others:?}");
    let second_at = local_address(&second);
    let told = listeners_notice(&mut first).await;
    assert_eq!(told.iter().map(|l| l.peer.as_str()).collect::<Vec<_>>(), [second_at.as_str()]);
    assert!(told[0].connected_at_ms >= others[0].connected_at_ms);

    // A session on another channel is nobody's business here.
    let elsewhere = relay.channel().await;
    let mut third = connect(&relay.url, &elsewhere, 0).await;
    assert_eq!(hello_others(&mut third).await, []);

    // Every event still reaches both; then the second leaves and the first hears of it.
    post(&channel.ingest_url, "x").await;
    assert_eq!(next_event(&mut first).await.seq, 1);
    assert_eq!(next_event(&mut second).await.seq, 1);
    drop(second);
    assert_eq!(listeners_notice(&mut first).await, []);
    relay.stop().await;
}

/// The relay's clock as the store stamps it (ms since the Unix epoch).
fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.expect("after 1970").as_millis()).expect("fits")
}
