//! Runs the real `hookrelay` binary with `--json` and reads its NDJSON records; stderr is
//! collected for assertions about retries and errors.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use hookrelay_proto::ChannelCreated;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout};
use tokio::sync::Notify;

use crate::WAIT;
use crate::app::LocalApp;
use crate::relay::{Http, TestRelay};

/// The user's directories, kept across runs of the CLI.
pub(crate) struct Home {
    root: tempfile::TempDir,
}

impl Home {
    pub(crate) fn new() -> Self {
        Self { root: tempfile::tempdir().expect("tempdir") }
    }

    pub(crate) fn config_dir(&self) -> PathBuf {
        self.root.path().join("config")
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }
}

/// A running `hookrelay`.
pub(crate) struct Cli {
    child: Child,
    stdout: Option<Lines<BufReader<ChildStdout>>>,
    stderr: Stderr,
}

/// A child's stderr, collected line by line by a background task.
pub(crate) struct Stderr(Arc<(Mutex<String>, Notify)>);

impl Stderr {
    /// Starts collecting `pipe`.
    pub(crate) fn collect(pipe: ChildStderr) -> Self {
        let stderr = Arc::new((Mutex::new(String::new()), Notify::new()));
        let mut lines = BufReader::new(pipe).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.0.lock().expect("stderr");
                text.push_str(&line);
                text.push('\n');
                sink.1.notify_waiters();
            }
        });
        Self(stderr)
    }

    /// Everything collected so far.
    pub(crate) fn text(&self) -> String {
        self.0.0.lock().expect("stderr").clone()
    }

    /// Whether the collecting task has seen the end of the pipe.
    pub(crate) fn closed(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }

    /// Waits until it contains `needle` at least `times` times.
    pub(crate) async fn wait_for(&self, needle: &str, times: usize) {
        let wait = async {
            loop {
                let changed = self.0.1.notified();
                if self.text().matches(needle).count() >= times {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(WAIT, wait).await.is_err() {
            panic!("stderr never said {needle:?} {times} times:\n{}", self.text());
        }
    }
}

/// Sends SIGINT to a running child.
pub(crate) fn interrupt(child: &Child) {
    let pid = child.id().expect("still running").to_string();
    let sent = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(sent.success());
}

/// `listen --json` flags for a relay and channel (no target).
pub(crate) fn listen_to<'a>(relay: &'a str, channel: &'a ChannelCreated) -> Vec<&'a str> {
    vec![
        "listen",
        "--json",
        "--relay",
        relay,
        "--channel",
        &channel.channel,
        "--token",
        &channel.token,
    ]
}

/// [`listen_to`], forwarding to `target`.
pub(crate) fn listen_args<'a>(
    relay: &'a str,
    channel: &'a ChannelCreated,
    target: &'a str,
) -> Vec<&'a str> {
    let mut args = listen_to(relay, channel);
    args.extend(["-f", target]);
    args
}

/// The usual `listen` test: an in-process relay with one channel, a recording app, and
/// `listen` forwarding to the app's `path` (plus `extra` flags), already ready.
pub(crate) struct Listening {
    pub relay: TestRelay,
    pub http: Http,
    pub channel: ChannelCreated,
    pub app: LocalApp,
    pub cli: Cli,
    /// Kept alive as long as `cli` runs.
    pub home: Home,
}

impl Listening {
    /// Starts all four; `listen` gets `-f APP{path}` and `extra`.
    pub(crate) async fn start(path: &str, extra: &[&str]) -> Self {
        let (relay, http, channel) = TestRelay::with_channel().await;
        let app = LocalApp::start().await;
        let home = Home::new();
        let target = app.url(path);
        let mut args = listen_args(&relay.url, &channel, &target);
        args.extend_from_slice(extra);
        let cli = Cli::spawn_ready(&home, &args).await;
        Self { relay, http, channel, app, cli, home }
    }
}

/// The command, with the test's home and no color.
pub(crate) fn command(home: &Home, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    command
        .args(args)
        .env("HOOKRELAY_CONFIG_DIR", home.config_dir())
        .env("HOOKRELAY_DATA_DIR", home.data_dir())
        .env("NO_COLOR", "1")
        .env_remove("HOOKRELAY_RELAY")
        .env_remove("HOOKRELAY_PORT")
        .env_remove("HOOKRELAY_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

impl Cli {
    /// Starts `hookrelay ARGS...`.
    pub(crate) fn spawn(home: &Home, args: &[&str]) -> Self {
        Self::spawn_with(home, args, &[])
    }

    /// Starts `hookrelay ARGS...` with more environment variables.
    pub(crate) fn spawn_with(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child =
            command(home, args).envs(env.iter().copied()).spawn().expect("hookrelay starts");
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let stderr = Stderr::collect(child.stderr.take().expect("piped"));
        Self { child, stdout: Some(stdout), stderr }
    }

    /// Starts `hookrelay ARGS...` and reads its `ready` record.
    pub(crate) async fn spawn_ready(home: &Home, args: &[&str]) -> Self {
        let mut cli = Self::spawn(home, args);
        cli.ready().await;
        cli
    }

    /// Runs to completion (for usage errors): status, stdout, stderr.
    pub(crate) async fn run(home: &Home, args: &[&str]) -> (ExitStatus, String, String) {
        let output = tokio::time::timeout(WAIT, command(home, args).output())
            .await
            .expect("exits in time")
            .expect("runs");
        let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
        (output.status, text(output.stdout), text(output.stderr))
    }

    /// Everything printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// The next line on stdout.
    pub(crate) async fn next_line(&mut self) -> String {
        let stdout = self.stdout.as_mut().expect("stdout still open");
        match tokio::time::timeout(WAIT, stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            other => panic!("no line on stdout ({other:?}); stderr:\n{}", self.stderr()),
        }
    }

    /// The next NDJSON record on stdout.
    pub(crate) async fn next_record(&mut self) -> Value {
        let line = self.next_line().await;
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// The `ready` record.
    pub(crate) async fn ready(&mut self) -> Value {
        let record = self.next_record().await;
        assert_eq!(record["type"], "ready", "{record}");
        record
    }

    /// The next `n` delivery records.
    pub(crate) async fn deliveries(&mut self, n: usize) -> Vec<Value> {
        let mut records = Vec::with_capacity(n);
        while records.len() < n {
            let record = self.next_record().await;
            assert_eq!(record["type"], "delivery", "{record}");
            records.push(record);
        }
        records
    }

    /// Waits until stderr contains `needle` at least `times` times.
    pub(crate) async fn wait_stderr(&self, needle: &str, times: usize) {
        self.stderr.wait_for(needle, times).await;
    }

    /// SIGINT, then the exit status and everything it printed on stdout from then on.
    pub(crate) async fn interrupt_output(mut self) -> (ExitStatus, String) {
        interrupt(&self.child);
        let mut rest = String::new();
        let stdout = self.stdout.as_mut().expect("stdout still open");
        while let Ok(Ok(Some(line))) = tokio::time::timeout(WAIT, stdout.next_line()).await {
            rest.push_str(&line);
            rest.push('\n');
        }
        let status = tokio::time::timeout(WAIT, self.child.wait()).await;
        (status.expect("exits after SIGINT").expect("waited"), rest)
    }

    /// SIGINT, then the exit status.
    pub(crate) async fn interrupt(mut self) -> ExitStatus {
        interrupt(&self.child);
        match tokio::time::timeout(WAIT, self.child.wait()).await {
            Ok(status) => status.expect("waited"),
            Err(_) => panic!("hookrelay ignored SIGINT; stderr:\n{}", self.stderr()),
        }
    }

    /// Closes our end of its stdout pipe, like `hookrelay listen | head -1` does.
    pub(crate) fn close_stdout(&mut self) {
        self.stdout = None;
    }

    /// Waits for it to exit by itself.
    pub(crate) async fn wait(mut self) -> ExitStatus {
        match tokio::time::timeout(WAIT, self.child.wait()).await {
            Ok(status) => status.expect("waited"),
            Err(_) => panic!("hookrelay did not exit; stderr:\n{}", self.stderr()),
        }
    }

    /// SIGKILL.
    pub(crate) async fn kill(mut self) {
        self.child.kill().await.expect("killed");
    }
}
