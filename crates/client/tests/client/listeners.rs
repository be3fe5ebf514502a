//! Several `listen`s on one channel: each is warned about the others (on stderr with
//! `--json`, stdout keeps only records) and every event is delivered by each. Two `listen`s
//! on the embedded relay share it, and when the one that serves it goes (Ctrl-C or
//! `kill -9`), the other serves the port itself: the ingest URL keeps working.

use crate::app::{LocalApp, free_port};
use crate::cli::{Cli, Home, listen_args};
use crate::relay::{Http, RelayProcess, TestRelay};

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
    // `ready` comes before the stream connects, so either may reach the relay first: the
    // one that did is told the other joined, the other that one was already there.
    first.wait_stderr(BOTH, 1).await;
    second.wait_stderr(BOTH, 1).await;
    let (one, two) = (first.stderr(), second.stderr());
    assert!(
        (one.contains(JOINED) && two.contains(ALREADY))
            || (one.contains(ALREADY) && two.contains(JOINED)),
        "first:\n{one}\nsecond:\n{two}"
    );

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

/// Two `listen`s on the embedded relay of one home; the first one serves it and goes the
/// way `end` says; the second keeps delivering what is posted to the same ingest URL.
async fn the_second_embedded_listen_takes_over_when_the_first(end: &str) {
    let (app1, app2, http, home) =
        (LocalApp::start().await, LocalApp::start().await, Http::default(), Home::new());
    let port = free_port().to_string();
    let (target1, target2) = (app1.url("/"), app2.url("/"));
    let mut first = Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", &target1]);
    let ingest_url = first.ready().await["ingest_url"].as_str().expect("url").to_owned();
    let mut second = Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", &target2]);
    assert_eq!(second.ready().await["ingest_url"], ingest_url.as_str(), "same channel");
    second.wait_stderr(BOTH, 1).await;
    assert!(second.stderr().contains(&format!("already running on port {port}")));

    http.ingest("POST", &ingest_url, &[], r#"{"n":1}"#).await;
    assert_eq!(first.deliveries(1).await[0]["seq"], 1);
    assert_eq!(second.deliveries(1).await[0]["seq"], 1);
    match end {
        "interrupted" => assert!(first.interrupt().await.success()),
        _ => first.kill().await,
    }
    second.wait_stderr("this listen serves it now, with the same ingest URL", 1).await;

    http.ingest("POST", &ingest_url, &[], r#"{"n":2}"#).await;
    let delivery = &second.deliveries(1).await[0];
    assert_eq!((&delivery["seq"], &delivery["status"]), (&2.into(), &200.into()));
    assert_eq!(app2.wait_for(2).await.len(), 2);
    assert!(second.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_embedded_listen_serves_the_port_once_the_first_is_interrupted() {
    the_second_embedded_listen_takes_over_when_the_first("interrupted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_embedded_listen_serves_the_port_once_the_first_is_killed() {
    the_second_embedded_listen_takes_over_when_the_first("killed").await;
}

/// A `hookrelayd` (another data directory) on the embedded port is used, but never taken
/// over: when it stops, `listen` waits for it and resumes when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hookrelayd_on_the_embedded_port_is_waited_for_not_taken_over() {
    let (app, http, home, relay_home) =
        (LocalApp::start().await, Http::default(), Home::new(), Home::new());
    let relay = RelayProcess::start(0, &relay_home.data_dir()).await;
    let port = relay.url.rsplit(':').next().expect("port").to_owned();
    let target = app.url("/");
    let mut cli = Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", &target]);
    let ingest_url = cli.ready().await["ingest_url"].as_str().expect("url").to_owned();
    cli.wait_stderr("already running on port", 1).await;
    http.ingest("POST", &ingest_url, &[], r#"{"n":1}"#).await;
    assert_eq!(cli.deliveries(1).await[0]["seq"], 1);

    let (port, data_dir) = relay.kill().await;
    cli.wait_stderr("waiting for that relay to come back", 1).await;
    let relay = RelayProcess::start(port, &data_dir).await;
    http.ingest("POST", &ingest_url, &[], r#"{"n":2}"#).await;
    assert_eq!(cli.deliveries(1).await[0]["seq"], 2);
    assert!(cli.interrupt().await.success());
    relay.kill().await;
}
