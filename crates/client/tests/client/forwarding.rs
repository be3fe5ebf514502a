//! What reaches the local app, and what the relay and the log say about it.

use bytes::Bytes;
use hookrelay_proto::EventSummary;

use crate::app::{LocalApp, free_port};
use crate::cli::{Cli, Home, Listening};
use crate::relay::{Http, number};

/// Headers as a test sends them.
type Headers<'a> = &'a [(&'a str, &'a [u8])];

const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "proxy-authorization", "x-hop", "te"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_is_byte_exact_for_bodies_headers_methods_and_paths() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/webhooks", &[]).await;

    let binary: Vec<u8> = (0..=255u8).rev().chain([0, 0, 13, 10]).collect();
    let big: Vec<u8> =
        (0..5 * 1024 * 1024).map(|i: usize| (i.wrapping_mul(31) >> 3) as u8).collect();
    let signed: Headers = &[
        ("content-type", b"application/json"),
        ("x-dup", b"1"),
        ("stripe-signature", b"t=1,v1=abc"),
        ("x-dup", b"2"),
        ("connection", b"keep-alive, x-hop"),
        ("keep-alive", b"timeout=5"),
        ("x-hop", b"hop-only"),
        ("proxy-authorization", b"Basic abc"),
        ("user-agent", b"Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
    ];
    let cases: Vec<(&str, &str, Headers, Vec<u8>)> = vec![
        ("POST", "/stripe?b=2&a=1&a=3", signed, br#"{"id":"evt_1","amount":100}"#.to_vec()),
        ("PUT", "/put/path", &[("content-type", b"application/octet-stream")], binary),
        ("PATCH", "", &[("x-empty", b"")], Vec::new()),
        ("DELETE", "/items/7?force=true", &[], Vec::new()),
        ("POST", "/big", &[("content-type", b"application/octet-stream")], big),
    ];
    let mut acks = Vec::new();
    for (method, suffix, headers, body) in &cases {
        let url = format!("{}{suffix}", channel.ingest_url);
        acks.push(http.ingest(method, &url, headers, body.clone()).await.0);
    }
    let deliveries = cli.deliveries(cases.len()).await;
    let records = app.wait_for(cases.len()).await;
    assert_eq!(records.len(), cases.len());

    for (i, ((method, suffix, headers, body), record)) in cases.iter().zip(&records).enumerate() {
        assert_eq!(record.method, *method, "case {i}");
        assert_eq!(record.path_and_query, format!("/webhooks{suffix}"), "case {i}");
        assert!(
            record.body == body[..],
            "case {i}: body differs ({} vs {} bytes)",
            record.body.len(),
            body.len()
        );
        assert_eq!(record.header("hookrelay-event-id").as_deref(), Some(acks[i].id.as_str()));
        assert_eq!(record.header("host"), Some(format!("127.0.0.1:{}", app.port)), "case {i}");
        if !body.is_empty() {
            assert_eq!(record.header("content-length"), Some(body.len().to_string()), "case {i}");
        }
        // Order and duplicates as an HTTP/1 header map carries them, minus hop-by-hop ones.
        let mut sent = http::HeaderMap::new();
        for (name, value) in *headers {
            sent.append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_bytes(value).expect("value"),
            );
        }
        let expected: Vec<(String, Vec<u8>)> = sent
            .iter()
            .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        let received: Vec<(String, Vec<u8>)> = record
            .headers
            .iter()
            .filter(|(name, _)| {
                !["host", "content-length", "hookrelay-event-id"].contains(&name.as_str())
            })
            .cloned()
            .collect();
        assert_eq!(received, expected, "case {i}: headers");
        assert_eq!(deliveries[i]["id"], acks[i].id.as_str());
        assert_eq!(deliveries[i]["seq"], acks[i].seq);
        assert_eq!(deliveries[i]["method"], *method);
        assert_eq!(deliveries[i]["status"], 200);
        assert_eq!(deliveries[i]["attempt"], 1);
        assert!(deliveries[i]["latency_ms"].is_u64());
    }
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_acks_do_not_wait_for_a_slow_local_app() {
    let Listening { relay, http, channel, app, cli, home: _home } =
        Listening::start("/", &[]).await;
    let mut last_ack = None;
    for n in 0..20 {
        let slow: &[(&str, &[u8])] = &[("x-delay-ms", b"2000")];
        let (_, acked_at) =
            http.ingest("POST", &channel.ingest_url, slow, format!("{{\"n\":{n}}}")).await;
        last_ack = Some(acked_at);
    }
    let first_response = app.wait_for(1).await[0].responded_at;
    let last_ack = last_ack.expect("20 acks");
    assert!(last_ack < first_response, "an ack waited for the local app");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_is_recorded_and_the_next_event_goes_while_a_5xx_is_retried() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/hooks", &[]).await;
    http.ingest("POST", &channel.ingest_url, &[("x-respond", b"404")], r#"{"n":0}"#).await;
    http.ingest("POST", &channel.ingest_url, &[("x-respond", b"503x2")], r#"{"n":1}"#).await;
    http.ingest("POST", &channel.ingest_url, &[], r#"{"n":2}"#).await;

    let deliveries = cli.deliveries(3).await;
    let summary: Vec<_> = deliveries
        .iter()
        .map(|d| {
            (d["seq"].as_u64(), d["status"].as_u64(), d["outcome"].as_str(), d["attempt"].as_u64())
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Some(1), Some(404), Some("rejected"), Some(1)),
            (Some(2), Some(200), Some("delivered"), Some(3)),
            (Some(3), Some(200), Some("delivered"), Some(1)),
        ]
    );
    let seen: Vec<usize> = app.records().iter().map(|r| number(&r.body)).collect();
    assert_eq!(seen, [0, 1, 1, 1, 2]);

    // The relay recorded the acknowledgements (they travel on the websocket, so poll).
    let events_url = format!("{}/v1/channels/{}/events", relay.url, channel.channel);
    let auth = format!("Bearer {}", channel.token);
    let states = tokio::time::timeout(crate::WAIT, async {
        loop {
            let (status, body) = http
                .send("GET", &events_url, &[("authorization", auth.as_bytes())], Bytes::new())
                .await;
            assert_eq!(status, 200);
            let page: serde_json::Value = serde_json::from_slice(&body).expect("json");
            let rows: Vec<EventSummary> =
                serde_json::from_value(page.get("events").cloned().unwrap_or(page.clone()))
                    .expect("summaries");
            let states: Vec<_> = rows
                .iter()
                .map(|r| (r.state, r.last_result.as_ref().and_then(|l| l.status)))
                .collect();
            if states.iter().all(|(state, _)| *state != hookrelay_proto::DeliveryState::Pending) {
                return states;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("acks recorded");
    use hookrelay_proto::DeliveryState::{Delivered, Rejected};
    assert_eq!(states, [(Rejected, Some(404)), (Delivered, Some(200)), (Delivered, Some(200))]);
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_relay_is_the_default_and_a_second_run_reuses_the_channel() {
    let app = LocalApp::start().await;
    let http = Http::default();
    let home = Home::new();
    let port = free_port().to_string();
    let target = app.url("/local");
    let args = ["listen", "--json", "--port", &port, "-f", &target];

    let mut first = Cli::spawn(&home, &args);
    let ready = first.ready().await;
    let ingest_url = ready["ingest_url"].as_str().expect("ingest_url").to_owned();
    assert!(ingest_url.starts_with(&format!("http://127.0.0.1:{port}/h/")), "{ingest_url}");
    assert_eq!(ready["forward_to"], target);
    http.ingest("POST", &format!("{ingest_url}/first"), &[], r#"{"n":0}"#).await;
    assert_eq!(first.deliveries(1).await[0]["path"], "/first");
    assert!(first.interrupt().await.success());

    let mut second = Cli::spawn(&home, &args);
    let ready = second.ready().await;
    assert_eq!(ready["ingest_url"], ingest_url.as_str(), "the ingest URL changed between runs");
    http.ingest("POST", &format!("{ingest_url}/second"), &[], r#"{"n":1}"#).await;
    let delivery = &second.deliveries(1).await[0];
    assert_eq!(delivery["path"], "/second", "the first event was delivered again");
    assert_eq!(delivery["seq"], 2);
    assert!(second.interrupt().await.success());
    let paths: Vec<String> = app.records().iter().map(|r| r.path_and_query.clone()).collect();
    assert_eq!(paths, ["/local/first", "/local/second"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_the_relays_maximum_size_passes_end_to_end() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/", &[]).await;
    let body: Vec<u8> = (0..hookrelay_relay::DEFAULT_MAX_BODY).map(|i| (i % 251) as u8).collect();
    http.ingest("POST", &channel.ingest_url, &[], body.clone()).await;
    assert_eq!(cli.deliveries(1).await[0]["status"], 200);
    assert!(app.records()[0].body == body[..], "the 25 MiB body changed on the way");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_in_an_ingest_path_never_leave_the_forward_target() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/webhooks", &[]).await;
    for suffix in ["/../../admin", "/%2e%2e/%2E%2E/etc/passwd", "/stripe/./v1/../events"] {
        http.ingest("POST", &format!("{}{suffix}", channel.ingest_url), &[], "{}").await;
    }
    let deliveries = cli.deliveries(3).await;
    let paths: Vec<String> = app.records().iter().map(|r| r.path_and_query.clone()).collect();
    assert_eq!(paths, ["/webhooks/admin", "/webhooks/etc/passwd", "/webhooks/stripe/events"]);
    // The history and the log keep the path as the sender wrote it.
    assert_eq!(deliveries[0]["path"], "/../../admin");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_bigger_than_the_default_message_limit_is_delivered_when_the_relay_accepts_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let relay =
        crate::relay::RelayProcess::start_with(0, data.path(), &["--max-body", "48MiB"]).await;
    let http = Http::default();
    let channel = http.create_channel(&relay.url).await;
    // 45 MiB is 60 MiB in base64: over the 40 MiB a client takes from a default relay.
    let body: Vec<u8> = (0..45 * 1024 * 1024u32).map(|n| (n % 251) as u8).collect();
    http.ingest("POST", &channel.ingest_url, &[], body.clone()).await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut cli =
        Cli::spawn_ready(&home, &crate::cli::listen_args(&relay.url, &channel, &target)).await;
    let delivered = cli.deliveries(1).await;
    assert_eq!(delivered[0]["status"], 200, "{}", delivered[0]);
    let records = app.records();
    assert_eq!(records.len(), 1);
    assert!(records[0].body == body, "the 45 MiB body changed on the way");
    assert!(cli.interrupt().await.success());
    relay.kill().await;
}
