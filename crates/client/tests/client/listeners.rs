//! Several `listen`s on one channel: each is warned about the others (on stderr with
//! `--json`, stdout keeps only records) and every event is delivered by each.

use crate::app::LocalApp;
use crate::cli::{Cli, Home, listen_args};
use crate::relay::TestRelay;

const ALREADY: &str = "warning: another listener is already connected to this channel, from \
                       127.0.0.1:";
const JOINED: &str = "warning: another listener connected to this channel, from 127.0.0.1:";
const BOTH: &str = "every event will be delivered by both";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_listen_on_a_channel_is_warned_and_the_first_is_told() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let (app, home1, home2) = (LocalApp::start().await, Home::new(), Home::new());
    let target = app.url("/");
    let mut first = Cli::spawn_ready(&home1, &listen_args(&relay.url, &channel, &target)).await;
    let mut second = Cli::spawn_ready(&home2, &listen_args(&relay.url, &channel, &target)).await;
    second.wait_stderr(ALREADY, 1).await;
    assert!(second.stderr().contains(BOTH), "{}", second.stderr());
    first.wait_stderr(JOINED, 1).await;
    assert!(first.stderr().contains(BOTH), "{}", first.stderr());

    // Stdout still carries only records: the next one of each is its delivery.
    http.ingest("POST", &channel.ingest_url, &[], r#"{"n":0}"#).await;
    assert_eq!(first.deliveries(1).await[0]["seq"], 1);
    assert_eq!(second.deliveries(1).await[0]["seq"], 1);
    assert_eq!(app.wait_for(2).await.len(), 2, "each listen delivered the event");

    assert!(second.interrupt().await.success());
    first.wait_stderr("disconnected: events are delivered by this one only", 1).await;
    assert!(first.interrupt().await.success());
    relay.stop().await;
}
