//! Retention never loses an acknowledged event silently (DESIGN §2.2): count retention keeps
//! every undelivered event, a full channel refuses with 507 instead of pushing one out, and
//! events age retention removes before delivery arrive as an explicit gap, in `listen` and
//! in `events`. Real `hookrelayd` processes, counts exact.

use std::time::Duration;

use bytes::Bytes;
use hookrelay_proto::ChannelCreated;

use crate::WAIT;
use crate::app::LocalApp;
use crate::cli::{Cli, Home, listen_args, listen_to};
use crate::fake_relay::{FakeRelay, event_frame};
use crate::relay::{Http, RelayProcess, number};

/// A `hookrelayd` with `flags` on a fresh store, with one channel.
async fn relay_with(flags: &[&str]) -> (RelayProcess, Http, ChannelCreated, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("tempdir");
    let relay = RelayProcess::start_with(0, data.path(), flags).await;
    let http = Http::default();
    let channel = http.create_channel(&relay.url).await;
    (relay, http, channel, data)
}

/// `--relay URL --channel ID --token T` for the history commands.
fn channel_args<'a>(relay: &'a RelayProcess, channel: &'a ChannelCreated) -> Vec<&'a str> {
    listen_to(&relay.url, channel)[2..].to_vec()
}

fn seqs(records: &[serde_json::Value]) -> Vec<u64> {
    records.iter().map(|record| record["seq"].as_u64().expect("seq")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_bigger_than_count_retention_reaches_a_slow_app_in_full_and_in_order() {
    let (relay, http, channel, _data) = relay_with(&["--retention-events", "50"]).await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;

    // Eight senders, 400 events, each taking the app 2 ms: the backlog passes 50 at once.
    let senders: Vec<_> = (0..8)
        .map(|sender| {
            let (http, url) = (http.clone(), channel.ingest_url.clone());
            tokio::spawn(async move {
                let numbers = (sender * 50)..(sender * 50 + 50);
                http.ingest_numbered(&url, numbers, &[("x-delay-ms", b"2")]).await;
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("every POST answered 200");
    }
    assert_eq!(seqs(&cli.deliveries(400).await), (1..=400).collect::<Vec<_>>());
    let mut numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..400).collect::<Vec<_>>(), "every acknowledged event arrived once");
    assert!(!cli.stderr().contains("never delivered"), "{}", cli.stderr());
    assert!(cli.interrupt().await.success());
    relay.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_waiting_for_a_client_outlive_count_retention() {
    let (relay, http, channel, _data) = relay_with(&["--retention-events", "50"]).await;
    http.ingest_numbered(&channel.ingest_url, 0..120, &[]).await;

    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;
    assert_eq!(seqs(&cli.deliveries(120).await), (1..=120).collect::<Vec<_>>());
    let numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, (0..120).collect::<Vec<_>>());
    wait_until_finished(&http, &relay.url, &channel, 120).await;

    // Once finished, they are what count retention removes: the next append keeps 50.
    http.ingest_numbered(&channel.ingest_url, 120..121, &[]).await;
    assert_eq!(seqs(&cli.deliveries(1).await), [121]);
    assert!(cli.interrupt().await.success());
    let args = [&["events", "--json", "--limit", "1000"][..], &channel_args(&relay, &channel)];
    let (status, listed, _) = Cli::run(&home, &args.concat()).await;
    assert!(status.success());
    let listed: Vec<serde_json::Value> =
        listed.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(seqs(&listed), (72..=121).collect::<Vec<_>>());
    relay.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_channel_answers_507_and_pushes_nothing_out() {
    let flags = ["--max-channel-bytes", "4KiB", "--max-body", "1KiB"];
    let (relay, http, channel, _data) = relay_with(&flags).await;
    let body = |n: usize| Bytes::from(format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(1000)));
    for n in 0..4 {
        let (status, _) = http.send("POST", &channel.ingest_url, &[], body(n)).await;
        assert_eq!(status, 200, "event {n} fits");
    }
    let (status, answer) = http.send("POST", &channel.ingest_url, &[], body(4)).await;
    assert_eq!(status, 507, "{}", String::from_utf8_lossy(&answer));
    let error: serde_json::Value = serde_json::from_slice(&answer).expect("JSON error");
    assert_eq!(error["error"]["code"], "channel_full");

    // The four stored events are all delivered; then there is room again.
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;
    assert_eq!(seqs(&cli.deliveries(4).await), [1, 2, 3, 4]);
    wait_until_finished(&http, &relay.url, &channel, 4).await;
    let (status, _) = http.send("POST", &channel.ingest_url, &[], body(4)).await;
    assert_eq!(status, 200, "finished events made room");
    assert_eq!(seqs(&cli.deliveries(1).await), [5], "the refused POST took no seq");
    let numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4]);
    assert!(cli.interrupt().await.success());
    relay.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_expire_before_delivery_are_reported_as_a_gap_never_skipped() {
    let (relay, http, channel, _data) = relay_with(&["--retention-age", "1s"]).await;
    http.ingest_numbered(&channel.ingest_url, 0..5, &[]).await;
    wait_for_expiry(&http, &relay.url, &channel).await;
    http.ingest_numbered(&channel.ingest_url, 5..7, &[]).await;

    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;
    let gap = cli.next_record().await;
    assert_eq!(
        gap,
        serde_json::json!({"type": "gap", "from_seq": 1, "to_seq": 5, "count": 5, "reason": "expired"})
    );
    assert_eq!(seqs(&cli.deliveries(2).await), [6, 7]);
    cli.wait_stderr("error: events seq 1–5 (5 events) expired on the relay", 1).await;
    let numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, [5, 6]);
    assert!(cli.interrupt().await.success());

    // The cursor passed the gap: a restart does not report it again.
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;
    http.ingest_numbered(&channel.ingest_url, 7..8, &[]).await;
    assert_eq!(seqs(&cli.deliveries(1).await), [8], "no gap record before it");
    assert!(cli.interrupt().await.success());

    // History lists the expired range.
    let channel_args =
        ["--relay", &relay.url, "--channel", &channel.channel, "--token", &channel.token];
    let (status, table, _) = Cli::run(&home, &[&["events"][..], &channel_args].concat()).await;
    assert!(status.success());
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[1].contains("1–5") && lines[1].contains("expired before delivery: 5 events lost"),
        "{table}"
    );
    let (_, json, _) = Cli::run(&home, &[&["events", "--json"][..], &channel_args].concat()).await;
    let first: serde_json::Value =
        serde_json::from_str(json.lines().next().expect("a line")).expect("JSON");
    assert_eq!((first["type"].as_str(), first["count"].as_u64()), (Some("gap"), Some(5)));
    relay.kill().await;
}

/// Polls the history until the relay has recorded the first `n` events as finished: a
/// delivery record on `listen`'s stdout comes just before its ack reaches the relay.
async fn wait_until_finished(http: &Http, relay: &str, channel: &ChannelCreated, n: usize) {
    let url = format!("{relay}/v1/channels/{}/events?limit={n}", channel.channel);
    let auth = format!("Bearer {}", channel.token);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) =
            http.send("GET", &url, &[("authorization", auth.as_bytes())], Bytes::new()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let page: Vec<serde_json::Value> = serde_json::from_slice(&body).expect("summaries");
        if page.len() == n && page.iter().all(|summary| summary["state"] != "pending") {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "acks not recorded in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the relay's gap list until age retention has expired something.
async fn wait_for_expiry(http: &Http, relay: &str, channel: &ChannelCreated) {
    let url = format!("{relay}/v1/channels/{}/gaps", channel.channel);
    let auth = format!("Bearer {}", channel.token);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) =
            http.send("GET", &url, &[("authorization", auth.as_bytes())], Bytes::new()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        if body.as_ref() != b"[]" {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing expired in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_in_seq_the_relay_does_not_explain_is_reported_as_a_gap() {
    let frames = vec![event_frame(1, "evt_a", 0), event_frame(4, "evt_b", 1)];
    let relay = FakeRelay::start("ch", vec![frames]).await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let mut cli = crate::misbehaving_relay::listen(&home, &relay, &app).await;
    assert_eq!(seqs(&cli.deliveries(1).await), [1]);
    let gap = cli.next_record().await;
    assert_eq!(
        gap,
        serde_json::json!({"type": "gap", "from_seq": 2, "to_seq": 3, "count": 2, "reason": "unexplained"})
    );
    assert_eq!(seqs(&cli.deliveries(1).await), [4]);
    cli.wait_stderr("error: events seq 2–3 (2 events) are missing from the relay's stream", 1)
        .await;
    assert!(cli.interrupt().await.success());
}
