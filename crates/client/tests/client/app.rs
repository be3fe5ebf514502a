//! A recording "local app": captures every request (method, path+query, ordered headers,
//! body bytes, when it arrived and when it was answered). Requests steer its answer with
//! `x-respond: 404` or `x-respond: 503x2` (503 twice for that event, then 200) and
//! `x-delay-ms: N` or `x-delay-ms: 3000x2` (slow for that event's first two requests, then
//! prompt). It can be stopped and started again on the same port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use bytes::Bytes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::WAIT;

/// One request the app answered.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Bytes,
    pub responded_at: Instant,
}

impl Recorded {
    /// First value of a header.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

#[derive(Default)]
struct Shared {
    records: Mutex<Vec<Recorded>>,
    attempts: Mutex<HashMap<String, u32>>,
    changed: Notify,
}

/// The app and its server task.
pub(crate) struct LocalApp {
    pub port: u16,
    shared: Arc<Shared>,
    server: Option<(CancellationToken, JoinHandle<()>)>,
}

impl LocalApp {
    /// Starts on a port the system picks (bound at once, so no other test can take it).
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut app = Self::stopped(listener.local_addr().expect("bound").port());
        app.serve(listener);
        app
    }

    /// An app that is not running yet on `port` (connections there are refused).
    pub(crate) fn stopped(port: u16) -> Self {
        Self { port, shared: Arc::default(), server: None }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// (Re)starts on the same port, keeping what was recorded.
    pub(crate) async fn restart(&mut self) {
        assert!(self.server.is_none(), "already running");
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the app's port is free again");
        self.serve(listener);
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let router = axum::Router::new().fallback(record).with_state(self.shared.clone());
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                    .expect("app server runs");
            }
        });
        self.server = Some((stop, task));
    }

    /// Stops accepting; later requests get "connection refused".
    pub(crate) async fn stop(&mut self) {
        if let Some((stop, task)) = self.server.take() {
            stop.cancel();
            tokio::time::timeout(WAIT, task).await.expect("app stops").expect("no panic");
        }
    }

    /// Everything answered so far.
    pub(crate) fn records(&self) -> Vec<Recorded> {
        self.shared.records.lock().expect("not poisoned").clone()
    }

    /// Waits until at least `n` requests were answered.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Recorded> {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                let records = self.records();
                if records.len() >= n {
                    return records;
                }
                changed.await;
            }
        };
        match tokio::time::timeout(WAIT, wait).await {
            Ok(records) => records,
            Err(_) => panic!("the app got {} of {n} requests in time", self.records().len()),
        }
    }

    /// Waits until requests carrying `n` distinct event ids were answered.
    pub(crate) async fn wait_for_distinct(&self, n: usize) -> Vec<Recorded> {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                let records = self.records();
                if distinct_ids(&records) >= n {
                    return records;
                }
                changed.await;
            }
        };
        match tokio::time::timeout(WAIT, wait).await {
            Ok(records) => records,
            Err(_) => panic!("the app got {} of {n} events", distinct_ids(&self.records())),
        }
    }
}

fn distinct_ids(records: &[Recorded]) -> usize {
    let ids: std::collections::HashSet<_> =
        records.iter().filter_map(|r| r.header("hookrelay-event-id")).collect();
    ids.len()
}

async fn record(State(shared): State<Arc<Shared>>, request: Request) -> (StatusCode, String) {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body readable");
    let header =
        |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let id = header("hookrelay-event-id").unwrap_or_default();
    // Counted before any delay: a client that gives up waiting may drop the request, and the
    // next attempt must still count as the next one.
    let attempt = {
        let mut attempts = shared.attempts.lock().expect("not poisoned");
        let count = attempts.entry(id).or_default();
        *count += 1;
        *count
    };
    if let Some(delay) = header("x-delay-ms").and_then(|plan| planned(&plan, attempt)) {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = header("x-respond").and_then(|plan| planned(&plan, attempt)).unwrap_or(200);
    let status = StatusCode::from_u16(status).expect("valid status");
    let recorded = Recorded {
        method: parts.method.to_string(),
        path_and_query: parts.uri.path_and_query().map(ToString::to_string).unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect(),
        body,
        responded_at: Instant::now(),
    };
    shared.records.lock().expect("not poisoned").push(recorded);
    shared.changed.notify_waiters();
    (status, format!("answered {status}"))
}

/// The value a plan header asks for on this `attempt`: `V` always, `VxN` on the first `N`
/// attempts of the event (`None` after them).
fn planned<T: std::str::FromStr>(plan: &str, attempt: u32) -> Option<T> {
    match plan.split_once('x') {
        Some((value, times)) if attempt <= times.parse().unwrap_or(0) => value.parse().ok(),
        Some(_) => None,
        None => plan.parse().ok(),
    }
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
