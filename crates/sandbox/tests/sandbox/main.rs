//! Integration tests: the real emulator on 127.0.0.1:0 delivering to a small recording app.
//! This file holds the shared helpers (`Sandbox`, `Recorder`, error assertions); the tests
//! live in one module per topic.

mod auth;
mod catalog;
mod delivery;
mod test_events;
mod trigger;
mod webhook_url;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hookrelay_sandbox::SandboxConfig;
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
