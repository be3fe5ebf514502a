//! The Redis store on one real `redis-server` beyond the shared conformance suite: the
//! durability check at open, and two stores (two relays) sharing one server.

use std::sync::Arc;

use hookrelay_proto::{DeliveryState, Outcome};
use hookrelay_test_redis::RedisServer;

use super::conformance::{after, append_concurrently, event, result, retention, with_channel};
use super::{RedisStore, Store};

#[tokio::test]
async fn redis_refuses_a_server_that_may_lose_acked_writes_unless_told() {
    let server = RedisServer::start_with(&["--appendfsync", "everysec"]);
    let version = std::process::Command::new("redis-server").arg("--version").output();
    let version = String::from_utf8_lossy(&version.expect("runs").stdout).into_owned();
    let waitaof = version.split("v=").nth(1).is_some_and(|v| {
        let mut parts = v.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (7, 2)
    });
    let opened = RedisStore::open(&server.url, false, retention(100)).await;
    if waitaof {
        // 7.2+ waits for the fsync of each write with WAITAOF instead.
        let store = opened.expect("WAITAOF keeps acked writes");
        with_channel(&store, "a").await;
        assert_eq!(store.append("a", event(1, b"x")).await.expect("append"), 1);
    } else {
        let message = format!("{:#}", opened.err().expect("refused"));
        assert!(message.contains("appendfsync everysec"), "names the setting: {message}");
        assert!(message.contains("appendfsync always"), "names the fix: {message}");
        assert!(message.contains("--redis-unsafe"), "names the way out: {message}");
    }
    let off = RedisServer::start_with(&["--appendonly", "no"]);
    let message = format!(
        "{:#}",
        RedisStore::open(&off.url, false, retention(100)).await.err().expect("refused")
    );
    assert!(message.contains("appendonly no"), "{message}");
    let store = RedisStore::open(&off.url, true, retention(100)).await.expect("accepted knowingly");
    with_channel(&store, "a").await;
    assert_eq!(store.append("a", event(1, b"x")).await.expect("append"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stores_share_seqs_and_history_across_relays() {
    let server = RedisServer::start();
    let one = Arc::new(RedisStore::open(&server.url, false, retention(1000)).await.expect("open"));
    let two = Arc::new(RedisStore::open(&server.url, false, retention(1000)).await.expect("open"));
    with_channel(one.as_ref(), "a").await;
    let seqs = append_concurrently(&[one.clone(), two.clone()], 100).await;
    assert_eq!(seqs, (1..=100).collect::<Vec<u64>>());
    let first = one.summaries("a", after(0, 1)).await.expect("read")[0].id.clone();
    let acked = two.record_delivery("a", 1, &first, result(Outcome::Delivered, 200));
    assert!(acked.await.expect("ack"), "acked through the other store");
    let summary = &one.summaries("a", after(0, 1)).await.expect("read")[0];
    assert_eq!(summary.state, DeliveryState::Delivered);
    assert!(two.delete_channel("a").await.expect("delete"));
    assert!(one.deleted("a").await.expect("read"));
}
