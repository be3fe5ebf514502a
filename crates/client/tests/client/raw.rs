//! `hookrelay listen` run in a chosen working directory with its stdout read line by line as
//! text (human mode, or JSON), for tests of `listen`'s stage-2 flags; and reading an event's
//! history from the relay.

use std::path::Path;
use std::process::ExitStatus;

use bytes::Bytes;
use hookrelay_proto::{EventDetail, EventSummary};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use crate::WAIT;
use crate::cli::{self, Home, Stderr};
use crate::relay::Http;

/// A running `hookrelay` whose stdout lines are read raw.
pub(crate) struct Raw {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Stderr,
}

/// [`cli::command`] in `dir`, with the flags' environment variables unset too.
pub(crate) fn command(home: &Home, dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = cli::command(home, args);
    command
        .current_dir(dir)
        .env_remove("COLUMNS")
        .env_remove("HOOKRELAY_VERIFY")
        .env_remove("HOOKRELAY_SECRET");
    command
}

impl Raw {
    /// Starts `hookrelay ARGS...` in `dir`.
    pub(crate) fn spawn(home: &Home, dir: &Path, args: &[&str]) -> Self {
        let mut child = command(home, dir, args).spawn().expect("hookrelay starts");
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let stderr = Stderr::collect(child.stderr.take().expect("piped"));
        Self { child, stdout, stderr }
    }

    /// Everything on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// The next stdout line.
    pub(crate) async fn line(&mut self) -> String {
        match tokio::time::timeout(WAIT, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            other => panic!("no line on stdout ({other:?}); stderr:\n{}", self.stderr()),
        }
    }

    /// Lines up to and including the first that contains `needle`.
    pub(crate) async fn lines_until(&mut self, needle: &str) -> Vec<String> {
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
    pub(crate) async fn record(&mut self) -> Value {
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
    }

    /// Waits until stderr contains `needle`.
    pub(crate) async fn wait_stderr(&self, needle: &str) {
        self.stderr.wait_for(needle, 1).await;
    }

    /// SIGINT, then the exit status.
    pub(crate) async fn interrupt(mut self) -> ExitStatus {
        cli::interrupt(&self.child);
        self.wait_inner().await
    }

    /// Waits for it to exit by itself.
    pub(crate) async fn wait(mut self) -> (ExitStatus, String) {
        let status = self.wait_inner().await;
        // stderr is read by another task: wait for it to see the end of the pipe.
        let closed = async {
            while !self.stderr.closed() {
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
pub(crate) async fn delivered_detail(
    relay: &str,
    channel: &str,
    token: &str,
    id: &str,
) -> EventDetail {
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
pub(crate) async fn settled_list(relay: &str, channel: &str, token: &str) -> Vec<EventSummary> {
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
pub(crate) async fn event_detail(relay: &str, channel: &str, token: &str, id: &str) -> EventDetail {
    let url = format!("{relay}/v1/channels/{channel}/events/{id}");
    get(&url, token, "EventDetail").await
}

/// `GET /v1/channels/{channel}/events`.
pub(crate) async fn event_list(relay: &str, channel: &str, token: &str) -> Vec<EventSummary> {
    let url = format!("{relay}/v1/channels/{channel}/events?after=0&limit=100");
    get(&url, token, "event summaries").await
}

/// `GET url` with the channel's token: asserts the 200 and parses the JSON body.
async fn get<T: DeserializeOwned>(url: &str, token: &str, what: &str) -> T {
    let auth = format!("Bearer {token}");
    let (status, body) =
        Http::default().send("GET", url, &[("authorization", auth.as_bytes())], Bytes::new()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect(what)
}
