//! The real `hookrelayd --store redis+cluster://...` on a real three-master Redis Cluster
//! that the test starts (loopback ports, AOF): two relays, channels in different slots,
//! ingest on one and stream from the other, and a deletion seen across relays.

use hookrelay_proto::IngestAck;
use hookrelay_test_redis::RedisCluster;
use hyper::StatusCode;

use crate::process::Daemon;
use crate::*;

async fn relay_on(cluster: &RedisCluster, dir: &tempfile::TempDir) -> Daemon {
    let data_dir = dir.path().to_str().expect("utf-8 temp dir");
    Daemon::start_args(&["--store", &cluster.url, "--data-dir", data_dir]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_clients_on_one_relay_get_what_another_ingests_in_order_and_deletions() {
    let cluster = RedisCluster::start();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (relay_on(&cluster, &dir_a).await, relay_on(&cluster, &dir_b).await);
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
    let url = format!("{}/v1/channels/{}", a.url, gone.channel);
    let auth = format!("Bearer {}", gone.token);
    let deleted = http(Method::DELETE, &url, &[("authorization", &auth)], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
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
