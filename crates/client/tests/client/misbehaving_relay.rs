//! `listen` against a relay that sends what a correct one never does: an event it cannot
//! decode, an event it cannot even identify, a message over the client's size limit. None
//! may crash the client or stall the stream.

use hookrelay_proto::Outcome;

use crate::app::LocalApp;
use crate::cli::{Cli, Home};
use crate::fake_relay::{FakeRelay, event_frame};

/// The client's limit on one websocket message (`tunnel::MAX_MESSAGE_BYTES`).
const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

/// `listen --json` toward `relay` for channel `ch`, forwarding to `app`.
pub(crate) async fn listen(home: &Home, relay: &FakeRelay, app: &LocalApp) -> Cli {
    let target = app.url("");
    let args = ["listen", "--json", "--relay", &relay.url, "--channel", "ch", "--token", "t"];
    let mut args = args.to_vec();
    args.extend(["-f", &target]);
    Cli::spawn_ready(home, &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_cannot_be_decoded_is_acked_as_failed_and_the_stream_goes_on() {
    let bad = event_frame(1, "evt_bad", 0).replace(r#""body":""#, r#""body":"!!not base64"#);
    let relay = FakeRelay::start("ch", vec![vec![bad, event_frame(2, "evt_good", 1)]]).await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let mut cli = listen(&home, &relay, &app).await;

    let deliveries = cli.deliveries(2).await;
    let failed = &deliveries[0];
    assert_eq!((failed["seq"].as_u64(), failed["id"].as_str()), (Some(1), Some("evt_bad")));
    assert_eq!(
        (failed["outcome"].as_str(), failed["method"].as_str()),
        (Some("failed"), Some("POST"))
    );
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("could not decode the event from the relay: "), "{failed}");
    assert_eq!(
        (deliveries[1]["seq"].as_u64(), deliveries[1]["outcome"].as_str()),
        (Some(2), Some("delivered"))
    );

    let acks = relay.wait_for_acks(2).await;
    let summary: Vec<_> = acks.iter().map(|(seq, id, r)| (*seq, id.as_str(), r.outcome)).collect();
    assert_eq!(summary, [(1, "evt_bad", Outcome::Failed), (2, "evt_good", Outcome::Delivered)]);
    assert_eq!(acks[0].2.error.as_deref(), Some(error), "the relay records why");
    let bodies: Vec<_> = app.records().iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies, [r#"{"n":1}"#], "only the good event reached the app");
    assert_eq!(relay.sessions().len(), 1, "no reconnect was needed");
    assert!(cli.interrupt().await.success());

    // The cursor moved past the undecodable event: a restart resumes after both.
    let cli = listen(&home, &relay, &app).await;
    let sessions = relay.wait_for_sessions(2).await;
    assert_eq!(sessions[1].query, "after=2&skip_finished=true");
    assert!(cli.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_without_seq_and_id_closes_the_session_and_the_client_reconnects() {
    let anonymous = r#"{"type":"event","method":"POST","body":"e30="}"#.to_owned();
    let scripts = vec![vec![anonymous], vec![event_frame(1, "evt_1", 0)]];
    let relay = FakeRelay::start("ch", scripts).await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let mut cli = listen(&home, &relay, &app).await;

    let delivered = cli.deliveries(1).await;
    assert_eq!(
        (delivered[0]["seq"].as_u64(), delivered[0]["outcome"].as_str()),
        (Some(1), Some("delivered"))
    );
    cli.wait_stderr("the relay sent an event without a usable seq and id", 1).await;
    cli.wait_stderr("reconnecting in", 1).await;
    let sessions = relay.wait_for_sessions(2).await;
    assert_eq!(sessions[0].close_code, Some(1007), "closed as invalid payload: {sessions:?}");
    assert_eq!(relay.wait_for_acks(1).await[0].0, 1);
    assert!(cli.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_is_reported_and_the_client_reconnects() {
    let oversized = format!(
        r#"{{"type":"event","id":"evt_big","seq":1,"body":"{}"}}"#,
        "A".repeat(MAX_MESSAGE_BYTES + 1024 * 1024)
    );
    let scripts = vec![vec![oversized], vec![event_frame(1, "evt_1", 0)]];
    let relay = FakeRelay::start("ch", scripts).await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let mut cli = listen(&home, &relay, &app).await;

    cli.wait_stderr(&format!("over this client's limit of {MAX_MESSAGE_BYTES}"), 1).await;
    cli.wait_stderr("reconnecting in", 1).await;
    relay.wait_for_sessions(2).await;
    let delivered = cli.deliveries(1).await;
    assert_eq!(
        (delivered[0]["id"].as_str(), delivered[0]["outcome"].as_str()),
        (Some("evt_1"), Some("delivered"))
    );
    assert_eq!(app.records().len(), 1);
    assert!(cli.interrupt().await.success());
}
