//! Helpers for the provider-emulator tests: the real `hookrelay sandbox --json` process and
//! its API, and an endpoint that always answers one status (the provider's view of a broken
//! app).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::WAIT;
use crate::cli::{Cli, Home};
use crate::relay::Http;

/// A running `hookrelay sandbox --json --listen 127.0.0.1:0 ...` and its API.
pub(crate) struct Sandbox {
    pub cli: Cli,
    pub url: String,
    pub api_key: String,
    http: Http,
    _home: Home,
}

impl Sandbox {
    /// Starts it with `extra` flags and reads its `ready` record.
    pub(crate) async fn start(extra: &[&str]) -> Self {
        let home = Home::new();
        let mut args = vec!["sandbox", "--json", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut cli = Cli::spawn(&home, &args);
        let ready = cli.ready().await;
        let field = |name: &str| ready[name].as_str().expect("ready names it").to_owned();
        Self {
            url: field("url"),
            api_key: field("api_key"),
            cli,
            http: Http::default(),
            _home: home,
        }
    }

    /// One authorized API call; the answer's status and JSON body (`null` when empty).
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let auth = format!("Bearer {}", self.api_key);
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let headers: &[(&str, &[u8])] =
            &[("authorization", auth.as_bytes()), ("content-type", b"application/json")];
        let (status, answer) =
            self.http.send(method, &format!("{}{path}", self.url), headers, body).await;
        let json = if answer.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&answer).expect("the sandbox answers JSON")
        };
        (status, json)
    }

    /// `PUT /v1/webhook_url`, asserting the 200.
    pub(crate) async fn register(&self, url: &str) {
        let answer = self
            .call("PUT", "/v1/webhook_url", Some(serde_json::json!({"webhook_url": url})))
            .await;
        assert_eq!(answer, (200, serde_json::json!({"webhook_url": url})));
    }

    /// `POST /v1/webhook_url/test`.
    pub(crate) async fn test_event(&self, event_type: &str) -> (u16, Value) {
        let body = serde_json::json!({"event_type": event_type});
        self.call("POST", "/v1/webhook_url/test", Some(body)).await
    }

    /// `GET /v1/webhook_deliveries`.
    pub(crate) async fn deliveries(&self) -> Vec<Value> {
        let (status, answer) = self.call("GET", "/v1/webhook_deliveries", None).await;
        assert_eq!(status, 200, "{answer}");
        answer["deliveries"].as_array().expect("a list").clone()
    }

    /// The next delivery-attempt record the process printed.
    pub(crate) async fn next_attempt(&mut self) -> Value {
        let record = self.cli.next_record().await;
        assert_eq!(record["type"], "delivery", "{record}");
        record
    }

    /// Ctrl-C; it must exit 0.
    pub(crate) async fn stop(self) {
        let status = self.cli.interrupt().await;
        assert!(status.success(), "sandbox exited with {status}");
    }
}

/// An endpoint answering every request with one status, recording the bodies.
pub(crate) struct StatusApp {
    pub url: String,
    bodies: Arc<(Mutex<Vec<Bytes>>, Notify)>,
    stop: CancellationToken,
}

impl StatusApp {
    /// Starts on a free port.
    pub(crate) async fn start(status: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("bound"));
        let bodies: Arc<(Mutex<Vec<Bytes>>, Notify)> = Arc::default();
        let status = StatusCode::from_u16(status).expect("a status");
        let router = axum::Router::new()
            .fallback(move |State(bodies): State<Arc<(Mutex<Vec<Bytes>>, Notify)>>, body: Bytes| async move {
                bodies.0.lock().expect("bodies").push(body);
                bodies.1.notify_waiters();
                (status, "nope")
            })
            .with_state(bodies.clone());
        let stop = CancellationToken::new();
        tokio::spawn(
            axum::serve(listener, router)
                .with_graceful_shutdown(stop.clone().cancelled_owned())
                .into_future(),
        );
        Self { url, bodies, stop }
    }

    /// Waits for `n` requests and returns their bodies.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Bytes> {
        let wait = async {
            loop {
                let changed = self.bodies.1.notified();
                let bodies = self.bodies.0.lock().expect("bodies").clone();
                if bodies.len() >= n {
                    return bodies;
                }
                changed.await;
            }
        };
        tokio::time::timeout(WAIT, wait).await.expect("the requests arrive in time")
    }
}

impl Drop for StatusApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
