//! The real `hookrelayd --store redis://...` on a real `redis-server` that the test starts
//! (loopback port, AOF): ingest, stream, ack, restart the relay, two relays on one Redis (one
//! killed with `kill -9` mid-ingest), Redis killed and restarted under a running relay, and
//! the refusal of a Redis that could lose an acked event. A missing `redis-server` fails
//! with the install command. The helpers here serve `redis_cluster.rs` too.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hookrelay_proto::{EventSummary, IngestAck};
use hookrelay_test_redis::RedisServer;
use hyper::StatusCode;

use crate::process::Daemon;
use crate::*;

/// `hookrelayd --store STORE_URL` (a Redis server's or cluster's) over `dir`.
pub(crate) async fn relay_on(store_url: &str, dir: &tempfile::TempDir) -> Daemon {
    let data_dir = dir.path().to_str().expect("utf-8 temp dir");
    Daemon::start_args(&["--store", store_url, "--data-dir", data_dir]).await
}

/// The ingest URL's path (`/h/{channel}`), to post through any relay.
fn ingest_path(channel: &ChannelCreated) -> &str {
    &channel.ingest_url[channel.ingest_url.find("/h/").expect("ingest path")..]
}

/// Posts `before 1..=3` to `channel` and checks they get seqs 1 to 3.
pub(crate) async fn post_three_before(channel: &ChannelCreated) {
    for n in 1..=3u64 {
        let answer = post(&format!("{}/n/{n}", channel.ingest_url), format!("before {n}")).await;
        assert_eq!(answer.json::<IngestAck>().seq, n);
    }
}

/// Never a false 200 while the store is down: three webhooks, each refused with `503
/// store_unavailable`, which providers retry.
pub(crate) async fn expect_three_refused(channel: &ChannelCreated) {
    for n in 1..=3 {
        let answer = post(&format!("{}/down/{n}", channel.ingest_url), "lost?").await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.error_code(), "store_unavailable");
    }
}

/// Once the store is back: `after` gets seq 4 (the refused webhooks took none), and a
/// client gets the four acked events in order, byte for byte.
pub(crate) async fn expect_recovered(relay_url: &str, channel: &ChannelCreated) {
    let ingest = format!("{}/after", channel.ingest_url);
    let answer = until_status(Method::POST, &ingest, "after", StatusCode::OK).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json::<IngestAck>().seq, 4, "the refused webhooks took no seq");
    let mut ws = connect(relay_url, channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 4);
    for (seq, body) in [(1, "before 1"), (2, "before 2"), (3, "before 3"), (4, "after")] {
        let event = within(next_event(&mut ws)).await;
        assert_eq!((event.seq, event.body.as_ref()), (seq, body.as_bytes()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hookrelayd_on_redis_ingests_streams_and_a_restarted_relay_resumes() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = relay_on(&redis.url, &dir).await;
    let channel = create_channel(&relay.url, None).await;
    for n in 1..=20u64 {
        let answer = post(&format!("{}/n/{n}", channel.ingest_url), format!("body {n}")).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json::<IngestAck>().seq, n);
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 20);
    for n in 1..=20u64 {
        let event = next_event(&mut ws).await;
        assert_eq!((event.seq, event.body.as_ref()), (n, format!("body {n}").as_bytes()));
        assert_eq!(event.path, format!("/n/{n}"));
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    // Live: an event posted while the client listens arrives at once.
    post(&format!("{}/live", channel.ingest_url), "live").await;
    let live = next_event(&mut ws).await;
    assert_eq!((live.seq, live.path.as_str()), (21, "/live"));
    drop(ws);
    relay.signal("-TERM");
    assert!(relay.wait().await.success());

    // Another relay on the same Redis (another data dir: nothing is kept locally) serves the
    // channel with its history, acks and seqs.
    let other_dir = tempfile::tempdir().expect("temp dir");
    let relay = relay_on(&redis.url, &other_dir).await;
    let path = ingest_path(&channel);
    let ingest_url = format!("{}{path}", relay.url);
    let answer = post(&ingest_url, "after restart").await;
    assert_eq!(answer.json::<IngestAck>().seq, 22, "seqs keep growing across relays");
    let history = get_with_token(
        &format!("{}/v1/channels/{}/events?after=0&limit=100", relay.url, channel.channel),
        &channel.token,
    )
    .await;
    assert_eq!(history.status, StatusCode::OK);
    let summaries: Vec<EventSummary> = history.json();
    assert_eq!(summaries.len(), 22);
    let delivered = summaries.iter().filter(|s| s.last_result.is_some()).count();
    assert_eq!(delivered, 20, "the acks made through the first relay");
    let mut ws = connect(&relay.url, &channel, 20).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 22);
    assert_eq!(next_event(&mut ws).await.seq, 21);
    assert_eq!(next_event(&mut ws).await.body.as_ref(), b"after restart");
    drop(ws);
    relay.signal("-TERM");
    assert!(relay.wait().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_on_one_relay_gets_at_once_what_another_relay_ingests_in_order() {
    let redis = RedisServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (relay_on(&redis.url, &dir_a).await, relay_on(&redis.url, &dir_b).await);
    let channel = create_channel(&a.url, None).await;
    let path = ingest_path(&channel);
    let mut ws = connect(&b.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 0);
    // Live, one at a time: each event ingested on A reaches B's client before the next.
    for n in 1..=5u64 {
        let answer = post(&format!("{}{path}/a/{n}", a.url), format!("{n}")).await;
        assert_eq!(answer.json::<IngestAck>().seq, n);
        // Bounded as a whole: pings would otherwise keep a missed wake-up waiting forever.
        let event = within(next_event(&mut ws)).await;
        assert_eq!((event.seq, event.path.clone()), (n, format!("/a/{n}")));
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    // Both relays ingest at once: one gap-free order, every event exactly once.
    let posts: Vec<_> = (6..=45u64)
        .map(|n| {
            let url = format!("{}{path}/{n}", if n % 2 == 0 { &a.url } else { &b.url });
            tokio::spawn(async move { post(&url, format!("{n}")).await.status })
        })
        .collect();
    for task in posts {
        assert_eq!(within(task).await.expect("post"), StatusCode::OK);
    }
    let mut bodies = Vec::new();
    for seq in 6..=45u64 {
        let event = within(next_event(&mut ws)).await;
        assert_eq!(event.seq, seq, "in seq order");
        bodies.push(String::from_utf8(event.body.to_vec()).expect("text"));
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    bodies.sort_by_key(|body| body.parse::<u64>().expect("number"));
    assert_eq!(bodies, (6..=45u64).map(|n| n.to_string()).collect::<Vec<_>>());
    drop(ws);
    for relay in [a, b] {
        relay.signal("-TERM");
        assert!(relay.wait().await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_deleted_through_one_relay_closes_its_sessions_on_another() {
    let redis = RedisServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (relay_on(&redis.url, &dir_a).await, relay_on(&redis.url, &dir_b).await);
    let channel = create_channel(&a.url, None).await;
    let other = create_channel(&a.url, None).await;
    let mut ws = connect(&b.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    let mut bystander = connect(&b.url, &other, 0).await;
    expect_hello(&mut bystander, &other.channel).await;

    assert_eq!(delete_channel(&a.url, &channel).await.status, StatusCode::NO_CONTENT);
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1008, "channel deleted"));
    // Its ingest URL is gone on every relay; the other channel's session streams on.
    let path = ingest_path(&channel);
    let gone = post(&format!("{}{path}", b.url), "late").await;
    assert_eq!(gone.status, StatusCode::GONE);
    post(&format!("{}/x", other.ingest_url), "still here").await;
    assert_eq!(within(next_event(&mut bystander)).await.body.as_ref(), b"still here");
    drop(bystander);
    for relay in [a, b] {
        relay.signal("-TERM");
        assert!(relay.wait().await.success());
    }
}

/// Posts numbered bodies `{prefix}-{n}` to `ingest_url` one after another until one fails
/// to get an answer (its relay is gone) or `limit` were sent; returns the acknowledged ones.
/// `acked` counts them as they come, for the test to act mid-stream.
async fn post_until_gone(
    ingest_url: String,
    prefix: &'static str,
    limit: u64,
    acked: Arc<AtomicU64>,
) -> Vec<String> {
    let mut bodies = Vec::new();
    for n in 0..limit {
        let body = format!("{prefix}-{n}");
        let Ok(answer) = try_http(Method::POST, &ingest_url, &[], body.clone()).await else {
            break;
        };
        assert_eq!(answer.status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer.body));
        bodies.push(body);
        acked.fetch_add(1, Ordering::SeqCst);
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_relay_loses_nothing_it_acked_and_the_other_serves_on() {
    let redis = RedisServer::start();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (relay_on(&redis.url, &dir_a).await, relay_on(&redis.url, &dir_b).await);
    let channel = create_channel(&a.url, None).await;
    let path = ingest_path(&channel);

    // A client streams from A, acking as it goes, until A dies under it.
    let mut ws = connect(&a.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 0);
    let streamed_from_a = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(Ok(message)) = within(ws.next()).await {
            let Message::Text(text) = message else { continue };
            if let ServerMessage::Event(event) = serde_json::from_str(text.as_str()).expect("json")
            {
                let body = String::from_utf8(event.body.to_vec()).expect("text");
                let done = ClientMessage::Ack {
                    seq: event.seq,
                    id: event.id.clone(),
                    result: DeliveryResult::new(Outcome::Delivered, Some(200), 1, 1),
                };
                seen.push((event.seq, body));
                let text = serde_json::to_string(&done).expect("json");
                if ws.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        }
        seen
    });

    // Four senders on A and one on B ingest at once; A is killed mid-ingest.
    let acked_on_a = Arc::new(AtomicU64::new(0));
    let senders_a: Vec<_> = ["a0", "a1", "a2", "a3"]
        .into_iter()
        .map(|prefix| {
            let url = format!("{}{path}", a.url);
            tokio::spawn(post_until_gone(url, prefix, 10_000, acked_on_a.clone()))
        })
        .collect();
    let sender_b =
        tokio::spawn(post_until_gone(format!("{}{path}", b.url), "b", 60, Arc::default()));
    within(async {
        while acked_on_a.load(Ordering::SeqCst) < 40 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    a.signal("-KILL");
    assert!(!a.wait().await.success(), "killed, not exited");
    let mut acked = Vec::new();
    for sender in senders_a {
        acked.extend(within(sender).await.expect("sender"));
    }
    let from_b = within(sender_b).await.expect("sender");
    assert_eq!(from_b.len(), 60, "B answered every webhook while A died");
    acked.extend(from_b);
    // B serves on: more webhooks, and the client resumes there from its own cursor.
    for n in 0..10 {
        let body = format!("after-{n}");
        assert_eq!(post(&format!("{}{path}", b.url), body.clone()).await.status, StatusCode::OK);
        acked.push(body);
    }
    let mut streamed = within(streamed_from_a).await.expect("client");
    let cursor = streamed.last().map_or(0, |(seq, _)| *seq);
    let mut ws = connect(&b.url, &channel, cursor).await;
    let head = expect_hello(&mut ws, &channel.channel).await;
    for _ in cursor..head {
        let event = within(next_event(&mut ws)).await;
        streamed.push((event.seq, String::from_utf8(event.body.to_vec()).expect("text")));
        ack(&mut ws, &event, Outcome::Delivered, 200).await;
    }
    drop(ws);

    // One gap-free order across both relays, each stored event once, every acked one there.
    let seqs: Vec<u64> = streamed.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "every seq once, in order");
    let stored: std::collections::HashSet<&String> = streamed.iter().map(|(_, b)| b).collect();
    assert_eq!(stored.len(), streamed.len(), "no event stored twice");
    let lost: Vec<&String> = acked.iter().filter(|body| !stored.contains(body)).collect();
    assert!(lost.is_empty(), "acked but not stored: {lost:?}");
    // At most the requests in flight at the kill (one per sender) were stored unanswered.
    let unanswered = streamed.len() - acked.len();
    assert!(unanswered <= 4, "{unanswered} stored events were never answered");
    b.signal("-TERM");
    assert!(b.wait().await.success());
}

/// Starts a public `hookrelayd` on `redis` with `token` (none: it makes its own), stops it
/// with SIGTERM once it serves, and returns everything it wrote to stderr.
async fn public_relay_stderr(redis: &RedisServer, token: Option<&str>) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookrelayd"));
    command
        .args(["--listen", "0.0.0.0:0", "--store", &redis.url, "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("HOOKRELAY_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(token) = token {
        command.env("HOOKRELAY_ADMIN_TOKEN", token);
    }
    let mut child = command.spawn().expect("hookrelayd starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    within(tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut first = [0u8; 1];
        // The first byte of "hookrelayd listening on": it serves.
        stdout.read_exact(&mut first).expect("serving");
        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(killed.expect("kill runs").success());
        let mut text = String::new();
        stderr.read_to_string(&mut text).expect("stderr");
        assert!(child.wait().expect("exits").success(), "{text}");
        text
    }))
    .await
    .expect("relay")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_relay_on_redis_warns_when_its_admin_token_is_its_own() {
    let redis = RedisServer::start();
    let own = public_relay_stderr(&redis, None).await;
    assert!(own.contains("every relay on one Redis needs the same one"), "{own}");
    let given = public_relay_stderr(&redis, Some("shared-admin-token")).await;
    assert!(given.contains("the admin token given with --admin-token"), "{given}");
    assert!(!given.contains("every relay on one Redis"), "{given}");
}

#[tokio::test]
async fn hookrelayd_refuses_a_redis_that_may_lose_acked_events_unless_told() {
    let redis = RedisServer::start_with(&["--appendonly", "no"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
        .args(["--listen", "127.0.0.1:0", "--store", &redis.url, "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("appendonly no"), "names the setting: {stderr}");
    assert!(stderr.contains("appendfsync always"), "names the fix: {stderr}");
    assert!(stderr.contains("--redis-unsafe"), "names the way out: {stderr}");

    let data_dir = dir.path().to_str().expect("utf-8 temp dir");
    let relay =
        Daemon::start_args(&["--store", &redis.url, "--redis-unsafe", "--data-dir", data_dir])
            .await;
    let channel = create_channel(&relay.url, None).await;
    assert_eq!(post(&channel.ingest_url, "{}").await.status, StatusCode::OK);
    relay.signal("-TERM");
    assert!(relay.wait().await.success());
}

#[tokio::test]
async fn redis_urls_are_checked_and_redis_unsafe_needs_redis() {
    let bad = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
        .args(["--store", "redis://"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
    for url in ["redis+cluster://", "redis+cluster://a:1,b", "rediss+cluster://a:x"] {
        let bad = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
            .args(["--store", url])
            .output()
            .expect("runs");
        assert_eq!(bad.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&bad.stderr);
        assert!(stderr.contains("redis+cluster://HOST:PORT[,HOST:PORT...]"), "{stderr}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let lone = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
        .args(["--listen", "127.0.0.1:0", "--redis-unsafe", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(lone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&lone.stderr).contains("--redis-unsafe is only for"));
}

/// Polls `url` until it answers `status` or `STEP` passes (the relay reconnects to a
/// restarted Redis in the background).
pub(crate) async fn until_status(
    method: Method,
    url: &str,
    body: &str,
    status: StatusCode,
) -> Answer {
    let deadline = Instant::now() + STEP;
    loop {
        let answer = http(method.clone(), url, &[], body.to_owned()).await;
        if answer.status == status || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_503_store_unavailable_and_the_relay_recovers_by_itself() {
    let mut redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = relay_on(&redis.url, &dir).await;
    let channel = create_channel(&relay.url, None).await;
    post_three_before(&channel).await;

    redis.kill();
    expect_three_refused(&channel).await;
    let health = http(Method::GET, &format!("{}/healthz", relay.url), &[], "").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json::<serde_json::Value>()["status"], "store_unavailable");
    // An operator sees it on /metrics: the refusals, and Redis errors counted as such.
    let refused = metric(&relay.url, "hookrelay_ingest_requests_total{status=\"503\"}").await;
    assert_eq!(refused, Some(3.0));
    let errors = "hookrelay_store_errors_total{store=\"redis\",kind=\"unavailable\"}";
    assert!(metric(&relay.url, errors).await.is_some_and(|count| count >= 3.0));

    // Redis comes back (replaying its AOF); the relay reconnects by itself.
    redis.restart();
    let health =
        until_status(Method::GET, &format!("{}/healthz", relay.url), "", StatusCode::OK).await;
    assert_eq!(health.status, StatusCode::OK, "{}", String::from_utf8_lossy(&health.body));
    // Every acked event survived the kill, in order, byte for byte; none of the refused.
    expect_recovered(&relay.url, &channel).await;
    relay.signal("-TERM");
    assert!(relay.wait().await.success());
}
