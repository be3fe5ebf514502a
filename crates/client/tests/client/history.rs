//! `hookrelay events` against an in-process relay whose history a real `listen` filled, the
//! history commands through each kind of relay, and the shared `Setup` the `show` and
//! `replaying` tests build on.

use std::process::{ExitStatus, Stdio};

use bytes::Bytes;
use hookrelay_proto::ChannelCreated;
use serde_json::Value;

use crate::WAIT;
use crate::app::{LocalApp, Recorded};
use crate::cli::{Cli, Home, listen_args};
use crate::relay::{Http, TestRelay};

/// Headers as a test sends them.
pub(crate) type Headers<'a> = &'a [(&'a str, &'a [u8])];

/// A relay with one channel, a recording app and a CLI home.
pub(crate) struct Setup {
    pub relay: TestRelay,
    pub app: LocalApp,
    pub http: Http,
    pub channel: ChannelCreated,
    pub home: Home,
}

/// What a finished `hookrelay` printed.
pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts exit 0 and returns stdout as text.
    pub(crate) fn ok(&self) -> String {
        assert!(self.status.success(), "{}; stderr:\n{}", self.status, self.stderr);
        self.text()
    }

    /// Asserts exit 1 and returns stderr.
    pub(crate) fn failed(&self) -> &str {
        assert_eq!(
            self.status.code(),
            Some(1),
            "stdout:\n{}\nstderr:\n{}",
            self.text(),
            self.stderr
        );
        &self.stderr
    }
}

impl Setup {
    pub(crate) async fn start() -> Self {
        let (relay, http, channel) = TestRelay::with_channel().await;
        let app = LocalApp::start().await;
        Self { relay, app, http, channel, home: Home::new() }
    }

    /// `hookrelay SUBCOMMAND --relay .. --channel .. --token .. ARGS...`, set up as the user's
    /// shell would run it (no colors: stdout is a pipe).
    pub(crate) fn command(&self, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookrelay"));
        command
            .arg(args[0])
            .args(["--relay", &self.relay.url, "--channel", &self.channel.channel])
            .args(["--token", &self.channel.token])
            .args(&args[1..])
            .env("HOOKRELAY_CONFIG_DIR", self.home.config_dir())
            .env("HOOKRELAY_DATA_DIR", self.home.data_dir())
            .env_remove("HOOKRELAY_RELAY")
            .env_remove("HOOKRELAY_PORT")
            .env_remove("HOOKRELAY_TOKEN")
            .env_remove("HOOKRELAY_SECRET")
            .env_remove("VISUAL")
            .env_remove("EDITOR")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    pub(crate) async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[]).await
    }

    pub(crate) async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let output = tokio::time::timeout(WAIT, self.command(args, env).output())
            .await
            .unwrap_or_else(|_| panic!("hookrelay {args:?} did not exit in time"))
            .expect("hookrelay runs");
        Output {
            status: output.status,
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// POSTs (or other methods) to the ingest URL + suffix; returns the event id.
    pub(crate) async fn ingest(
        &self,
        method: &str,
        suffix: &str,
        headers: &[(&str, &[u8])],
        body: impl Into<Bytes>,
    ) -> String {
        let url = format!("{}{suffix}", self.channel.ingest_url);
        self.http.ingest(method, &url, headers, body).await.0.id
    }

    /// Runs `listen --json -f APP/webhooks` until `n` deliveries, then stops it.
    pub(crate) async fn listen_until(&self, n: usize) -> Vec<Value> {
        self.listen_with(n, &[]).await
    }

    /// Like [`Setup::listen_until`], with more `listen` flags.
    pub(crate) async fn listen_with(&self, n: usize, extra: &[&str]) -> Vec<Value> {
        let target = self.app.url("/webhooks");
        let mut args = listen_args(&self.relay.url, &self.channel, &target);
        args.extend_from_slice(extra);
        let mut cli = Cli::spawn_ready(&self.home, &args).await;
        let deliveries = cli.deliveries(n).await;
        assert!(cli.interrupt().await.success());
        deliveries
    }

    /// `--json` lines of a command's stdout.
    pub(crate) async fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let out = self.run(args).await;
        out.ok()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

/// Method, path and query, headers but `content-length`, and `content-length`'s value.
pub(crate) type Comparable = (String, String, Vec<(String, Vec<u8>)>, Option<String>);

/// Headers as the app saw them, without `content-length` (curl and hyper place it
/// differently), plus its value.
pub(crate) fn comparable(record: &Recorded) -> Comparable {
    let headers =
        record.headers.iter().filter(|(name, _)| name != "content-length").cloned().collect();
    (record.method.clone(), record.path_and_query.clone(), headers, record.header("content-length"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_lists_history_newest_last_with_type_state_limit_and_json() {
    let setup = Setup::start().await;
    let empty = setup.run(&["events"]).await;
    assert_eq!(empty.ok(), "", "an empty history prints nothing on stdout");
    assert!(empty.stderr.contains("no events yet"), "{}", empty.stderr);
    assert!(empty.stderr.contains(&setup.channel.ingest_url), "{}", empty.stderr);

    let json: &[(&str, &[u8])] = &[("content-type", b"application/json")];
    let first = setup.ingest("POST", "/stripe", json, r#"{"type":"invoice.paid"}"#).await;
    let rejected: &[(&str, &[u8])] = &[("x-respond", b"404")];
    setup.ingest("POST", "/loans?x=1", rejected, r#"{"event_type":"loan.funded"}"#).await;
    setup.ingest("POST", "/c", json, r#"{"type":"customer.created"}"#).await;
    setup.listen_with(3, &["--events", "invoice.*,loan.*"]).await;
    setup.ingest("PUT", "", &[], "plain text").await;

    let table = setup.run(&["events"]).await.ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("SEQ  ID"), "{table}");
    let short = &first[..12];
    for (line, want) in lines[1..].iter().zip([
        ["1", short, "POST", "/stripe", "invoice.paid", "delivered 200"],
        ["2", "evt_", "POST", "/loans?x=1", "loan.funded", "rejected 404"],
        ["3", "evt_", "POST", "/c", "customer.created", "skipped"],
        ["4", "evt_", "PUT", "/", "-", "pending"],
    ]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], want[0], "{line}");
        assert!(cells[1].starts_with(want[1]) && cells[1].len() == 12, "{line}");
        for needle in &want[2..] {
            assert!(line.contains(needle), "{line} lacks {needle}");
        }
        assert!(line.chars().count() <= 100, "{line}");
    }
    assert!(!table.contains('\u{1b}'), "no colors into a pipe");

    let limited = setup.run(&["events", "--limit", "2"]).await.ok();
    let seqs: Vec<&str> =
        limited.lines().skip(1).filter_map(|line| line.split_whitespace().next()).collect();
    assert_eq!(seqs, ["3", "4"], "{limited}");

    let records = setup.json_lines(&["events", "--json"]).await;
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["id"], first.as_str());
    assert_eq!(records[0]["event_type"], "invoice.paid");
    assert_eq!(records[0]["state"], "delivered");
    assert_eq!(records[1]["event_type"], "loan.funded");
    assert_eq!(records[1]["state"], "rejected");
    assert_eq!(records[2]["state"], "skipped");
    assert_eq!(records[3]["state"], "pending");
    assert_eq!(records[3]["size"], 10);
    assert!(records[3]["received_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_listen_delivered_before_ctrl_c_is_in_the_history_once_it_exits() {
    let setup = Setup::start().await;
    for n in 0..20 {
        setup.ingest("POST", "/n", &[], format!("{{\"n\":{n}}}")).await;
    }
    // Strict order: acks go in batches of up to 8, so some are still batched at Ctrl-C.
    setup.listen_with(20, &["--concurrency", "1"]).await;
    let records = setup.json_lines(&["events", "--json"]).await;
    let states: Vec<&str> = records.iter().filter_map(|r| r["state"].as_str()).collect();
    assert_eq!(states, ["delivered"; 20], "{records:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_into_a_closed_pipe_exits_zero_quietly() {
    let setup = Setup::start().await;
    for n in 0..3 {
        setup.ingest("POST", "/x", &[], format!("{{\"n\":{n}}}")).await;
    }
    let mut child = setup.command(&["events"], &[]).spawn().expect("starts");
    drop(child.stdout.take());
    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("exits in time")
        .expect("waited");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    assert!(!stderr.contains("error"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_commands_work_with_the_embedded_relay_and_a_hookrelayd_process() {
    let app = LocalApp::start().await;
    let http = Http::default();
    let home = Home::new();
    let port = crate::app::free_port().to_string();
    let target = app.url("/hooks");
    let events_json = |extra: &[&str]| {
        let mut args = vec!["events", "--json"];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| {
        let home = &home;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Cli::run(home, &args).await
        }
    };

    // The embedded relay of a running `listen`: `events` finds it on the port and uses it.
    let mut listen = Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", &target]);
    let ingest_url = listen.ready().await["ingest_url"].as_str().expect("ingest_url").to_owned();
    http.ingest("POST", &ingest_url, &[], r#"{"type":"embedded.test"}"#).await;
    listen.deliveries(1).await;
    let (status, out, err) = run(events_json(&["--port", &port])).await;
    assert!(status.success(), "{err}");
    let row: Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(row["event_type"], "embedded.test");
    assert!(listen.interrupt().await.success());

    // No `listen` running: `events` and `show` start the embedded relay on the same store,
    // where the stopped `listen` left its ack (it waits for the relay to record its acks).
    let (status, out, err) = run(events_json(&["--port", &port])).await;
    assert!(status.success(), "{err}");
    let again: Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!((&again["id"], again["state"].as_str()), (&row["id"], Some("delivered")));
    let prefix = row["id"].as_str().expect("id")[..12].to_owned();
    let show = vec!["show".to_owned(), prefix, "--body".into(), "--port".into(), port.clone()];
    let (status, body, err) = run(show).await;
    assert!(status.success(), "{err}");
    assert_eq!(body, r#"{"type":"embedded.test"}"#);

    // A separate `hookrelayd` process, reached with --relay/--channel/--token.
    let data = tempfile::tempdir().expect("temp dir");
    let (relayd, http, channel) = crate::relay::RelayProcess::with_channel(data.path()).await;
    http.ingest("PUT", &format!("{}/x", channel.ingest_url), &[], "from hookrelayd").await;
    let remote = ["--relay", &relayd.url, "--channel", &channel.channel, "--token", &channel.token];
    let (status, out, err) = run(events_json(&remote)).await;
    assert!(status.success(), "{err}");
    let row: Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!((row["method"].as_str(), row["path"].as_str()), (Some("PUT"), Some("/x")));
    assert_eq!(row["state"], "pending");
    relayd.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_piped_keeps_long_types_and_paths_whole() {
    let setup = Setup::start().await;
    let kind = "connectivity.restored.after.a.long.outage.of.the.upstream.network";
    let path = "/providers/acme/webhooks/v2/loan-servicing/notifications";
    setup.ingest("POST", path, &[], format!(r#"{{"type":"{kind}"}}"#)).await;
    let out = setup.run(&["events"]).await.ok();
    assert!(out.contains(kind) && out.contains(path), "{out}");
    assert!(!out.contains('…'), "{out}");
    assert!(out.lines().filter(|line| line.contains(kind)).count() == 1, "grep finds it: {out}");
    setup.relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_on_a_terminal_fits_its_columns() {
    let setup = Setup::start().await;
    let kind = "connectivity.restored.after.a.long.outage.of.the.upstream.network";
    setup
        .ingest("POST", "/a/long/path/for/the/terminal", &[], format!(r#"{{"type":"{kind}"}}"#))
        .await;
    // `script` (util-linux) runs the command on a pseudo-terminal, as a person would.
    let line = format!(
        "{} events --relay {} --channel {} --token {}",
        env!("CARGO_BIN_EXE_hookrelay"),
        setup.relay.url,
        setup.channel.channel,
        setup.channel.token
    );
    for columns in ["70", "200"] {
        let output = tokio::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("COLUMNS", columns)
            .env("NO_COLOR", "1")
            .env("HOOKRELAY_CONFIG_DIR", setup.home.config_dir())
            .env("HOOKRELAY_DATA_DIR", setup.home.data_dir())
            .stdin(Stdio::null())
            .output()
            .await
            .expect("script runs");
        let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
        assert!(output.status.success(), "{text}");
        let width: usize = columns.parse().expect("number");
        let rows: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
        assert_eq!(rows.len(), 2, "{text}");
        for row in rows {
            assert!(row.chars().count() <= width, "{} > {width}: {row}", row.chars().count());
        }
        assert_eq!(text.contains(kind), width == 200, "{text}");
    }
    setup.relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_lists_only_failed_a_type_glob_or_recent_events_when_asked() {
    let setup = Setup::start().await;
    let rejected: Headers = &[("x-respond", b"404")];
    setup.ingest("POST", "/a", &[], r#"{"type":"invoice.paid"}"#).await;
    let bad = setup.ingest("POST", "/b", rejected, r#"{"type":"invoice.failed"}"#).await;
    setup.ingest("POST", "/c", &[], r#"{"type":"customer.created"}"#).await;
    setup.listen_until(3).await;

    assert_eq!(ids(&setup, &["events", "--json", "--failed"]).await, vec![bad.clone()]);
    assert_eq!(ids(&setup, &["events", "--json", "--type", "invoice.*"]).await.len(), 2);
    assert_eq!(ids(&setup, &["events", "--json", "--type", "invoice.*", "--failed"]).await, [bad]);
    assert_eq!(ids(&setup, &["events", "--json", "--since", "1h"]).await.len(), 3);
    assert_eq!(ids(&setup, &["events", "--json", "--since", "1h", "-n", "1"]).await.len(), 1);

    let out = setup.run(&["events", "--type", "nothing.*"]).await;
    assert!(out.ok().is_empty());
    assert!(
        out.stderr.contains("no events match --type 'nothing.*' (of 3 in the channel)"),
        "{}",
        out.stderr
    );
    let out = setup.run(&["events", "--since", "soon"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--since"), "{}", out.stderr);
    setup.relay.stop().await;
}

/// The ids `hookrelay events ARGS` lists as JSON lines.
async fn ids(setup: &Setup, args: &[&str]) -> Vec<String> {
    let lines = setup.json_lines(args).await;
    lines.iter().map(|row| row["id"].as_str().expect("id").to_owned()).collect()
}
