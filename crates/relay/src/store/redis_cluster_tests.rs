//! The Redis store on a real three-master Redis Cluster, beyond the conformance suite:
//! the durability check on every master, the follower across slots, a master killed.

use std::time::Duration;

use super::redis_conn::{Target, slot, slot_ranges};
use super::{RedisStore, Store, StoreError};
use crate::config::Retention;
use crate::ids::hash_token;
use hookrelay_test_redis::RedisCluster;

/// Bound on each awaited step, so that a bug fails fast.
const STEP: Duration = Duration::from_secs(10);

async fn open(cluster: &RedisCluster) -> RedisStore {
    RedisStore::open(&cluster.url, false, Retention::default()).await.expect("open")
}

fn event(n: u64) -> super::NewEvent {
    super::NewEvent {
        id: format!("evt_{n}"),
        received_at_ms: 1_000,
        method: "POST".into(),
        path: "/".into(),
        query: None,
        headers: Vec::new(),
        body: bytes::Bytes::from(n.to_string()),
        event_type: None,
    }
}

fn redis_cli(port: u16, args: &[&str]) {
    let status = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("redis-cli runs");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_master_that_may_lose_acked_writes_is_refused_by_name() {
    let cluster = RedisCluster::start();
    let port = cluster.nodes[1].port;
    redis_cli(port, &["CONFIG", "SET", "appendfsync", "everysec"]);
    let refused = RedisStore::open(&cluster.url, false, Retention::default()).await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("appendfsync always"), "{message}");
    let store = RedisStore::open(&cluster.url, true, Retention::default()).await;
    store.expect("accepted knowingly");
}

/// How many clients are blocked (`INFO clients`) on all the cluster's nodes together.
fn blocked(cluster: &RedisCluster) -> u64 {
    let count = |port: u16| {
        let out = std::process::Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "INFO", "clients"])
            .output()
            .expect("redis-cli runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text.lines().find_map(|line| line.strip_prefix("blocked_clients:"));
        line.and_then(|count| count.trim().parse().ok()).unwrap_or(0)
    };
    cluster.nodes.iter().map(|node| count(node.port)).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_follower_wakes_at_once_for_appends_in_any_slot_and_for_deletions() {
    let cluster = RedisCluster::start();
    let (one, two) = (open(&cluster).await, open(&cluster).await);
    // "a", "b" and "c" are in three different slots.
    for channel in ["a", "b", "c"] {
        one.create_channel(channel, hash_token("t")).await.expect("create");
    }
    let mut cursors: Vec<(String, u64)> = ["a", "b", "c"].map(|c| (c.to_owned(), 0)).into();
    // A long block: an answer within STEP is a wake-up, not a timeout, and proves that the
    // other slots' reads were ended at once.
    let block = Duration::from_secs(60);
    for (n, channel) in ["b", "c", "a"].into_iter().enumerate() {
        let read = two.elsewhere(&cursors, block);
        let append = async {
            // Once every slot's read blocks (three channels' slots and `hr:deleted`'s), so
            // that the wake-up and the unblocking of the others are what is tested.
            let deadline = tokio::time::Instant::now() + STEP;
            while blocked(&cluster) < 4 {
                assert!(tokio::time::Instant::now() < deadline, "the reads never blocked");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            one.append(channel, event(n as u64)).await.expect("append")
        };
        let (seen, seq) = tokio::time::timeout(STEP, async { tokio::join!(read, append) })
            .await
            .expect("woken within STEP");
        assert_eq!(seen.expect("read").appended, [(channel.to_owned(), seq)]);
        cursors.iter_mut().filter(|(c, _)| c == channel).for_each(|(_, at)| *at = seq);
    }
    assert!(one.delete_channel("c").await.expect("delete"));
    let seen = tokio::time::timeout(STEP, two.elsewhere(&cursors, block)).await.expect("woken");
    assert_eq!(seen.expect("read").deleted, ["c"]);
}

/// The index of the node that serves `channel`'s slot.
async fn owner(cluster: &RedisCluster, channel: &str) -> usize {
    let Target::Cluster { nodes, .. } = Target::parse(&cluster.url).expect("url") else {
        panic!("a cluster url");
    };
    let mut conn =
        Target::Cluster { nodes, scheme: "redis://" }.connect(&cluster.url).await.expect("conn");
    let ranges = slot_ranges(&mut conn).await.expect("slots");
    let slot = slot(channel.as_bytes());
    let (_, _, _, port) =
        ranges.iter().find(|(start, end, _, _)| (*start..=*end).contains(&slot)).expect("owned");
    cluster.nodes.iter().position(|node| node.port == *port).expect("a node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_makes_its_channels_unavailable_until_it_returns_with_them() {
    let mut cluster = RedisCluster::start();
    let store = open(&cluster).await;
    store.create_channel("b", hash_token("t")).await.expect("create");
    let acked = store.append("b", event(1)).await.expect("append");
    let node = owner(&cluster, "b").await;
    cluster.nodes[node].kill();
    let refused = tokio::time::timeout(STEP, store.append("b", event(2))).await.expect("answers");
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
    cluster.nodes[node].restart();
    let deadline = tokio::time::Instant::now() + STEP;
    let seq = loop {
        match store.append("b", event(3)).await {
            Ok(seq) => break seq,
            Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("not back: {err:#}"),
        }
    };
    assert_eq!((acked, seq), (1, 2), "the refused append took no seq");
    let events = store.events_after("b", 0, 10, 1 << 20).await.expect("read");
    let bodies: Vec<&[u8]> = events.iter().map(|event| event.body.as_ref()).collect();
    assert_eq!(bodies, [b"1".as_slice(), b"3".as_slice()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_follower_keeps_following_the_other_masters_while_one_is_down() {
    let mut cluster = RedisCluster::start();
    let (one, two) = (open(&cluster).await, open(&cluster).await);
    for channel in ["a", "b"] {
        one.create_channel(channel, hash_token("t")).await.expect("create");
    }
    let node = owner(&cluster, "b").await;
    assert_ne!(node, owner(&cluster, "a").await, "a and b are on different masters");
    cluster.nodes[node].kill();
    let cursors: Vec<(String, u64)> = ["a", "b"].map(|c| (c.to_owned(), 0)).into();
    let seq = one.append("a", event(1)).await.expect("append");
    let seen = tokio::time::timeout(STEP, two.elsewhere(&cursors, Duration::from_secs(60)))
        .await
        .expect("answers");
    assert_eq!(seen.expect("read").appended, [("a".to_owned(), seq)]);
}
