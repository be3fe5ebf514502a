//! The real `hookrelayd --store redis+cluster://...` on a real three-master Redis Cluster
//! that the test starts (loopback ports, AOF): two relays, channels in different slots,
//! ingest on one and stream from the other, a deletion seen across relays, and a master
//! killed and restarted under a running relay.

use hookrelay_proto::IngestAck;
use hookrelay_test_redis::RedisCluster;
use hyper::StatusCode;

use crate::redis::{expect_recovered, expect_three_refused, post_three_before, relay_on};
use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_clients_on_one_relay_get_what_another_ingests_in_order_and_deletions() {
    let cluster = RedisCluster::start();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (relay_on(&cluster.url, &dir_a).await, relay_on(&cluster.url, &dir_b).await);
    // Random channel ids: with four, their slots almost surely differ, so B follows several
    // slots (and `hr:deleted`'s) at once.
    let mut channels = Vec::new();
    for _ in 0..4 {
        let channel = create_channel(&a.url, None).await;
        let mut ws = connect(&b.url, &channel, 0).await;
        assert_eq!(expect_hello(&mut ws, &channel.channel).await, 0);
        channels.push((channel, ws));
    }
    // Live, one at a time, round the channels: each reaches B's client before the next.
    for n in 1..=3u64 {
        for (channel, ws) in &mut channels {
            let answer = post(&format!("{}/{n}", channel.ingest_url), format!("{n}")).await;
            assert_eq!(answer.json::<IngestAck>().seq, n);
            let event = within(next_event(ws)).await;
            assert_eq!((event.seq, event.path.clone()), (n, format!("/{n}")));
            ack(ws, &event, Outcome::Delivered, 200).await;
        }
    }
    // A burst to each through A: every event exactly once, in seq order, on B.
    for (channel, _) in &channels {
        for n in 4..=23u64 {
            let answer = post(&format!("{}/{n}", channel.ingest_url), format!("{n}")).await;
            assert_eq!(answer.status, StatusCode::OK);
        }
    }
    for (_, ws) in &mut channels {
        for seq in 4..=23u64 {
            let event = within(next_event(ws)).await;
            assert_eq!((event.seq, event.body.as_ref()), (seq, seq.to_string().as_bytes()));
            ack(ws, &event, Outcome::Delivered, 200).await;
        }
    }
    // Deleted through A: its session on B closes; the others stream on.
    let (gone, mut gone_ws) = channels.remove(0);
    assert_eq!(delete_channel(&a.url, &gone).await.status, StatusCode::NO_CONTENT);
    let (code, reason) = expect_close(&mut gone_ws).await;
    assert_eq!((code, reason.as_str()), (1008, "channel deleted"));
    let (other, ws) = &mut channels[0];
    post(&format!("{}/x", other.ingest_url), "still here").await;
    assert_eq!(within(next_event(ws)).await.body.as_ref(), b"still here");
    drop(channels);
    for relay in [a, b] {
        relay.signal("-TERM");
        assert!(relay.wait().await.success());
    }
}

/// The index of the node that holds `channel` (the others answer `MOVED`).
fn owner_of(cluster: &RedisCluster, channel: &str) -> usize {
    let key = format!("hr:{{{channel}}}:meta");
    let holds = |port: u16| {
        let out = std::process::Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "EXISTS", &key])
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    };
    cluster.nodes.iter().position(|node| holds(node.port)).expect("one node holds it")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_cluster_master_is_503_for_its_channels_and_the_relay_recovers_by_itself() {
    let mut cluster = RedisCluster::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = relay_on(&cluster.url, &dir).await;
    let channel = create_channel(&relay.url, None).await;
    post_three_before(&channel).await;
    let node = owner_of(&cluster, &channel.channel);
    cluster.nodes[node].kill();
    // Never a false 200 for the channel whose master is gone.
    expect_three_refused(&channel).await;
    // (`/healthz` is not asked: on a cluster it says whether the cluster answers, not
    // whether every master does; see docs/redis.md.)

    // The master comes back on its AOF and rejoins; the relay serves again by itself.
    cluster.nodes[node].restart();
    expect_recovered(&relay.url, &channel).await;
    relay.signal("-TERM");
    assert!(relay.wait().await.success());
}
