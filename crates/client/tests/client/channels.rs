//! `hookrelay channels`: the saved channels listed with their newest event, and `new`,
//! `rotate` and `delete` of the current one, against a real relay.

use crate::app::LocalApp;
use crate::cli::{Cli, Home};
use crate::relay::{Http, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_listed_made_rotated_and_deleted() {
    let relay = TestRelay::start().await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let url = relay.url.as_str();
    // listen without --channel makes a channel and saves it.
    let mut cli = Cli::spawn(&home, &["listen", "--json", "--relay", url, "-f", &target]);
    let ready = cli.ready().await;
    let channel = ready["channel"].as_str().expect("channel").to_owned();
    let ingest_url = ready["ingest_url"].as_str().expect("ingest URL").to_owned();
    Http::default().ingest("POST", &ingest_url, &[], r#"{"type":"invoice.paid"}"#).await;
    cli.deliveries(1).await;
    assert!(cli.interrupt().await.success());

    let (status, listed, err) = Cli::run(&home, &["channels"]).await;
    assert!(status.success(), "{err}");
    assert!(listed.contains(&channel) && listed.contains(&ingest_url), "{listed}");
    assert!(listed.contains("seq 1") && listed.contains("invoice.paid"), "{listed}");

    let (status, rotated, err) = Cli::run(&home, &["channels", "rotate", "--relay", url]).await;
    assert!(status.success() && rotated.contains("new token"), "{err}");
    let (status, events, err) = Cli::run(&home, &["events", "--json", "--relay", url]).await;
    assert!(
        status.success() && events.lines().count() == 1,
        "the saved token is the new one: {err}"
    );

    let (status, made, err) = Cli::run(&home, &["channels", "new", "--relay", url]).await;
    assert!(status.success() && made.contains("new channel ch_"), "{err}");
    assert!(!made.contains(&format!("new channel {channel} ")), "{made}");

    let (status, deleted, err) = Cli::run(&home, &["channels", "delete", "--relay", url]).await;
    assert!(status.success() && deleted.contains("answers 410"), "{err}");
    let (_, listed, _) = Cli::run(&home, &["channels"]).await;
    assert!(!listed.contains(url), "forgotten: {listed}");
    // The first channel, replaced by `new`, is still on the relay and still takes webhooks.
    Http::default().ingest("POST", &ingest_url, &[], "{}").await;
    relay.stop().await;
}
