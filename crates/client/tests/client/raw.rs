//! `hookrelay listen` run in a chosen working directory with its stdout read line by line as
//! text (human mode, or JSON), for tests of `listen`'s stage-2 flags; and reading an event's
//! history from the relay.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hookrelay_proto::{EventDetail, EventSummary};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use tokio::sync::Notify;

use crate::WAIT;
use crate::cli::Home;
use crate::relay::Http;

/// A running `hookrelay` whose stdout lines are read raw.
pub struct Raw {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Arc<(Mutex<String>, Notify)>,
}

/// The command, with the test's home and no color, in `dir`.
pub fn command(home: &Home, dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOOKRELAY_CONFIG_DIR", home.config_dir())
        .env("HOOKRELAY_DATA_DIR", home.data_dir())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("HOOKRELAY_RELAY")
        .env_remove("HOOKRELAY_TOKEN")
        .env_remove("HOOKRELAY_VERIFY")
        .env_remove("HOOKRELAY_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

impl Raw {
    /// Starts `hookrelay ARGS...` in `dir`.
    pub fn spawn(home: &Home, dir: &Path, args: &[&str]) -> Self {
        let mut child = command(home, dir, args).spawn().expect("hookrelay starts");
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let stderr = Arc::new((Mutex::new(String::new()), Notify::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.0.lock().expect("stderr").push_str(&format!("{line}\n"));
                sink.1.notify_waiters();
            }
        });
        Self { child, stdout, stderr }
    }

    /// Everything on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.0.lock().expect("stderr").clone()
    }

    /// The next stdout line.
    pub async fn line(&mut self) -> String {
        match tokio::time::timeout(WAIT, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            other => panic!("no line on stdout ({other:?}); stderr:\n{}", self.stderr()),
        }
    }

    /// Lines up to and including the first that contains `needle`.
    pub async fn lines_until(&mut self, needle: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let found = line.contains(needle);
            lines.push(line);
            if found {
                return lines;
            }
        }
    }

    /// The next stdout line as JSON.
    pub async fn record(&mut self) -> Value {
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
    }

    /// Waits until stderr contains `needle`.
    pub async fn wait_stderr(&self, needle: &str) {
        let wait = async {
            loop {
                let changed = self.stderr.1.notified();
                if self.stderr().contains(needle) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(WAIT, wait).await.is_err() {
            panic!("stderr never said {needle:?}:\n{}", self.stderr());
        }
    }

    /// SIGINT, then the exit status.
    pub async fn interrupt(mut self) -> ExitStatus {
        let pid = self.child.id().expect("still running").to_string();
        let sent =
            std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
        assert!(sent.success());
        self.wait_inner().await
    }

    /// Waits for it to exit by itself.
    pub async fn wait(mut self) -> (ExitStatus, String) {
        let status = self.wait_inner().await;
        // stderr is read by another task: wait for it to see the end of the pipe.
        let closed = async {
            while Arc::strong_count(&self.stderr) > 1 {
                tokio::task::yield_now().await;
            }
        };
        let _ = tokio::time::timeout(WAIT, closed).await;
        (status, self.stderr())
    }

    async fn wait_inner(&mut self) -> ExitStatus {
        match tokio::time::timeout(WAIT, self.child.wait()).await {
            Ok(status) => status.expect("waited"),
            Err(_) => panic!("hookrelay did not exit; stderr:\n{}", self.stderr()),
        }
    }
}

/// How often history is polled while waiting for the relay to store an acknowledgement: the
/// client prints a delivery as it sends the ack, so the relay may not have stored it yet.
const POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// [`event_detail`] once it has at least one delivery.
pub async fn delivered_detail(relay: &str, channel: &str, token: &str, id: &str) -> EventDetail {
    let wait = async {
        loop {
            let detail = event_detail(relay, channel, token, id).await;
            if !detail.deliveries.is_empty() {
                return detail;
            }
            tokio::time::sleep(POLL).await;
        }
    };
    tokio::time::timeout(WAIT, wait).await.expect("the relay stored the acknowledgement")
}

/// [`event_list`] once no event is pending.
pub async fn settled_list(relay: &str, channel: &str, token: &str) -> Vec<EventSummary> {
    let wait = async {
        loop {
            let list = event_list(relay, channel, token).await;
            if list.iter().all(|e| e.state != hookrelay_proto::DeliveryState::Pending) {
                return list;
            }
            tokio::time::sleep(POLL).await;
        }
    };
    tokio::time::timeout(WAIT, wait).await.expect("the relay stored every acknowledgement")
}

/// `GET /v1/channels/{channel}/events/{id}`.
pub async fn event_detail(relay: &str, channel: &str, token: &str, id: &str) -> EventDetail {
    let url = format!("{relay}/v1/channels/{channel}/events/{id}");
    let auth = format!("Bearer {token}");
    let (status, body) = Http::default()
        .send("GET", &url, &[("authorization", auth.as_bytes())], Bytes::new())
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("EventDetail")
}

/// `GET /v1/channels/{channel}/events`.
pub async fn event_list(relay: &str, channel: &str, token: &str) -> Vec<EventSummary> {
    let url = format!("{relay}/v1/channels/{channel}/events?after=0&limit=100");
    let auth = format!("Bearer {token}");
    let (status, body) = Http::default()
        .send("GET", &url, &[("authorization", auth.as_bytes())], Bytes::new())
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("event summaries")
}

/// `listen --json` flags for a relay and channel (no target).
pub fn listen_to<'a>(relay: &'a str, channel: &'a str, token: &'a str) -> Vec<&'a str> {
    vec!["listen", "--json", "--relay", relay, "--channel", channel, "--token", token]
}
