//! The real `hookrelayd` binary: crash durability (`kill -9`) and clean SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use hookrelay_proto::IngestAck;
use hyper::StatusCode;

use crate::*;

/// A running `hookrelayd` and the URL it printed.
pub(crate) struct Daemon {
    child: Child,
    pub(crate) url: String,
}

impl Daemon {
    /// Starts the binary on port 0 over `data_dir` and waits for its "listening on" line.
    async fn start(data_dir: &Path) -> Self {
        Self::start_with("127.0.0.1:0", data_dir, Stdio::inherit(), "warn").await
    }

    /// Starts the binary on `listen` over `data_dir`, logging at `level` to `stderr`, and
    /// waits for its "listening on" line. Its stdout is closed once that line is read.
    async fn start_with(listen: &str, data_dir: &Path, stderr: Stdio, level: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
            .args(["--listen", listen, "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("hookrelayd starts");
        Self::ready(child).await
    }

    /// Starts the binary on port 0 with `args` and waits for its "listening on" line.
    pub(crate) async fn start_args(args: &[&str]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("hookrelayd starts");
        Self::ready(child).await
    }

    /// Waits for the "listening on" line of a started `child`.
    async fn ready(mut child: Child) -> Self {
        let stdout = child.stdout.take().expect("piped stdout");
        let line = within(tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).expect("read stdout");
            line
        }))
        .await
        .expect("reader");
        let url = line
            .trim()
            .strip_prefix("hookrelayd listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }

    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for it to exit; one that is still running after `STEP` is killed (so the test
    /// fails instead of hanging) and the test panics.
    pub(crate) async fn wait(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let waiter = tokio::task::spawn_blocking(move || self.child.wait().expect("wait"));
        match tokio::time::timeout(STEP, waiter).await {
            Ok(status) => status.expect("waiter"),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                panic!("hookrelayd did not exit within {STEP:?}; killed it");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_events_survive_kill_9_of_the_relay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = Daemon::start(dir.path()).await;
    let channel = create_channel(&daemon.url, None).await;

    let posts: Vec<_> = (0..100u32)
        .map(|n| {
            let url = format!("{}/n/{n}?q={n}", channel.ingest_url);
            let body: Vec<u8> =
                n.to_be_bytes().iter().copied().cycle().take(1000 + n as usize).collect();
            tokio::spawn(async move {
                let answer = post(&url, body.clone()).await;
                assert_eq!(answer.status, StatusCode::OK);
                (answer.json::<IngestAck>(), n, body)
            })
        })
        .collect();
    let mut acked = Vec::new();
    for task in posts {
        acked.push(within(task).await.expect("post"));
    }
    daemon.signal("-KILL");
    let status = daemon.wait().await;
    assert!(!status.success(), "killed, not exited: {status:?}");

    let daemon = Daemon::start(dir.path()).await;
    let mut ws = connect(&daemon.url, &channel, 0).await;
    assert_eq!(expect_hello(&mut ws, &channel.channel).await, 100);
    acked.sort_by_key(|(ack, _, _)| ack.seq);
    for (ack, n, body) in acked {
        let event = next_event(&mut ws).await;
        assert_eq!((event.seq, &event.id), (ack.seq, &ack.id));
        assert_eq!(event.path, format!("/n/{n}"));
        assert_eq!(event.query, Some(format!("q={n}")));
        assert!(event.body == body, "body of event {} changed", ack.seq);
        ack_event(&mut ws, &event).await;
    }
    drop(ws);
    daemon.signal("-TERM");
    assert!(daemon.wait().await.success());
}

async fn ack_event(ws: &mut Ws, event: &hookrelay_proto::Event) {
    ack(ws, event, Outcome::Delivered, 200).await;
}

#[tokio::test]
async fn sigterm_closes_sessions_with_1001_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = Daemon::start(dir.path()).await;
    let channel = create_channel(&daemon.url, None).await;
    let mut ws = connect(&daemon.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    daemon.signal("-TERM");
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1001, "relay shutting down"));
    let status = daemon.wait().await;
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[tokio::test]
async fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let usage = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
        .arg("--store=nosuch")
        .output()
        .expect("runs");
    assert_eq!(usage.status.code(), Some(2));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
        .args(["--listen", &address, "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(runtime.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&runtime.stderr);
    assert!(stderr.contains("error: could not listen on"), "{stderr}");
}

/// `hookrelayd 2>&1 | tee relay.log`, then Ctrl-C: the terminal's SIGINT kills `tee` too, so
/// the relay's log pipe is closed when it logs that it is shutting down. That write must not
/// keep it from stopping: it exits 0 at once, and a relay started right after it gets the same
/// port and the same data directory (its store lock).
async fn signal_after_the_log_pipes_closed_stops_the_relay(signal: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut daemon = Daemon::start_with("127.0.0.1:0", dir.path(), Stdio::piped(), "info").await;
    let channel = create_channel(&daemon.url, None).await;
    // Stdout was closed after its first line; now the log's reader goes too.
    drop(daemon.child.stderr.take().expect("piped stderr"));
    let answer = post(&channel.ingest_url, b"{}".to_vec()).await;
    assert_eq!(answer.status, StatusCode::OK, "ingest goes on without a log reader");
    let address = daemon.url.trim_start_matches("http://").to_owned();
    daemon.signal(signal);
    let status = daemon.wait().await;
    assert_eq!(status.code(), Some(0), "{signal}: {status:?}");

    let again = Daemon::start_with(&address, dir.path(), Stdio::inherit(), "warn").await;
    let answer = post(&channel.ingest_url, b"{}".to_vec()).await;
    assert_eq!(answer.status, StatusCode::OK, "the channel is served again on {address}");
    again.signal("-TERM");
    assert!(again.wait().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_relay_after_its_log_pipes_closed() {
    signal_after_the_log_pipes_closed_stops_the_relay("-TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_the_relay_after_its_log_pipes_closed() {
    signal_after_the_log_pipes_closed_stops_the_relay("-INT").await;
}
