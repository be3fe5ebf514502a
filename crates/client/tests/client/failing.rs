//! When the local app fails (DESIGN §2.5): 5xx and timeouts are retried `--max-attempts`
//! times, then the event is failed and the next one goes; every attempt is in the history
//! with its target; `replay` tries once unless told otherwise; Ctrl-C ends `listen` with a
//! summary.

use serde_json::Value;

use crate::app::LocalApp;
use crate::cli::{Cli, Home, listen_to};
use crate::history::Setup;
use crate::relay::{TestRelay, number};

fn show_json(text: &str) -> Value {
    serde_json::from_str(text).expect("show --json prints one object")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_keeps_failing_is_given_up_after_max_attempts_and_the_next_event_goes() {
    let setup = Setup::start().await;
    let broken = setup.ingest("POST", "/a", &[("x-respond", b"500x3")], r#"{"n":0}"#).await;
    setup.ingest("POST", "/b", &[], r#"{"n":1}"#).await;
    let deliveries = setup.listen_with(2, &["--max-attempts", "3", "--show-response"]).await;

    let failed = &deliveries[0];
    assert_eq!((failed["seq"].as_u64(), failed["outcome"].as_str()), (Some(1), Some("failed")));
    assert_eq!((failed["status"].as_u64(), failed["attempt"].as_u64()), (Some(500), Some(3)));
    assert_eq!(failed["max_attempts"], 3);
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("gave up after 3 attempts"), "{failed}");
    assert_eq!(failed["response"], "answered 500 Internal Server Error", "shown on a 5xx too");
    assert_eq!(
        (deliveries[1]["seq"].as_u64(), deliveries[1]["attempt"].as_u64()),
        (Some(2), Some(1))
    );
    let numbers: Vec<usize> = setup.app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(numbers, [0, 0, 0, 1], "three attempts, then the next event");

    // Every attempt is in the history, with where it went.
    let detail = show_json(&setup.run(&["show", &broken, "--json"]).await.ok());
    assert_eq!(detail["state"], "failed");
    let attempts = detail["deliveries"].as_array().expect("deliveries");
    let summary: Vec<(u64, bool)> = attempts
        .iter()
        .map(|a| (a["attempt"].as_u64().unwrap_or(0), a["will_retry"].as_bool().unwrap_or(false)))
        .collect();
    assert_eq!(summary, [(1, true), (2, true), (3, false)], "{detail}");
    let target = setup.app.url("/webhooks/a");
    assert!(attempts.iter().all(|a| a["target"] == target.as_str()), "{detail}");
    assert!(attempts.iter().all(|a| a["status"] == 500), "{detail}");
    let shown = setup.run(&["show", &broken]).await.ok();
    assert!(
        shown.contains("retried  attempt 1/3") && shown.contains(&format!("to {target}")),
        "{shown}"
    );
    assert!(shown.contains("content-type: text/plain"), "the response head: {shown}");

    // Once the handler is fixed, replay --failed sends exactly that event again.
    let fixed = setup.app.url("/webhooks");
    let replayed = setup.json_lines(&["replay", "--failed", "-f", &fixed, "--json"]).await;
    assert_eq!(replayed.len(), 1);
    assert_eq!(
        (replayed[0]["id"].as_str(), replayed[0]["status"].as_u64()),
        (Some(broken.as_str()), Some(200))
    );
    let detail = show_json(&setup.run(&["show", &broken, "--json"]).await.ok());
    assert_eq!(detail["state"], "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_against_a_failing_handler_tries_once_exits_1_and_records_the_attempt() {
    let setup = Setup::start().await;
    let id = setup.ingest("POST", "/x", &[("x-respond", b"500")], r#"{"n":0}"#).await;
    let target = setup.app.url("/webhooks");
    let out = setup.run(&["replay", &id, "-f", &target]).await;
    assert!(out.failed().contains("1 of 1 replayed events were not delivered"), "{}", out.stderr);
    assert_eq!(setup.app.records().len(), 1, "one attempt by default");
    let detail = show_json(&setup.run(&["show", &id, "--json"]).await.ok());
    assert_eq!(detail["state"], "failed");
    let attempts = detail["deliveries"].as_array().expect("deliveries");
    assert_eq!(attempts.len(), 1, "{detail}");
    assert_eq!(
        (attempts[0]["replay"].as_bool(), attempts[0]["status"].as_u64()),
        (Some(true), Some(500))
    );
    assert_eq!(attempts[0]["target"], setup.app.url("/webhooks/x").as_str());

    // With --max-attempts, the retried attempts are history too.
    let out = setup.run(&["replay", &id, "-f", &target, "--max-attempts", "2"]).await;
    out.failed();
    assert_eq!(setup.app.records().len(), 3);
    let detail = show_json(&setup.run(&["show", &id, "--json"]).await.ok());
    let retried: Vec<bool> = detail["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|a| a["will_retry"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(retried, [false, true, false], "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_listen_with_a_summary_of_what_happened() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut args = listen_to(&relay.url, &channel);
    args.retain(|arg| *arg != "--json");
    args.extend(["-f", &target, "--max-attempts", "1"]);
    let mut cli = Cli::spawn(&home, &args);
    for (n, respond) in [(0, "200"), (1, "500"), (2, "404"), (3, "200")] {
        let headers: &[(&str, &[u8])] = &[("x-respond", respond.as_bytes())];
        http.ingest("POST", &channel.ingest_url, headers, format!("{{\"n\":{n}}}")).await;
    }
    // Plain lines (stdout is a pipe): the banner, then one line per event.
    let mut seen = Vec::new();
    while seen.iter().filter(|line: &&String| line.contains("  seq ")).count() < 4 {
        seen.push(cli.next_line().await);
    }
    let (status, rest) = cli.interrupt_output().await;
    assert!(status.success(), "Ctrl-C is a normal end");
    assert!(
        rest.contains("stopped: 2 delivered, 1 failed, 1 rejected, 0 skipped; the next run resumes after seq 4"),
        "{seen:?}\n{rest}"
    );
    assert!(!rest.contains('\u{1b}'), "no spinner or colors left on a pipe: {rest:?}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_replay_exits_130_and_keeps_the_attempts_made() {
    let setup = Setup::start().await;
    let id = setup.ingest("POST", "/x", &[("x-respond", b"500")], r#"{"n":0}"#).await;
    let target = setup.app.url("/webhooks");
    let mut replay = setup
        .command(&["replay", &id, "-f", &target, "--max-attempts", "0"], &[])
        .spawn()
        .expect("replay starts");
    // Once the third request arrived, the first two attempts have their results.
    setup.app.wait_for(3).await;
    crate::cli::interrupt(&replay);
    let status =
        tokio::time::timeout(crate::WAIT, replay.wait()).await.expect("exits").expect("waited");
    assert_eq!(status.code(), Some(130), "interrupted before its work was done");
    let detail = show_json(&setup.run(&["show", &id, "--json"]).await.ok());
    let attempts = detail["deliveries"].as_array().expect("deliveries");
    assert!(attempts.len() >= 2, "every attempt made is on record: {detail}");
    assert!(attempts.iter().all(|a| a["replay"] == true && a["will_retry"] == true), "{detail}");
    assert_eq!(detail["state"], "pending", "no outcome: the replay was stopped");
}
