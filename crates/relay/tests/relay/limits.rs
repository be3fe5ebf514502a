//! Connection-level limits (DESIGN §3, "slow senders time out, and every size and queue is
//! bounded"): the header-read and body-read timeouts, the request-head limits and the
//! connection cap, each exceeded on raw TCP while other requests keep being served.

use std::time::{Duration, Instant};

use hookrelay_proto::IngestAck;
use hyper::StatusCode;
use hyper::http::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::*;

/// The configured timeouts of these tests: short so the suite stays fast, long enough that
/// the concurrent "still served" requests finish well inside them.
const SHORT: Duration = Duration::from_secs(1);

async fn open(relay: &TestRelay) -> TcpStream {
    within(TcpStream::connect(relay.url.trim_start_matches("http://"))).await.expect("connect")
}

async fn send(tcp: &mut TcpStream, bytes: &[u8]) {
    within(tcp.write_all(bytes)).await.expect("write");
}

/// Reads one HTTP/1.1 answer (head, then `content-length` body bytes) as text; stops early,
/// with what it has, if the relay closes the connection.
async fn read_answer(tcp: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase().strip_prefix("content-length:")?.trim().parse().ok()
                })
                .unwrap_or(0usize);
            if bytes.len() >= head_end + 4 + length {
                return text;
            }
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return text,
            Ok(read) => bytes.extend_from_slice(&chunk[..read]),
        }
    }
}

/// Waits for the relay to close `tcp` and returns whatever it sent first.
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    // A reset (the relay closed with our bytes unread) counts as closed too.
    let _ = within(tcp.read_to_end(&mut received)).await;
    received
}

async fn healthz_is_served(relay: &TestRelay) {
    let answer = http(Method::GET, &format!("{}/healthz", relay.url), &[], "").await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_stalled_request_head_is_disconnected_after_the_header_timeout() {
    let relay = TestRelay::with(|config| config.header_read_timeout = SHORT).await;
    let channel = relay.channel().await;
    // Before connecting: the relay's clock may start as soon as it accepts.
    let started = Instant::now();
    let mut stalled = open(&relay).await;
    send(
        &mut stalled,
        format!("POST /h/{}/x HTTP/1.1\r\nhost: x\r\nx-half: ab", channel.channel).as_bytes(),
    )
    .await;

    // Served while the stalled connection is still waiting for its timeout.
    let other = post(&channel.ingest_url, "on time").await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(started.elapsed() < SHORT, "the concurrent request took {:?}", started.elapsed());

    let received = read_until_closed(&mut stalled).await;
    assert!(received.is_empty(), "hyper answers a header timeout with nothing, got {received:?}");
    assert!(started.elapsed() >= SHORT, "closed after {:?}", started.elapsed());
    let again = post(&channel.ingest_url, "after").await;
    assert_eq!(again.json::<IngestAck>().seq, 2, "the half request was never stored");
    relay.stop().await;
}

#[tokio::test]
async fn a_stalled_body_gets_408_after_the_body_timeout_and_other_channels_keep_ingesting() {
    let relay = TestRelay::with(|config| config.body_read_timeout = SHORT).await;
    let slow = relay.channel().await;
    let other = relay.channel().await;
    // Before connecting: the relay's clock may start as soon as it accepts.
    let started = Instant::now();
    let mut stalled = open(&relay).await;
    let head =
        format!("POST /h/{}/slow HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n", slow.channel);
    send(&mut stalled, format!("{head}0123456789").as_bytes()).await;

    let during = post(&other.ingest_url, "on time").await;
    assert_eq!(during.json::<IngestAck>().seq, 1);
    assert!(started.elapsed() < SHORT, "the concurrent ingest took {:?}", started.elapsed());

    let answer = within(read_answer(&mut stalled)).await;
    assert!(started.elapsed() >= SHORT, "answered after {:?}", started.elapsed());
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    let body = answer.split_once("\r\n\r\n").expect("a whole answer").1;
    let error: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(error["error"]["code"], "body_timeout", "{body}");
    let message = error["error"]["message"].as_str().expect("a message");
    assert!(message.contains("did not arrive within 1s"), "{message}");
    // The rest of the body never came, so the connection cannot be reused: the relay closes it.
    assert!(read_until_closed(&mut stalled).await.is_empty());

    // Nothing half-read was stored, and both channels keep taking webhooks.
    assert_eq!(post(&slow.ingest_url, "whole").await.json::<IngestAck>().seq, 1);
    assert_eq!(post(&other.ingest_url, "after").await.json::<IngestAck>().seq, 2);
    relay.stop().await;
}

#[tokio::test]
async fn request_heads_over_the_limits_get_431_and_the_relay_keeps_serving() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let request_line = format!("POST /h/{}/x HTTP/1.1\r\nhost: x\r\n", channel.channel);

    let many: String = (0..200).map(|n| format!("x-h{n}: v\r\n")).collect();
    let mut tcp = open(&relay).await;
    send(&mut tcp, format!("{request_line}{many}content-length: 0\r\n\r\n").as_bytes()).await;
    let answer = within(read_answer(&mut tcp)).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "200 headers: {answer:?}");

    // Just over the relay's 64 KiB head limit (hyper alone would take about 400 KiB).
    let big = format!("x-big: {}\r\n", "a".repeat(64 * 1024));
    let mut tcp = open(&relay).await;
    send(&mut tcp, format!("{request_line}{big}content-length: 0\r\n\r\n").as_bytes()).await;
    let answer = within(read_answer(&mut tcp)).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "a 64 KiB header: {answer:?}");

    // 1 MiB, far past the limit: the relay answers 431 and closes with most bytes unread, so
    // a reset follows its answer. Linux still delivers the 431 (15 runs out of 15); a platform
    // that drops received data on a reset would see only the close, which is also fine.
    let huge = format!("x-huge: {}\r\n\r\n", "a".repeat(1024 * 1024));
    let mut tcp = open(&relay).await;
    let request = format!("{request_line}{huge}");
    // The write may fail part-way: the relay stops reading once the head is over the limit.
    let _ = within(tcp.write_all(request.as_bytes())).await;
    let received = String::from_utf8_lossy(&read_until_closed(&mut tcp).await).into_owned();
    assert!(received.is_empty() || received.starts_with("HTTP/1.1 431 "), "{received:?}");

    let after = post(&channel.ingest_url, "still here").await;
    assert_eq!(after.json::<IngestAck>().seq, 1, "no oversized request was stored");
    relay.stop().await;
}

#[tokio::test]
async fn past_max_connections_a_new_connection_waits_until_one_closes() {
    let relay = TestRelay::with(|config| config.max_connections = 4).await;
    let healthz = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..4 {
        // A whole keep-alive request proves the relay accepted the connection; it then idles.
        let mut tcp = open(&relay).await;
        send(&mut tcp, healthz).await;
        let answer = within(read_answer(&mut tcp)).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer:?}");
        held.push(tcp);
    }

    // The kernel completes the 5th handshake, but the relay does not take the connection.
    let mut fifth = open(&relay).await;
    send(&mut fifth, healthz).await;
    let early = tokio::time::timeout(SHORT, read_answer(&mut fifth)).await;
    assert!(early.is_err(), "the 5th connection was served at the cap: {early:?}");

    drop(held.pop());
    let answer = within(read_answer(&mut fifth)).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer:?}");
    drop(held);
    drop(fifth);
    healthz_is_served(&relay).await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_a_big_answer_is_cut_off_and_its_slot_freed() {
    let relay = TestRelay::with(|config| {
        config.write_timeout = SHORT;
        config.max_connections = 1;
    })
    .await;
    let channel = relay.channel().await;
    let body: Vec<u8> = (0..20 * 1024 * 1024u32).map(|n| (n % 251) as u8).collect();
    let ack: IngestAck = post(&channel.ingest_url, body).await.json();

    // Ask for the 20 MiB event (about 27 MiB of JSON) and never read the answer: it cannot
    // fit in the sockets' buffers, so the relay's writes stall.
    let mut stalled = open(&relay).await;
    let request = format!(
        "GET /v1/channels/{}/events/{} HTTP/1.1\r\nhost: relay\r\nauthorization: Bearer {}\r\n\r\n",
        channel.channel, ack.id, channel.token
    );
    send(&mut stalled, request.as_bytes()).await;
    // With one connection allowed, this waits until the stalled one is cut off.
    let started = Instant::now();
    healthz_is_served(&relay).await;
    assert!(started.elapsed() >= SHORT, "served before the stall was cut off");
    let received = read_until_closed(&mut stalled).await;
    assert!(received.len() < 27 * 1024 * 1024, "the whole answer arrived: {}", received.len());
    relay.stop().await;
}

#[tokio::test]
async fn below_min_free_disk_every_ingest_is_507_and_healthz_says_why() {
    let relay = TestRelay::with(|config| config.min_free_disk = u64::MAX).await;
    let channel = relay.channel().await;
    let refused = post(&channel.ingest_url, "x").await;
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (StatusCode::INSUFFICIENT_STORAGE, "disk_full")
    );
    let health = http(Method::GET, &format!("{}/healthz", relay.url), &[], "").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = health.json();
    assert_eq!(body["status"], "disk_full");
    // Reading history still works: only new writes are refused.
    let history = get_with_token(
        &format!("{}/v1/channels/{}/events", relay.url, channel.channel),
        &channel.token,
    )
    .await;
    assert_eq!(history.status, StatusCode::OK);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_in_memory_share_one_budget_and_a_full_budget_makes_readers_wait() {
    let relay = TestRelay::with(|config| {
        config.max_body = 64 * 1024;
        config.max_body_memory = 64 * 1024;
    })
    .await;
    let channel = relay.channel().await;
    let path = channel.ingest_url.trim_start_matches(&relay.url).to_owned();
    // A sender that has declared 60 KB (and sent 50 KB of it) holds 59 KiB of the 64 KiB.
    let mut slow = open(&relay).await;
    let head = format!("POST {path} HTTP/1.1\r\nhost: relay\r\ncontent-length: 60000\r\n\r\n");
    send(&mut slow, head.as_bytes()).await;
    send(&mut slow, &[b'a'; 50_000]).await;
    // Once the relay holds its reservation (the metric says so)...
    within(async {
        loop {
            let reserved = metric(&relay.url, "hookrelay_body_memory_bytes").await;
            if reserved.is_some_and(|bytes| bytes >= 60_000.0) {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    // ...a 20 KB body does not fit beside it: its reading waits...
    let url = channel.ingest_url.clone();
    let waiting = tokio::spawn(async move { post(&url, vec![b'b'; 20_000]).await });
    let early = tokio::time::timeout(Duration::from_millis(300), async {
        while !waiting.is_finished() {
            tokio::task::yield_now().await;
        }
    });
    assert!(early.await.is_err(), "the second body was read beside the first");
    // ...until the first is stored and its memory given back.
    send(&mut slow, &[b'a'; 10_000]).await;
    assert!(read_answer(&mut slow).await.starts_with("HTTP/1.1 200"));
    let second = within(waiting).await.expect("task");
    assert_eq!(second.status, StatusCode::OK);
    relay.stop().await;
}
