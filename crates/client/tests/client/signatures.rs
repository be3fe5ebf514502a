//! `listen --resign` and `listen --verify`, checked against an HMAC implementation written
//! here (not hookrelay-signature's): what the app receives verifies, and each failure
//! reason is reported on the delivery line and kept in the relay's history.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::{LocalApp, Recorded};
use crate::cli::{Cli, Home, Listening, listen_args};
use crate::raw::delivered_detail;
use crate::relay::{Http, TestRelay};

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn now() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    i64::try_from(secs).expect("fits")
}

/// Every value of a header the app received.
fn all(record: &Recorded, name: &str) -> Vec<String> {
    record
        .headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// Checks the one signature header of `scheme` the app got, independently. Returns the
/// signed timestamp when the scheme has one.
fn check(scheme: &str, secret: &str, record: &Recorded) -> Option<i64> {
    let body = &record.body[..];
    match scheme {
        "stripe" => {
            let [value] = &all(record, "stripe-signature")[..] else { panic!("one header") };
            let (t, v1) = value
                .split_once(",v1=")
                .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1)))
                .unwrap_or_else(|| panic!("stripe format: {value}"));
            let want = hmac(secret.as_bytes(), &[t.as_bytes(), b".", body]);
            assert_eq!(v1, hex::encode(want), "stripe signature");
            Some(t.parse().expect("unix time"))
        }
        "github" => {
            let [value] = &all(record, "x-hub-signature-256")[..] else { panic!("one header") };
            let want = hmac(secret.as_bytes(), &[body]);
            assert_eq!(value, &format!("sha256={}", hex::encode(want)), "github signature");
            None
        }
        "standard" => {
            let key = STANDARD.decode(secret.trim_start_matches("whsec_")).expect("base64 key");
            let [id] = &all(record, "webhook-id")[..] else { panic!("one webhook-id") };
            let [ts] = &all(record, "webhook-timestamp")[..] else { panic!("one timestamp") };
            let [sig] = &all(record, "webhook-signature")[..] else { panic!("one signature") };
            let want = hmac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
            assert_eq!(sig, &format!("v1,{}", STANDARD.encode(want)), "standard signature");
            assert_eq!(id, "msg_kept", "the provider's webhook-id is part of what is signed");
            Some(ts.parse().expect("unix time"))
        }
        other => panic!("unknown scheme {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resign_signs_each_request_afresh_so_an_independent_check_passes() {
    let relay = TestRelay::start().await;
    let app = LocalApp::start().await;
    let http = Http::default();
    let home = Home::new();
    let target = app.url("/hooks");
    let key = format!("whsec_{}", STANDARD.encode(b"standard key bytes"));
    let schemes =
        [("stripe", "whsec_stripe_secret"), ("github", "gh-secret"), ("standard", key.as_str())];
    // Stale signatures from an old event: the resigned request must carry only fresh ones.
    let stale: &[(&str, &[u8])] = &[
        ("content-type", b"application/json"),
        ("stripe-signature", b"t=1000,v1=deadbeef"),
        ("x-hub-signature-256", b"sha256=deadbeef"),
        ("webhook-id", b"msg_kept"),
        ("webhook-timestamp", b"1000"),
        ("webhook-signature", b"v1,AAAA"),
    ];
    let body: &[u8] = b"{\"type\":\"invoice.paid\",\n \"amount\": 1}\r\n\x00\xff";
    for (i, (scheme, secret)) in schemes.into_iter().enumerate() {
        let channel = http.create_channel(&relay.url).await;
        let mut args = listen_args(&relay.url, &channel, &target);
        args.extend(["--resign", scheme, "--secret", secret]);
        let mut cli = Cli::spawn_ready(&home, &args).await;
        http.ingest("POST", &format!("{}/x", channel.ingest_url), stale, body.to_vec()).await;
        assert_eq!(cli.deliveries(1).await[0]["status"], 200);
        let record = &app.wait_for(i + 1).await[i];
        assert!(record.body == body, "{scheme}: the body changed");
        if let Some(signed_at) = check(scheme, secret, record) {
            assert!((signed_at - now()).abs() < 60, "{scheme}: the timestamp is not fresh");
        }
        assert!(cli.interrupt().await.success());
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_each_failure_reason_on_the_line_and_in_history_and_never_blocks() {
    let secret = "whsec_verify_me";
    let verify = format!("stripe:{secret}");
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/", &["--verify", &verify]).await;

    let body = br#"{"type":"charge.succeeded"}"#;
    let sign = |key: &str, t: i64, signed: &[u8]| {
        let mac = hmac(key.as_bytes(), &[t.to_string().as_bytes(), b".", signed]);
        format!("t={t},v1={}", hex::encode(mac))
    };
    let with_newline = [&body[..], b"\n"].concat();
    // (header value or none, body sent, expected reason prefix or none for valid)
    let cases: Vec<(Option<String>, Vec<u8>, Option<&str>)> = vec![
        (Some(sign(secret, now(), body)), body.to_vec(), None),
        (None, body.to_vec(), Some("header stripe-signature missing")),
        (Some(sign("whsec_other", now(), body)), body.to_vec(), Some("signature mismatch")),
        (Some(sign(secret, now() - 3600, body)), body.to_vec(), Some("timestamp too old")),
        (Some(sign(secret, now() + 3600, body)), body.to_vec(), Some("timestamp too new")),
        (Some(sign(secret, now(), body)), with_newline, Some("body not as signed")),
    ];
    let mut ids = Vec::new();
    for (header, sent, _) in &cases {
        let headers: Vec<(&str, &[u8])> =
            header.iter().map(|value| ("stripe-signature", value.as_bytes())).collect();
        ids.push(http.ingest("POST", &channel.ingest_url, &headers, sent.clone()).await.0.id);
    }
    let deliveries = cli.deliveries(cases.len()).await;
    assert_eq!(app.wait_for(cases.len()).await.len(), cases.len(), "a bad signature blocked");
    for (i, ((_, _, reason), delivery)) in cases.iter().zip(&deliveries).enumerate() {
        assert_eq!(delivery["status"], 200, "case {i}: {delivery}");
        let line = &delivery["signature"];
        let history = delivered_detail(&relay.url, &channel.channel, &channel.token, &ids[i]).await;
        let stored = history.deliveries.last().and_then(|d| d.signature.clone());
        let stored = stored.unwrap_or_else(|| panic!("case {i}: no signature in history"));
        assert_eq!(line["scheme"], "stripe", "case {i}");
        assert_eq!(stored.scheme, "stripe", "case {i}");
        match reason {
            None => {
                assert_eq!(line["valid"], true, "case {i}: {line}");
                assert!(line.get("reason").is_none(), "case {i}: {line}");
                assert!(stored.valid && stored.reason.is_none(), "case {i}: {stored:?}");
            }
            Some(reason) => {
                assert_eq!(line["valid"], false, "case {i}: {line}");
                let text = line["reason"].as_str().unwrap_or_default();
                assert!(text.starts_with(reason), "case {i}: {text:?} is not {reason:?}");
                assert!(!stored.valid, "case {i}");
                assert_eq!(stored.reason.as_deref(), Some(text), "case {i}");
            }
        }
    }
    let last = deliveries[5]["signature"]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(last.contains("trailing newline was added"), "{last}");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}
