//! How `listen` picks its relay and channel: stale saved channels, ports in use, overrides.

use crate::app::{LocalApp, free_port};
use crate::cli::{Cli, Home, Listening};
use crate::relay::{Http, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_channel_the_relay_no_longer_knows_is_replaced_and_the_user_told() {
    let relay = TestRelay::start().await;
    let home = Home::new();
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    let stale = serde_json::json!({
        format!("{}/", relay.url): {"channel": "ch_gone", "token": "t", "ingest_url": "http://x/h/ch_gone"}
    });
    std::fs::write(home.config_dir().join("channels.json"), stale.to_string()).expect("written");
    let mut cli = Cli::spawn(
        &home,
        &["listen", "--json", "--relay", &relay.url, "-f", "http://127.0.0.1:9/"],
    );
    let ready = cli.ready().await;
    assert_ne!(ready["channel"], "ch_gone");
    assert!(cli.stderr().contains("no longer knows channel ch_gone"), "{}", cli.stderr());
    let saved = std::fs::read_to_string(home.config_dir().join("channels.json")).expect("saved");
    assert!(saved.contains(ready["channel"].as_str().expect("channel")), "{saved}");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_taken_by_another_program_fails_with_a_hint_about_port() {
    let app = LocalApp::start().await;
    let port = app.port.to_string();
    let home = Home::new();
    let (status, _, stderr) =
        Cli::run(&home, &["listen", "--json", "--port", &port, "-f", "http://127.0.0.1:9/"]).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains("--port"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_taken_by_a_hookrelay_relay_is_used_as_the_relay() {
    let port = free_port();
    let home = Home::new();
    let app = LocalApp::start().await;
    let target = app.url("/");
    let args = ["listen", "--json", "--port", &port.to_string(), "-f", &target].map(str::to_owned);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut owner = Cli::spawn(&home, &args);
    let ready = owner.ready().await;
    let other_home = Home::new();
    let mut guest = Cli::spawn(&other_home, &args);
    let guest_ready = guest.ready().await;
    assert!(guest.stderr().contains("already running"), "{}", guest.stderr());
    assert_ne!(guest_ready["channel"], ready["channel"]);
    let http = Http::default();
    let ingest_url = guest_ready["ingest_url"].as_str().expect("ingest_url");
    http.ingest("POST", ingest_url, &[], "{}").await;
    assert_eq!(guest.deliveries(1).await[0]["status"], 200);
    assert!(guest.interrupt().await.success());
    assert!(owner.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_overrides_replace_same_named_headers() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/", &["-H", "Authorization: Bearer local", "-H", "x-extra: 1"]).await;
    let headers: &[(&str, &[u8])] = &[("authorization", b"Bearer provider"), ("x-keep", b"k")];
    http.ingest("POST", &channel.ingest_url, headers, "{}").await;
    cli.deliveries(1).await;
    let record = &app.records()[0];
    let auth: Vec<_> = record.headers.iter().filter(|(n, _)| n == "authorization").collect();
    assert_eq!(auth.len(), 1);
    assert_eq!(record.header("authorization").as_deref(), Some("Bearer local"));
    assert_eq!(record.header("x-extra").as_deref(), Some("1"));
    assert_eq!(record.header("x-keep").as_deref(), Some("k"));
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}
