//! `hookrelay trigger`: simulated events land in the channel (or at `--to URL`) with exactly
//! the bytes it reports, and `listen` picks them up.

use serde_json::Value;

use crate::app::{LocalApp, free_port};
use crate::cli::{Cli, Home};
use crate::raw::event_detail;
use crate::relay::{Http, TestRelay};
use crate::sandbox::StatusApp;

/// The body the relay stored for event `id`.
async fn stored_body(relay: &str, channel: &str, token: &str, id: &str) -> Vec<u8> {
    event_detail(relay, channel, token, id).await.event.body.to_vec()
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggered_events_land_in_the_channel_with_the_exact_bytes_sent() {
    let relay = TestRelay::start().await;
    let channel = Http::default().create_channel(&relay.url).await;
    let home = Home::new();
    let base = ["--relay", &relay.url, "--channel", &channel.channel, "--token", &channel.token];

    let mut args = vec!["trigger", "test"];
    args.extend_from_slice(&base);
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with(r#"sent test → 200 {"id":"evt_"#), "{stdout}");
    assert!(stdout.trim_end().ends_with(r#""seq":1}"#), "{stdout}");

    let mut args = vec!["trigger", "connectivity.interrupted", "--count", "3", "--json"];
    args.extend_from_slice(&base);
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert!(status.success(), "{stderr}");
    let sent = lines(&stdout);
    assert_eq!(sent.len(), 3, "{stdout}");
    let mut bodies = Vec::new();
    for (i, record) in sent.iter().enumerate() {
        assert_eq!(record["type"], "sent");
        assert_eq!(record["status"], 200);
        assert_eq!(record["to"], channel.ingest_url.as_str());
        assert_eq!(record["answer"]["seq"], i + 2);
        let id = record["answer"]["id"].as_str().expect("id");
        let body = stored_body(&relay.url, &channel.channel, &channel.token, id).await;
        assert_eq!(body, record["request_body"].as_str().expect("body").as_bytes());
        let event: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(event["event_type"], "connectivity.interrupted");
        assert!(event["data"]["borrower_id"].is_string(), "{event}");
        bodies.push(body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 3, "each event has fresh fake data");

    let mut args = vec!["trigger", "connectivity.interrupted", "--data", r#"{"x":1}"#, "--json"];
    args.extend_from_slice(&base);
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert!(status.success(), "{stderr}");
    let id = lines(&stdout)[0]["answer"]["id"].as_str().expect("id").to_owned();
    let body = stored_body(&relay.url, &channel.channel, &channel.token, &id).await;
    assert_eq!(body, br#"{"event_type":"connectivity.interrupted","data":{"x":1}}"#);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_to_a_url_posts_straight_to_it_and_fails_on_non_2xx() {
    let app = LocalApp::start().await;
    let home = Home::new();
    let data_dir = tempfile::tempdir().expect("tempdir");
    let data = data_dir.path().join("data.json");
    std::fs::write(&data, r#"{"id": 7}"#).expect("written");
    let data_arg = format!("@{}", data.display());
    let to = app.url("/hooks?src=trigger");
    let args = ["trigger", "enrollment.updated", "--to", &to, "--data", &data_arg];
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "sent enrollment.updated → 200 answered 200 OK\n");
    let record = &app.wait_for(1).await[0];
    assert_eq!(record.method, "POST");
    assert_eq!(record.path_and_query, "/hooks?src=trigger");
    assert_eq!(record.body, r#"{"event_type":"enrollment.updated","data":{"id":7}}"#);
    assert_eq!(record.header("content-type").as_deref(), Some("application/json"));

    let failing = StatusApp::start(500).await;
    let args = ["trigger", "test", "--count", "2", "--to", &failing.url];
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "both were sent: {stdout}");
    assert!(stdout.starts_with("sent test → 500 nope\n"), "{stdout}");
    assert!(stderr.starts_with("error: 2 of 2 events were not accepted"), "{stderr}");
    assert_eq!(failing.wait_for(2).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_the_catalogue_and_unknown_types_name_the_known_ones() {
    let home = Home::new();
    let (status, stdout, stderr) = Cli::run(&home, &["trigger", "--list"]).await;
    assert!(status.success(), "{stderr}");
    let names: Vec<&str> =
        stdout.lines().map(|l| l.split_whitespace().next().expect("name")).collect();
    assert_eq!(
        names,
        ["test", "connectivity.interrupted", "connectivity.restored", "borrower.delinquent"]
    );
    assert!(stdout.lines().any(|l| l.starts_with("borrower.delinquent") && l.contains("never")));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.json");
    std::fs::write(&path, r#"{"event_types": [{"name": "invoice.paid", "description": "paid"}]}"#)
        .expect("written");
    let args = ["trigger", "--list", "--catalog", path.to_str().expect("utf-8")];
    let (status, stdout, _) = Cli::run(&home, &args).await;
    assert!(status.success());
    let last = stdout.lines().last().expect("a line");
    assert!(
        last.starts_with("invoice.paid") && last.contains(&path.display().to_string()),
        "{last}"
    );

    // No relay runs on this port: the type is checked before anything is sent.
    let port = free_port().to_string();
    let (status, stdout, stderr) =
        Cli::run(&home, &["trigger", "enrollment.approved", "--port", &port]).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with(
            "error: unknown event type \"enrollment.approved\"; known types: test, connectivity.interrupted, connectivity.restored, borrower.delinquent"
        ),
        "{stderr}"
    );
    let (status, _, stderr) = Cli::run(&home, &["trigger", "test", "--data", "{nope"]).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--data"), "{stderr}");
    let (status, _, stderr) = Cli::run(&home, &["trigger"]).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_triggered_while_nobody_listens_reaches_the_app_when_listen_starts() {
    let port = free_port().to_string();
    let home = Home::new();
    // No --relay, no channel: trigger starts the embedded relay, creates and saves a channel.
    let (status, stdout, stderr) =
        Cli::run(&home, &["trigger", "connectivity.restored", "--json", "--port", &port]).await;
    assert!(status.success(), "{stderr}");
    let sent = &lines(&stdout)[0];
    assert_eq!(sent["answer"]["seq"], 1);

    let app = LocalApp::start().await;
    let target = app.url("/webhooks");
    let mut listen = Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", &target]);
    let ready = listen.ready().await;
    assert_eq!(ready["ingest_url"], sent["to"], "the same saved channel");
    assert_eq!(listen.deliveries(1).await[0]["status"], 200);
    let record = &app.wait_for(1).await[0];
    assert_eq!(record.body, sent["request_body"].as_str().expect("body").as_bytes());
    assert!(listen.interrupt().await.success());
}
