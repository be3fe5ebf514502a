//! The relay under test: in-process through `hookrelay_relay::serve`, or the real
//! `hookrelayd` binary when a test must kill it. Plus a small HTTP client to create
//! channels and POST webhooks at ingest URLs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use hookrelay_proto::{ChannelCreated, IngestAck};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::WAIT;

/// A relay serving in this test process.
pub(crate) struct TestRelay {
    pub url: String,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestRelay {
    /// Starts with a temp SQLite store on a free port.
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let config = hookrelay_relay::Config {
            data_dir: dir.path().to_owned(),
            store: hookrelay_relay::StoreKind::Sqlite,
            ..hookrelay_relay::Config::default()
        };
        let stop = CancellationToken::new();
        let task = tokio::spawn(hookrelay_relay::serve(listener, config, stop.clone()));
        Self { url, stop, task, _dir: dir }
    }

    /// [`TestRelay::start`], plus an HTTP client and one channel created on it.
    pub(crate) async fn with_channel() -> (Self, Http, ChannelCreated) {
        let relay = Self::start().await;
        let http = Http::default();
        let channel = http.create_channel(&relay.url).await;
        (relay, http, channel)
    }

    /// Stops it and checks it ended cleanly.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let ended = tokio::time::timeout(WAIT, self.task).await.expect("relay stops");
        ended.expect("no panic").expect("relay ended cleanly");
    }
}

/// A `hookrelayd` process.
pub(crate) struct RelayProcess {
    pub url: String,
    port: u16,
    data_dir: PathBuf,
    child: tokio::process::Child,
    _log: JoinHandle<()>,
}

impl RelayProcess {
    /// Starts `hookrelayd --listen 127.0.0.1:PORT --data-dir DIR` and waits for the line
    /// naming its address. Port 0 lets the relay pick a free one (no race with other tests);
    /// a given port is for starting again where a killed relay was.
    pub(crate) async fn start(port: u16, data_dir: &Path) -> Self {
        Self::start_with(port, data_dir, &[]).await
    }

    /// [`RelayProcess::start`] with more flags.
    pub(crate) async fn start_with(port: u16, data_dir: &Path, extra: &[&str]) -> Self {
        let binary = Path::new(env!("CARGO_BIN_EXE_hookrelay")).with_file_name("hookrelayd");
        assert!(
            binary.exists(),
            "{} is missing: build it with `cargo build -p hookrelay-relay` \
             (`cargo test --workspace` does)",
            binary.display()
        );
        let mut child = tokio::process::Command::new(&binary)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("hookrelayd starts");
        let seen = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let log = tokio::spawn(read_log(
            child.stdout.take(),
            child.stderr.take(),
            ready_tx,
            seen.clone(),
        ));
        let Ok(Ok(url)) = tokio::time::timeout(WAIT, ready_rx).await else {
            panic!("hookrelayd did not log its address; it said:\n{}", seen.lock().expect("log"));
        };
        let port = url.rsplit(':').next().and_then(|port| port.parse().ok()).expect("a port");
        Self { url, port, data_dir: data_dir.to_owned(), child, _log: log }
    }

    /// [`RelayProcess::start`] on a free port, plus an HTTP client and one channel created on it.
    pub(crate) async fn with_channel(data_dir: &Path) -> (Self, Http, ChannelCreated) {
        let relay = Self::start(0, data_dir).await;
        let http = Http::default();
        let channel = http.create_channel(&relay.url).await;
        (relay, http, channel)
    }

    /// SIGKILL, then wait for it to be gone.
    pub(crate) async fn kill(mut self) -> (u16, PathBuf) {
        self.child.kill().await.expect("killed");
        (self.port, self.data_dir)
    }
}

/// Watches both log streams for the line naming the listening address, and sends it.
async fn read_log(
    stdout: Option<tokio::process::ChildStdout>,
    stderr: Option<tokio::process::ChildStderr>,
    ready: tokio::sync::oneshot::Sender<String>,
    seen: Arc<Mutex<String>>,
) {
    let mut ready = Some(ready);
    let mut out = BufReader::new(stdout.expect("piped")).lines();
    let mut err = BufReader::new(stderr.expect("piped")).lines();
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        let line = tokio::select! {
            line = out.next_line(), if out_open => line.ok().flatten().or_else(|| { out_open = false; None }),
            line = err.next_line(), if err_open => line.ok().flatten().or_else(|| { err_open = false; None }),
        };
        let Some(line) = line else { continue };
        if let Some(url) = line.strip_prefix("hookrelayd listening on ")
            && let Some(ready) = ready.take()
        {
            let _ = ready.send(url.trim().to_owned());
        }
        let mut seen = seen.lock().expect("log");
        seen.push_str(&line);
        seen.push('\n');
    }
}

/// Plain HTTP toward the relay.
#[derive(Clone)]
pub(crate) struct Http(Client<HttpConnector, Full<Bytes>>);

impl Default for Http {
    fn default() -> Self {
        Self(Client::builder(TokioExecutor::new()).build_http())
    }
}

impl Http {
    /// One request; returns status and body.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &[u8])],
        body: Bytes,
    ) -> (u16, Bytes) {
        let mut request = http::Request::new(Full::new(body));
        *request.method_mut() = method.parse().expect("method");
        *request.uri_mut() = url.parse().expect("uri");
        for (name, value) in headers {
            request.headers_mut().append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_bytes(value).expect("value"),
            );
        }
        let response = tokio::time::timeout(WAIT, self.0.request(request))
            .await
            .expect("relay answers in time")
            .expect("relay reachable");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        (status, body)
    }

    /// `POST /v1/channels`.
    pub(crate) async fn create_channel(&self, relay: &str) -> ChannelCreated {
        let (status, body) =
            self.send("POST", &format!("{relay}/v1/channels"), &[], Bytes::new()).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("ChannelCreated")
    }

    /// A webhook to an ingest URL (+ suffix); asserts the 200 and returns the ack and when
    /// it came back.
    pub(crate) async fn ingest(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &[u8])],
        body: impl Into<Bytes>,
    ) -> (IngestAck, Instant) {
        let (status, answer) = self.send(method, url, headers, body.into()).await;
        assert_eq!(status, 200, "ingest failed: {}", String::from_utf8_lossy(&answer));
        (serde_json::from_slice(&answer).expect("IngestAck"), Instant::now())
    }

    /// `n` numbered JSON POSTs (`{"n": i}`) with extra headers.
    pub(crate) async fn ingest_numbered(
        &self,
        url: &str,
        range: std::ops::Range<usize>,
        headers: &[(&str, &[u8])],
    ) {
        for n in range {
            self.ingest("POST", url, headers, format!("{{\"n\":{n}}}")).await;
        }
    }
}

/// The `n` of a numbered body.
pub(crate) fn number(body: &[u8]) -> usize {
    let value: serde_json::Value = serde_json::from_slice(body).expect("numbered body");
    value["n"].as_u64().expect("n") as usize
}
