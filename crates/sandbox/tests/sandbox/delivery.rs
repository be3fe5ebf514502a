//! Delivery attempts: retries and their log, the observer feed, timeouts, unreachable and
//! TLS endpoints, signing headers, and removal or shutdown with retries pending.

use std::sync::atomic::Ordering;
use std::time::Duration;

use hookrelay_signature::{Scheme, Secret, Verdict};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::*;

#[tokio::test]
async fn a_failing_endpoint_shows_every_retry_in_the_log() {
    let mut app = Recorder::start().await;
    app.status.store(500, Ordering::SeqCst);
    let sb = Sandbox::start(|_| {}).await;
    sb.set_url(&app.url).await;

    let (status, outcome) = sb.test_event("connectivity.restored").await;
    assert_eq!(status, 200, "the API call succeeded even though the delivery did not");
    assert_eq!(outcome["delivered"], false);
    assert_eq!(outcome["status"], 500);
    assert_eq!(outcome["will_retry"], true);
    assert!(outcome["error"].as_str().expect("error").contains("500"));

    let first = app.next().await.body;
    for _ in 0..3 {
        assert_eq!(app.next().await.body, first, "retries resend the same bytes");
    }
    let log = sb.wait_for_deliveries(4).await;
    assert_eq!(log.len(), 4);
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry["attempt"], i + 1);
        assert_eq!(entry["status"], 500);
        assert_eq!(entry["delivered"], false);
        assert_eq!(entry["event_type"], "connectivity.restored");
        assert_eq!(entry["delivery_id"], outcome["delivery_id"]);
        assert_eq!(entry["will_retry"], i < 3);
        assert!(entry["time"].is_string() && entry["latency_ms"].is_u64());
    }
    app.quiet_for(Duration::from_millis(200)).await;
    sb.stop().await;
}

#[tokio::test]
async fn a_retry_that_succeeds_ends_the_retries() {
    let mut app = Recorder::start().await;
    app.status.store(503, Ordering::SeqCst);
    let sb = Sandbox::start(|_| {}).await;
    sb.set_url(&app.url).await;
    let (_, outcome) = sb.test_event("test").await;
    assert_eq!(outcome["delivered"], false);
    app.next().await;
    app.status.store(204, Ordering::SeqCst);
    app.next().await;
    let log = sb.wait_for_deliveries(2).await;
    assert_eq!(
        (&log[1]["status"], &log[1]["delivered"], &log[1]["will_retry"]),
        (&json!(204), &json!(true), &json!(false))
    );
    app.quiet_for(Duration::from_millis(200)).await;
    assert_eq!(sb.deliveries().await.len(), 2);
    sb.stop().await;
}

#[tokio::test]
async fn an_observer_sees_every_attempt_as_it_is_logged() {
    let mut app = Recorder::start().await;
    app.status.store(500, Ordering::SeqCst);
    let (tx, mut rx) = mpsc::channel(16);
    let sb = Sandbox::start(|c| {
        c.retry_schedule = vec![Duration::from_millis(20)];
        c.observer = Some(tx);
    })
    .await;
    sb.set_url(&app.url).await;
    let (_, outcome) = sb.test_event("test").await;
    for attempt in 1..=2 {
        let seen = within(rx.recv()).await.expect("observer open");
        assert_eq!((seen.attempt, seen.status), (attempt, Some(500)));
        assert_eq!(seen.delivery_id, outcome["delivery_id"]);
        app.next().await;
    }
    sb.stop().await;
    assert!(within(rx.recv()).await.is_none(), "the feed closes when the emulator stops");
}

#[tokio::test]
async fn a_slow_endpoint_times_out_as_a_failed_delivery() {
    let mut app = Recorder::start().await;
    app.delay_ms.store(2_000, Ordering::SeqCst);
    let sb = Sandbox::start(|c| {
        c.delivery_timeout = Duration::from_millis(100);
        c.retry_schedule = Vec::new();
    })
    .await;
    sb.set_url(&app.url).await;
    let (status, outcome) = sb.test_event("test").await;
    assert_eq!(status, 200);
    app.next().await;
    assert_eq!(outcome["delivered"], false);
    assert_eq!(outcome["status"], Value::Null);
    assert_eq!(outcome["error"], "timed out after 100ms");
    assert_eq!(outcome["will_retry"], false, "an empty schedule means no retries");
    sb.stop().await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_failed_delivery_with_the_reason() {
    // Bind then drop a listener to get a local port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let sb = Sandbox::start(|c| c.retry_schedule = Vec::new()).await;
    sb.set_url(&format!("http://127.0.0.1:{port}/hook")).await;
    let (status, outcome) = sb.test_event("test").await;
    assert_eq!(status, 200);
    assert_eq!(outcome["delivered"], false);
    assert_eq!(outcome["status"], Value::Null);
    assert!(
        outcome["error"].as_str().expect("reason").to_lowercase().contains("connect"),
        "{outcome}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn removing_the_url_stops_deliveries_and_pending_retries() {
    let mut app = Recorder::start().await;
    app.status.store(500, Ordering::SeqCst);
    let sb = Sandbox::start(|c| c.retry_schedule = vec![Duration::from_secs(1); 2]).await;
    sb.set_url(&app.url).await;
    let (_, outcome) = sb.test_event("test").await;
    assert_eq!(outcome["will_retry"], true);
    app.next().await;
    assert_eq!(sb.call("DELETE", "/v1/webhook_url", None).await.0, 204);

    // Past the first retry time: with the URL still set, a retry would have arrived.
    app.quiet_for(Duration::from_millis(1_500)).await;
    assert_eq!(sb.deliveries().await.len(), 1, "no retry after the URL was removed");
    assert_error(&sb.test_event("test").await, 409, "No webhook URL is set");
    sb.stop().await;
}

#[tokio::test]
async fn a_signing_secret_adds_verifiable_standard_webhooks_headers() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let mut app = Recorder::start().await;
    let secret = Secret::parse(Scheme::Standard, SECRET).expect("valid secret");
    let sb = Sandbox::start(|c| c.signing_secret = Some(secret.clone())).await;
    sb.set_url(&app.url).await;
    let (_, outcome) = sb.test_event("connectivity.interrupted").await;
    let got = app.next().await;
    let header = |name: &str| got.headers[name].to_str().expect("ascii").to_owned();
    let id = header("webhook-id");
    let ts: i64 = header("webhook-timestamp").parse().expect("unix seconds");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - ts).abs() < 60);
    assert_eq!(id, outcome["delivery_id"].as_str().expect("id"));
    let sent: Vec<(String, String)> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|name| (name.to_string(), header(name)))
        .collect();
    assert_eq!(
        hookrelay_signature::verify(Scheme::Standard, &secret, &sent, &got.body, ts),
        Verdict::Valid
    );
    let logged: Vec<String> = outcome["request_headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| h[0].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(
        logged,
        ["content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature"]
    );
    sb.stop().await;
}

#[tokio::test]
async fn shutdown_ends_serve_while_retries_are_pending() {
    let mut app = Recorder::start().await;
    app.status.store(500, Ordering::SeqCst);
    let sb = Sandbox::start(|c| c.retry_schedule = vec![Duration::from_secs(3600)]).await;
    sb.set_url(&app.url).await;
    let (_, outcome) = sb.test_event("test").await;
    assert_eq!(outcome["will_retry"], true);
    app.next().await;
    sb.stop().await;
}

#[tokio::test]
async fn https_urls_are_delivered_over_tls() {
    // The recorder speaks plain HTTP, so the TLS handshake fails: the attempt is made over
    // TLS and its failure is reported, not refused up front.
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|c| c.retry_schedule = Vec::new()).await;
    let url = app.url.replace("http://", "https://");
    sb.set_url(&url).await;
    let (status, outcome) = sb.test_event("test").await;
    assert_eq!(status, 200);
    assert_eq!(outcome["delivered"], false);
    assert_eq!(outcome["status"], Value::Null);
    assert!(outcome["error"].is_string(), "{outcome}");
    app.quiet_for(Duration::from_millis(100)).await;
    sb.stop().await;
}
