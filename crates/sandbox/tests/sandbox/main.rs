//! Integration tests: the real emulator on 127.0.0.1:0 delivering to a small recording app.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hookrelay_sandbox::{Mode, SandboxConfig};
use hookrelay_signature::{Scheme, Secret, Verdict};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Bound for every awaited step, so a bug fails fast instead of hanging.
const STEP: Duration = Duration::from_secs(10);
const KEY: &str = "sk_test_key";

async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(STEP, f).await.expect("step timed out")
}

/// One request as the recording app saw it.
#[derive(Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

/// A local app that records every request and answers with a settable status after a
/// settable delay.
struct Recorder {
    url: String,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    rx: mpsc::Receiver<Received>,
    _stop: tokio_util::sync::DropGuard,
}

#[derive(Clone)]
struct RecState {
    tx: mpsc::Sender<Received>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
}

async fn record(State(s): State<RecState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    s.tx.send(Received { headers, body }).await.expect("test holds the receiver");
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).expect("valid status")
}

impl Recorder {
    async fn start() -> Recorder {
        let (tx, rx) = mpsc::channel(64);
        let status = Arc::new(AtomicU16::new(200));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let state = RecState { tx, status: status.clone(), delay_ms: delay_ms.clone() };
        let app = Router::new().route("/hook", axum::routing::post(record)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let s = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(s.cancelled_owned())
                .await
                .expect("recorder serves");
        });
        Recorder {
            url: format!("http://{addr}/hook"),
            status,
            delay_ms,
            rx,
            _stop: stop.drop_guard(),
        }
    }

    async fn next(&mut self) -> Received {
        within(self.rx.recv()).await.expect("recorder open")
    }

    /// Asserts nothing arrives for `d`.
    async fn quiet_for(&mut self, d: Duration) {
        if let Ok(got) = tokio::time::timeout(d, self.rx.recv()).await {
            panic!("unexpected delivery: {got:?}");
        }
    }
}

/// A running emulator.
struct Sandbox {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Sandbox {
    async fn start(edit: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
        let mut config = SandboxConfig::new(KEY);
        config.retry_schedule = vec![Duration::from_millis(50); 3];
        config.delivery_timeout = Duration::from_secs(5);
        edit(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let task = tokio::spawn(hookrelay_sandbox::serve(listener, config, stop.clone()));
        Sandbox {
            base: format!("http://{addr}"),
            client: Client::builder(TokioExecutor::new()).build_http(),
            stop,
            task,
        }
    }

    async fn call_with(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = http::Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Bytes::from(v.to_string())
            }
            None => Bytes::new(),
        };
        let resp = within(self.client.request(req.body(Full::new(body)).expect("request")))
            .await
            .expect("answer");
        let status = resp.status().as_u16();
        let bytes = within(resp.into_body().collect()).await.expect("body").to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON answer")
        };
        (status, value)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_with(method, path, Some(&format!("Bearer {KEY}")), body).await
    }

    async fn set_url(&self, url: &str) {
        let (status, body) =
            self.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": url}))).await;
        assert_eq!((status, body), (200, json!({"webhook_url": url})));
    }

    async fn test_event(&self, event_type: &str) -> (u16, Value) {
        self.call("POST", "/v1/webhook_url/test", Some(json!({"event_type": event_type}))).await
    }

    async fn deliveries(&self) -> Vec<Value> {
        let (status, body) = self.call("GET", "/v1/webhook_deliveries", None).await;
        assert_eq!(status, 200);
        body["deliveries"].as_array().expect("list").clone()
    }

    /// Polls the log until it has `n` records (the log is written just after each answer).
    async fn wait_for_deliveries(&self, n: usize) -> Vec<Value> {
        within(async {
            loop {
                let log = self.deliveries().await;
                if log.len() >= n {
                    return log;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    async fn stop(self) {
        self.stop.cancel();
        within(self.task).await.expect("serve task").expect("serve ends cleanly");
    }
}

fn error_body(title: &str, detail: &str) -> Value {
    json!({"error": {"title": title, "detail": detail}})
}

fn assert_error(got: &(u16, Value), status: u16, needle: &str) {
    assert_eq!(got.0, status, "{got:?}");
    let detail = got.1["error"]["detail"].as_str().unwrap_or_else(|| panic!("envelope: {got:?}"));
    assert!(got.1["error"]["title"].is_string(), "{got:?}");
    assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
}

#[tokio::test]
async fn bad_authorization_gets_the_providers_three_401_bodies() {
    let sb = Sandbox::start(|_| {}).await;
    let path = "/v1/webhook_url";
    assert_eq!(
        sb.call_with("GET", path, None, None).await,
        (401, error_body("Unauthorized", "Please include an authorization header."))
    );
    for header in ["Basic dXNlcjpwYXNz", "Bearer", KEY] {
        assert_eq!(
            sb.call_with("GET", path, Some(header), None).await,
            (401, error_body("Unauthorized", "Please include a Bearer token in your header.")),
            "{header}"
        );
    }
    assert_eq!(
        sb.call_with("POST", "/v1/webhook_url/test", Some("Bearer wrong"), None).await,
        (401, error_body("Unauthorized", "Invalid token. Please check and try again."))
    );
    sb.stop().await;
}

#[tokio::test]
async fn webhook_url_is_set_read_and_removed_and_must_be_absolute_http() {
    let sb = Sandbox::start(|_| {}).await;
    let unset = sb.call("GET", "/v1/webhook_url", None).await;
    assert_error(&unset, 404, "No webhook URL is set");
    assert_eq!(unset.1["error"]["title"], "Not Found");

    for bad in ["/webhooks", "ftp://myapp.com/webhooks", "myapp.com/webhooks"] {
        let got = sb.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": bad}))).await;
        assert_error(&got, 422, "absolute http or https URL");
    }
    assert_error(
        &sb.call("PUT", "/v1/webhook_url", Some(json!({"url": "x"}))).await,
        422,
        "webhook_url is required",
    );
    assert_error(&sb.call("GET", "/v1/webhook_url", None).await, 404, "No webhook URL");

    sb.set_url("https://myapp.com/webhooks").await;
    assert_eq!(
        sb.call("GET", "/v1/webhook_url", None).await,
        (200, json!({"webhook_url": "https://myapp.com/webhooks"}))
    );
    let (status, body) = sb
        .call("POST", "/v1/webhook_url", Some(json!({"webhook_url": "http://127.0.0.1:9/x"})))
        .await;
    assert_eq!((status, body), (200, json!({"webhook_url": "http://127.0.0.1:9/x"})));

    assert_eq!(sb.call("DELETE", "/v1/webhook_url", None).await, (204, Value::Null));
    assert_error(&sb.call("GET", "/v1/webhook_url", None).await, 404, "No webhook URL");
    sb.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_error_envelope() {
    let sb = Sandbox::start(|_| {}).await;
    let got = sb.call_with("GET", "/v1/nope", None, None).await;
    assert_error(&got, 404, "No route for GET /v1/nope");
    assert_eq!(got.1["error"]["title"], "Not Found");
    assert_error(&sb.call("PATCH", "/v1/webhook_url", None).await, 405, "PATCH");
    assert_error(&sb.call("POST", "/v1/webhook_url", None).await, 422, "webhook_url is required");
    sb.stop().await;
}

#[tokio::test]
async fn test_events_arrive_with_exactly_the_bytes_reported_and_logged() {
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|_| {}).await;
    sb.set_url(&app.url).await;

    for event_type in ["test", "connectivity.interrupted"] {
        let (status, outcome) = sb.test_event(event_type).await;
        assert_eq!(status, 200, "{outcome}");
        let got = app.next().await;
        assert_eq!(got.headers["content-type"], "application/json");
        assert!(
            got.headers["user-agent"].to_str().expect("ascii").starts_with("hookrelay-sandbox/")
        );
        assert!(!got.headers.contains_key("webhook-signature"), "unsigned by default");

        let sent = outcome["request_body"].as_str().expect("reported body");
        assert_eq!(got.body, sent.as_bytes());
        assert_eq!(outcome["delivered"], true);
        assert_eq!(outcome["status"], 200);
        assert_eq!(outcome["attempt"], 1);
        assert_eq!(outcome["error"], Value::Null);
        assert_eq!(outcome["webhook_url"], app.url.as_str());
        assert!(outcome["latency_ms"].is_u64());

        let body: Value = serde_json::from_slice(&got.body).expect("JSON");
        let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["data", "event_type"], "exactly two keys");
        assert_eq!(body["event_type"], event_type);
        if event_type == "test" {
            assert_eq!(got.body, br#"{"event_type":"test","data":null}"#.as_slice());
        } else {
            for key in ["borrower_id", "servicer_id"] {
                let id = body["data"][key].as_str().expect("uuid string");
                assert_eq!(id.len(), 36, "{id}");
            }
        }

        let log = sb.deliveries().await;
        let last = log.last().expect("logged");
        assert_eq!(last, &outcome, "the log records what the test route answered");
    }
    assert_eq!(sb.deliveries().await.len(), 2);
    sb.stop().await;
}

#[tokio::test]
async fn production_mode_refuses_simulated_events_but_delivers_test() {
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|c| c.mode = Mode::Production).await;
    sb.set_url(&app.url).await;

    let refused = sb.test_event("connectivity.interrupted").await;
    assert_error(&refused, 422, "In production");
    assert_eq!(refused.1["error"]["title"], "Unprocessable Entity");
    app.quiet_for(Duration::from_millis(100)).await;

    let (status, outcome) = sb.test_event("test").await;
    assert_eq!((status, &outcome["delivered"]), (200, &json!(true)));
    assert_eq!(app.next().await.body, br#"{"event_type":"test","data":null}"#.as_slice());
    sb.stop().await;
}

#[tokio::test]
async fn never_triggerable_and_unknown_types_are_refused_with_422() {
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|_| {}).await;
    sb.set_url(&app.url).await;

    assert_error(&sb.test_event("borrower.delinquent").await, 422, "cannot be triggered manually");
    let unknown = sb.test_event("enrollment.approved").await;
    assert_error(&unknown, 422, "Unknown event type \"enrollment.approved\"");
    assert_error(&unknown, 422, "test, connectivity.interrupted, connectivity.restored");
    assert_error(
        &sb.call("POST", "/v1/webhook_url/test", Some(json!({"event_type": 5}))).await,
        422,
        "string",
    );
    app.quiet_for(Duration::from_millis(100)).await;
    assert!(sb.deliveries().await.is_empty());
    sb.stop().await;
}

#[tokio::test]
async fn test_without_a_registered_url_is_an_error() {
    let sb = Sandbox::start(|_| {}).await;
    assert_error(&sb.test_event("test").await, 409, "No webhook URL is set");
    sb.stop().await;
}

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
async fn a_catalogue_file_adds_types_the_sandbox_can_send() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/stripe-style.catalog.toml");
    let catalog = hookrelay_sandbox::Catalog::load_file(&path).expect("example loads");
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|c| c.catalog = catalog).await;
    sb.set_url(&app.url).await;

    let (status, outcome) = sb.test_event("payment_intent.succeeded").await;
    assert_eq!((status, &outcome["delivered"]), (200, &json!(true)), "{outcome}");
    let got = app.next().await;
    let body: Value = serde_json::from_slice(&got.body).expect("JSON");
    assert_eq!(body["type"], "payment_intent.succeeded");
    assert_eq!(body["data"]["object"]["object"], "payment_intent");
    assert!(body["id"].as_str().expect("id").starts_with("evt_"));

    assert_error(
        &sb.test_event("charge.dispute.created").await,
        422,
        "cannot be triggered manually",
    );
    sb.test_event("test").await;
    assert_eq!(app.next().await.body, br#"{"event_type":"test","data":null}"#.as_slice());
    sb.stop().await;
}

#[tokio::test]
async fn trigger_posts_a_built_event_and_returns_the_answer() {
    use hookrelay_sandbox::{Catalog, Faker, trigger};
    let mut app = Recorder::start().await;
    app.status.store(202, Ordering::SeqCst);
    let catalog = Catalog::builtin();
    let event = trigger::build_event(&catalog, "borrower.delinquent", None, &mut Faker::new())
        .expect("known");
    let reply = within(trigger::post_event(&app.url, &event, STEP)).await.expect("answer");
    assert_eq!(reply.status, 202);
    let got = app.next().await;
    assert_eq!(got.body, event.body);
    assert_eq!(got.headers["content-type"], "application/json");

    let err = trigger::post_event("ftp://127.0.0.1/x", &event, STEP).await.expect_err("ftp");
    assert!(err.to_string().contains("https://"), "{err}");
}

#[tokio::test]
async fn an_oversized_body_gets_413_in_the_envelope() {
    let sb = Sandbox::start(|_| {}).await;
    let url = format!("https://myapp.com/{}", "a".repeat(70 * 1024));
    let got = sb.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": url}))).await;
    assert_eq!(got.0, 413, "{got:?}");
    assert_eq!(got.1["error"]["title"], "Payload Too Large");
    let long = format!("https://myapp.com/{}", "a".repeat(3_000));
    assert_error(
        &sb.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": long}))).await,
        422,
        "longer than",
    );
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
