//! `hookrelay replay`: byte-exact re-sends recorded in history, `--last`, `--failed`,
//! `--edit` with a scripted editor, and `--resign` checked by independent implementations
//! of each signature scheme written here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use serde_json::Value;
use sha2::Sha256;

use crate::app::Recorded;
use crate::history::{Setup, comparable};

fn event_ids(records: &[Recorded]) -> Vec<String> {
    records.iter().map(|r| r.header("hookrelay-event-id").expect("event id header")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_resends_byte_exact_and_history_records_the_replay() {
    let setup = Setup::start().await;
    let headers: &[(&str, &[u8])] = &[
        ("content-type", b"application/octet-stream"),
        ("x-dup", b"1"),
        ("stripe-signature", b"t=1,v1=abc"),
        ("x-dup", b"2"),
    ];
    let body: Vec<u8> = (0..=255u8).rev().collect();
    let id = setup.ingest("POST", "/pay?a=1&a=2", headers, body.clone()).await;
    setup.listen_until(1).await;
    let target = setup.app.url("/webhooks");

    let out = setup.run(&["replay", &id[..12], "-f", &target, "--json"]).await;
    let stdout = out.ok();
    let record: Value = serde_json::from_str(stdout.trim()).expect("one delivery record");
    assert_eq!(record["type"], "delivery");
    assert_eq!(record["id"], id.as_str());
    assert_eq!(record["status"], 200);
    assert_eq!(record["replay"], true);

    let records = setup.app.wait_for(2).await;
    assert_eq!(comparable(&records[1]), comparable(&records[0]), "same request as listen sent");
    assert_eq!(records[1].body, body[..]);
    assert_eq!(records[1].header("hookrelay-event-id").as_deref(), Some(id.as_str()));

    let detail: Value =
        serde_json::from_str(&setup.run(&["show", &id, "--json"]).await.ok()).expect("json");
    let deliveries = detail["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 2, "{detail}");
    assert_eq!(deliveries[1]["replay"], true);
    assert_eq!(deliveries[1]["status"], 200);
    let shown = setup.run(&["show", &id]).await.ok();
    assert!(shown.contains("deliveries (2)") && shown.contains("replay"), "{shown}");

    let human = setup.run(&["replay", &id, "-f", &target]).await.ok();
    assert!(human.contains("POST /pay?a=1&a=2  → 200") && human.contains("replay"), "{human}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_last_and_failed_pick_the_right_events() {
    let setup = Setup::start().await;
    let rejected_once: &[(&str, &[u8])] = &[("x-respond", b"404x1")];
    let unprocessable_once: &[(&str, &[u8])] = &[("x-respond", b"422x1")];
    let ok1 = setup.ingest("POST", "/1", &[], "{}").await;
    let bad2 = setup.ingest("POST", "/2", rejected_once, "{}").await;
    let ok3 = setup.ingest("POST", "/3", &[], "{}").await;
    let bad4 = setup.ingest("POST", "/4", unprocessable_once, "{}").await;
    setup.listen_until(4).await;
    let pending5 = setup.ingest("POST", "/5", &[], "{}").await;
    let target = setup.app.url("/");

    let failed = setup.run(&["replay", "--failed", "-f", &target]).await;
    failed.ok();
    let records = setup.app.wait_for(6).await;
    assert_eq!(event_ids(&records[4..]), [bad2.clone(), bad4.clone()], "only the non-2xx ones");
    let states = setup.json_lines(&["events", "--json"]).await;
    let state: Vec<&str> = states.iter().map(|s| s["state"].as_str().expect("state")).collect();
    assert_eq!(state, ["delivered", "delivered", "delivered", "delivered", "pending"]);

    let again = setup.run(&["replay", "--failed", "-f", &target]).await;
    assert!(again.ok().is_empty());
    assert!(again.stderr.contains("nothing to replay: no failed events"), "{}", again.stderr);

    setup.run(&["replay", "--last", "2", "-f", &target]).await.ok();
    let records = setup.app.wait_for(8).await;
    assert_eq!(event_ids(&records[6..]), [bad4.clone(), pending5.clone()]);

    setup.run(&["replay", &ok3, &ok1, "-f", &target]).await.ok();
    let records = setup.app.wait_for(10).await;
    assert_eq!(event_ids(&records[8..]), [ok3, ok1.clone()], "ids replay in the order given");

    // Without -f, a replay goes where `listen` last forwarded the channel.
    setup.run(&["replay", &ok1]).await.ok();
    let records = setup.app.wait_for(11).await;
    assert_eq!(event_ids(&records[10..]), [ok1]);
    assert_eq!(records[10].path_and_query, "/webhooks/1", "listen's target, path appended");

    let usage = setup.run(&["replay", "-f", &target]).await;
    assert_eq!(usage.status.code(), Some(2), "an id, --last or --failed is required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_exits_one_when_the_app_rejects_the_replay() {
    let setup = Setup::start().await;
    let always_404: &[(&str, &[u8])] = &[("x-respond", b"404")];
    let id = setup.ingest("POST", "/x", always_404, "{}").await;
    let out = setup.run(&["replay", &id, "-f", &setup.app.url("/")]).await;
    assert!(out.text().contains("→ 404"), "{}", out.text());
    assert!(out.failed().contains("1 of 1 replayed events were not delivered"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_edit_sends_what_the_editor_left() {
    let setup = Setup::start().await;
    let headers: &[(&str, &[u8])] = &[("content-type", b"application/json"), ("x-keep", b"1")];
    let id = setup.ingest("POST", "/e", headers, r#"{"amount":100}"#).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("editor.sh");
    std::fs::write(&script, "#!/bin/sh\nsed -i -e 's/100/999/' -e '1i x-edited: yes' \"$1\"\n")
        .expect("script");
    let editor = format!("sh {}", script.display());
    let target = setup.app.url("/");

    setup.run_with(&["replay", &id, "-f", &target, "--edit"], &[("EDITOR", &editor)]).await.ok();
    let records = setup.app.wait_for(1).await;
    assert_eq!(&records[0].body[..], br#"{"amount":999}"#);
    assert_eq!(records[0].header("x-edited").as_deref(), Some("yes"));
    assert_eq!(records[0].header("x-keep").as_deref(), Some("1"));
    assert_eq!(records[0].header("content-length").as_deref(), Some("14"));

    // An editor that leaves the file alone (`true`) keeps the request exactly as stored.
    setup.run_with(&["replay", &id, "-f", &target, "--edit"], &[("EDITOR", "true")]).await.ok();
    let records = setup.app.wait_for(2).await;
    assert_eq!(&records[1].body[..], br#"{"amount":100}"#);

    let failed =
        setup.run_with(&["replay", &id, "-f", &target, "--edit"], &[("EDITOR", "false")]).await;
    assert!(failed.failed().contains("nothing was sent"), "{}", failed.stderr);
    let emptied = setup
        .run_with(&["replay", &id, "-f", &target, "--edit"], &[("EDITOR", "truncate -s 0")])
        .await;
    assert!(emptied.failed().contains("empty"), "{}", emptied.stderr);
    assert_eq!(setup.app.records().len(), 2, "failed edits send nothing");
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn fresh(timestamp: &str) {
    let ts: i64 = timestamp.parse().expect("unix seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    assert!((now - ts).abs() < 120, "timestamp {ts} is not fresh (now {now})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_resign_signatures_verify_with_independent_implementations() {
    let setup = Setup::start().await;
    let body: Vec<u8> = b"{\"type\":\"invoice.paid\"}\n\xff\x00".to_vec();
    let old: &[(&str, &[u8])] = &[
        ("stripe-signature", b"t=1,v1=00"),
        ("x-hub-signature-256", b"sha256=00"),
        ("webhook-id", b"msg_original"),
        ("webhook-timestamp", b"1"),
        ("webhook-signature", b"v1,AAAA"),
    ];
    let id = setup.ingest("POST", "/signed", old, body.clone()).await;
    let target = setup.app.url("/");
    let key = b"standard-key-bytes\x00\x01";
    let whsec = format!("whsec_{}", STANDARD.encode(key));
    for (scheme, secret) in
        [("stripe", "sk_stripe_secret"), ("github", "gh-secret"), ("standard", whsec.as_str())]
    {
        let args = ["replay", &id, "-f", &target, "--resign", scheme, "--secret", secret];
        setup.run(&args).await.ok();
    }
    let records = setup.app.wait_for(3).await;
    for record in &records {
        assert_eq!(record.body, body[..], "the exact body is sent and signed");
    }

    let stripe = records[0].header("stripe-signature").expect("stripe header");
    let (t, v1) = stripe.split_once(",v1=").expect("t=..,v1=..");
    let t = t.strip_prefix("t=").expect("t=");
    fresh(t);
    assert_eq!(v1, hex::encode(hmac(b"sk_stripe_secret", &[t.as_bytes(), b".", &body])));

    let github = records[1].header("x-hub-signature-256").expect("github header");
    assert_eq!(github, format!("sha256={}", hex::encode(hmac(b"gh-secret", &[&body]))));

    let standard = &records[2];
    let msg_id = standard.header("webhook-id").expect("webhook-id");
    assert_eq!(msg_id, "msg_original", "the webhook id is kept: it is what the app dedupes on");
    let ts = standard.header("webhook-timestamp").expect("webhook-timestamp");
    fresh(&ts);
    let signed = hmac(key, &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", &body]);
    assert_eq!(
        standard.header("webhook-signature"),
        Some(format!("v1,{}", STANDARD.encode(signed)))
    );
    let values = |name: &str| standard.headers.iter().filter(|(n, _)| n == name).count();
    assert_eq!(values("webhook-signature"), 1, "the stale signature is replaced");
}
