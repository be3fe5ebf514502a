//! `ANY /h/{channel}/...`: answers, sequence numbers, byte-exact capture, limits.

use hookrelay_proto::{EVENT_ID_HEADER, EventDetail, IngestAck};
use hyper::StatusCode;
use hyper::http::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::*;

async fn detail(relay: &TestRelay, channel: &ChannelCreated, id: &str) -> EventDetail {
    let url = format!("{}/v1/channels/{}/events/{id}", relay.url, channel.channel);
    let answer = get_with_token(&url, &channel.token).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.json()
}

/// Writes `request` on a fresh connection and returns the whole response as text.
async fn raw_request(relay: &TestRelay, request: &[u8]) -> String {
    let mut tcp =
        within(TcpStream::connect(relay.url.trim_start_matches("http://"))).await.expect("connect");
    within(tcp.write_all(request)).await.expect("write");
    let mut response = Vec::new();
    // The relay may answer before reading the whole body and then drop the connection.
    let _ = within(tcp.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn ingest_answers_200_with_id_header_and_seq_1_2_3() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for expected in 1..=3 {
        let answer = post(&channel.ingest_url, "{}").await;
        assert_eq!(answer.status, StatusCode::OK);
        let ack: IngestAck = answer.json();
        assert_eq!(ack.seq, expected);
        assert!(ack.id.starts_with("evt_") && ack.id.len() == 4 + 26, "{}", ack.id);
        assert_eq!(answer.headers[EVENT_ID_HEADER], ack.id.as_str());
    }
    relay.stop().await;
}

#[tokio::test]
async fn requests_are_stored_byte_exact() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let binary: Vec<u8> = (0..=255u8).rev().chain([0, 0, 13, 10]).collect();
    let cases: Vec<(Method, &str, Vec<u8>)> = vec![
        (Method::POST, "/stripe/a%2Fb/%E2%9C%93?x=1&x=2&e=%20", binary.clone()),
        (Method::PUT, "", Vec::new()),
        (Method::PATCH, "/", b"{\"a\":1}".to_vec()),
        (Method::DELETE, "/items/7?", Vec::new()),
        (Method::GET, "/only?q", Vec::new()),
    ];
    for (method, suffix, body) in cases {
        let url = format!("{}{suffix}", channel.ingest_url);
        let headers = [("x-dup", "first"), ("X-Signature", "t=1,v1=abc"), ("x-dup", "second")];
        let answer = http(method.clone(), &url, &headers, body.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{method} {suffix}");
        let stored = detail(&relay, &channel, &answer.json::<IngestAck>().id).await.event;

        let (path, query) = match suffix.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (suffix, None),
        };
        assert_eq!(stored.method, method.as_str());
        assert_eq!(stored.path, path);
        assert_eq!(stored.query, query);
        assert_eq!(stored.body, body);
        let dups: Vec<&str> =
            stored.headers.iter().filter(|(n, _)| n == "x-dup").map(|(_, v)| v.as_str()).collect();
        assert_eq!(dups, ["first", "second"]);
        assert_eq!(stored.header("x-signature"), Some("t=1,v1=abc"));
    }
    relay.stop().await;
}

#[tokio::test]
async fn a_5_mib_binary_body_is_stored_exactly() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let body: Vec<u8> =
        (0..5 * 1024 * 1024u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let answer = post(&channel.ingest_url, body.clone()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let stored = detail(&relay, &channel, &answer.json::<IngestAck>().id).await;
    assert!(stored.event.body == body, "5 MiB body changed in the store");
    relay.stop().await;
}

#[tokio::test]
async fn unknown_channel_is_a_404_json_error() {
    let relay = TestRelay::start().await;
    let answer = post(&format!("{}/h/ch_doesnotexist/x", relay.url), "x").await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (StatusCode::NOT_FOUND, "unknown_channel")
    );
    relay.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_and_the_relay_keeps_serving() {
    let relay = TestRelay::with(|config| config.max_body = 1024).await;
    let first = relay.channel().await;
    let second = relay.channel().await;

    let at_limit = post(&first.ingest_url, vec![b'a'; 1024]).await;
    assert_eq!(at_limit.status, StatusCode::OK);
    let declared = post(&first.ingest_url, vec![b'a'; 1025]).await;
    assert_eq!(
        (declared.status, declared.error_code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );

    // Chunked, no Content-Length: the limit is enforced while reading.
    let path = format!("/h/{}/chunked", first.channel);
    let chunk = "a".repeat(800);
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
         320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n"
    );
    let response = raw_request(&relay, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("body_too_large"), "{response}");

    let other = post(&second.ingest_url, "still here").await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.json::<IngestAck>().seq, 1);
    relay.stop().await;
}

#[tokio::test]
async fn concurrent_ingests_get_unique_contiguous_seqs() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let posts: Vec<_> = (0..64)
        .map(|n| {
            let url = channel.ingest_url.clone();
            tokio::spawn(
                async move { post(&url, format!("event {n}")).await.json::<IngestAck>().seq },
            )
        })
        .collect();
    let mut seqs = Vec::new();
    for task in posts {
        seqs.push(within(task).await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=64).collect::<Vec<u64>>());
    relay.stop().await;
}
