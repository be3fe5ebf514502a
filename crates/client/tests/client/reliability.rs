//! Nothing is lost and order holds through offline periods, client kills, relay kills and a
//! local app that is down.

use crate::app::{LocalApp, Recorded};
use crate::cli::{Cli, Home, Listening, listen_args};
use crate::relay::{RelayProcess, TestRelay, number};

/// Numbers in the order the app first saw them, and how many requests were repeats.
fn first_seen(records: &[Recorded]) -> (Vec<usize>, usize) {
    let mut order = Vec::new();
    let mut repeats = 0;
    for record in records {
        let n = number(&record.body);
        if order.contains(&n) {
            repeats += 1;
        } else {
            order.push(n);
        }
    }
    (order, repeats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_while_no_client_is_connected_arrive_in_order_once_it_connects() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let app = LocalApp::start().await;
    http.ingest_numbered(&channel.ingest_url, 0..200, &[]).await;

    let home = Home::new();
    let target = app.url("/");
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;
    let seqs: Vec<u64> =
        cli.deliveries(200).await.iter().map(|d| d["seq"].as_u64().expect("seq")).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, (0..200).collect::<Vec<_>>());
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_killed_mid_stream_resumes_without_gaps_or_extra_duplicates() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let app = LocalApp::start().await;
    http.ingest_numbered(&channel.ingest_url, 0..60, &[("x-delay-ms", b"20")]).await;

    let home = Home::new();
    let target = app.url("/");
    let args = listen_args(&relay.url, &channel, &target);
    let first = Cli::spawn_ready(&home, &args).await;
    app.wait_for(15).await;
    first.kill().await;

    let second = Cli::spawn_ready(&home, &args).await;
    let records = app.wait_for_distinct(60).await;
    let (order, repeats) = first_seen(&records);
    assert_eq!(order, (0..60).collect::<Vec<_>>(), "gap or reorder");
    assert!(repeats <= 1, "{repeats} events repeated; only the one in flight may");
    assert!(second.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_with_sigkill_and_restarted_delivers_every_acked_event() {
    let data = tempfile::tempdir().expect("tempdir");
    let (relayd, http, channel) = RelayProcess::with_channel(data.path()).await;
    let url = relayd.url.clone();
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let cli = Cli::spawn_ready(&home, &listen_args(&url, &channel, &target)).await;
    http.ingest_numbered(&channel.ingest_url, 0..30, &[("x-delay-ms", b"10")]).await;
    let (port, dir) = relayd.kill().await;

    let relayd = RelayProcess::start(port, &dir).await;
    http.ingest_numbered(&channel.ingest_url, 30..40, &[]).await;
    let records = app.wait_for_distinct(40).await;
    let (order, _) = first_seen(&records);
    assert_eq!(order, (0..40).collect::<Vec<_>>(), "an acked event was lost or reordered");
    assert!(cli.interrupt().await.success());
    relayd.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_app_down_then_up_on_same_port_gets_every_event_in_order() {
    let Listening { relay, http, channel, mut app, mut cli, home: _home } =
        Listening::start("/hooks", &[]).await;
    http.ingest_numbered(&channel.ingest_url, 0..5, &[]).await;
    cli.deliveries(5).await;

    app.stop().await;
    http.ingest_numbered(&channel.ingest_url, 5..20, &[]).await;
    cli.wait_stderr(&format!("waiting for 127.0.0.1:{}", app.port), 2).await;
    app.restart().await;
    let deliveries = cli.deliveries(15).await;
    let seqs: Vec<u64> = deliveries.iter().map(|d| d["seq"].as_u64().expect("seq")).collect();
    assert_eq!(seqs, (6..=20).collect::<Vec<_>>());
    // Waiting for an app that is down is not an attempt: the first answer is attempt 1.
    assert_eq!(deliveries[0]["attempt"], 1, "{}", deliveries[0]);
    let numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, (0..20).collect::<Vec<_>>());
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_delivers_every_event_exactly_once() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let app = LocalApp::start().await;
    http.ingest_numbered(&channel.ingest_url, 0..100, &[("x-delay-ms", b"5")]).await;
    let home = Home::new();
    let target = app.url("/");
    let mut args = listen_args(&relay.url, &channel, &target);
    args.extend(["--concurrency", "8"]);
    let mut cli = Cli::spawn_ready(&home, &args).await;
    let mut seqs: Vec<u64> =
        cli.deliveries(100).await.iter().map(|d| d["seq"].as_u64().expect("seq")).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
    let (order, repeats) = first_seen(&app.records());
    assert_eq!((order.len(), repeats), (100, 0));
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_whose_history_was_reset_has_all_its_events_delivered() {
    let port = crate::app::free_port();
    let create_demo = |http: crate::relay::Http, url: String| async move {
        let body = bytes::Bytes::from_static(br#"{"name":"demo"}"#);
        let (status, answer) = http.send("POST", &format!("{url}/v1/channels"), &[], body).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        serde_json::from_slice::<hookrelay_proto::ChannelCreated>(&answer).expect("channel")
    };
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let http = crate::relay::Http::default();

    // Five events delivered: the client's cursor for channel "demo" is at #5.
    let first_store = tempfile::tempdir().expect("tempdir");
    let relayd = RelayProcess::start(port, first_store.path()).await;
    let channel = create_demo(http.clone(), relayd.url.clone()).await;
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relayd.url, &channel, &target)).await;
    http.ingest_numbered(&channel.ingest_url, 0..5, &[]).await;
    cli.deliveries(5).await;
    assert!(cli.interrupt().await.success());
    relayd.kill().await;

    // Same address, empty store, "demo" made again: its events are numbered from 1 again.
    let second_store = tempfile::tempdir().expect("tempdir");
    let relayd = RelayProcess::start(port, second_store.path()).await;
    let channel = create_demo(http.clone(), relayd.url.clone()).await;
    http.ingest_numbered(&channel.ingest_url, 5..8, &[]).await;
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relayd.url, &channel, &target)).await;
    cli.wait_stderr("history for this channel ends at seq 3", 1).await;
    http.ingest_numbered(&channel.ingest_url, 8..9, &[]).await;
    let seqs: Vec<u64> =
        cli.deliveries(4).await.iter().map(|d| d["seq"].as_u64().expect("seq")).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "the reset relay's events are all delivered, in order");
    let numbers: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, (0..9).collect::<Vec<_>>(), "nothing after the reset was dropped as old");
    assert!(cli.interrupt().await.success());
    relayd.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_slower_than_timeout_is_retried_and_gets_the_event_once_it_answers_in_time() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/", &["--timeout", "1"]).await;
    http.ingest("POST", &channel.ingest_url, &[], r#"{"n":0}"#).await;
    // Three seconds, far past the 1 s timeout, on the first two attempts; prompt after that.
    let slow: &[(&str, &[u8])] = &[("x-delay-ms", b"3000x2")];
    http.ingest("POST", &channel.ingest_url, slow, r#"{"n":1}"#).await;
    http.ingest("POST", &channel.ingest_url, &[], r#"{"n":2}"#).await;

    let deliveries = cli.deliveries(3).await;
    let seqs: Vec<u64> = deliveries.iter().map(|d| d["seq"].as_u64().expect("seq")).collect();
    assert_eq!(seqs, [1, 2, 3], "each event delivered once, in order");
    let attempts: Vec<u64> =
        deliveries.iter().map(|d| d["attempt"].as_u64().expect("attempt")).collect();
    assert_eq!(attempts, [1, 3, 1], "two timeouts, then the answer: {deliveries:?}");
    assert_eq!(deliveries[1]["outcome"], "delivered", "{}", deliveries[1]);
    cli.wait_stderr("seq 2 POST / no answer within 1s (attempt 1/5); retrying in", 1).await;
    cli.wait_stderr("seq 2 POST / no answer within 1s (attempt 2/5); retrying in", 1).await;

    // The app records a request when it answers, if the client still waits for it; the
    // answered attempt of event 2 came before event 3, which came once.
    let records = app.records();
    let (order, _) = first_seen(&records);
    assert_eq!(order, [0, 1, 2]);
    assert_eq!(records.iter().filter(|r| number(&r.body) == 2).count(), 1);
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}
