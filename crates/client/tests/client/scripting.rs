//! `listen --show-response`, `--ready-file` and `--exit-on-disconnect`: output and exit
//! behaviour that scripts and supervisors rely on.

use axum::http::StatusCode;

use crate::app::{LocalApp, free_port};
use crate::cli::{Cli, Home, Listening, listen_args, listen_to};
use crate::raw::Raw;
use crate::relay::{Http, RelayProcess, TestRelay};

/// An app whose answer is a multi-line body like a framework's `dump()` output: a long
/// line first, then seven more.
async fn chatty_app() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let router = axum::Router::new().fallback(|| async {
        let mut body = format!("{}\n", "x".repeat(300));
        for n in 1..=7 {
            body.push_str(&format!("line {n}\n"));
        }
        (StatusCode::UNPROCESSABLE_ENTITY, body)
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("app runs");
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_response_prints_the_first_lines_of_the_answer_under_each_delivery() {
    let relay = TestRelay::start().await;
    let (target, app) = chatty_app().await;
    let http = Http::default();
    let channel = http.create_channel(&relay.url).await;
    let home = Home::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [
        "listen",
        "--relay",
        &relay.url,
        "--channel",
        &channel.channel,
        "--token",
        &channel.token,
        "-f",
        &target,
        "--show-response",
    ];
    let mut cli = Raw::spawn(&home, dir.path(), &args);
    cli.lines_until("connected").await;
    http.ingest("POST", &format!("{}/dump", channel.ingest_url), &[], "{}").await;
    let line = cli.lines_until("POST /dump").await.pop().expect("the delivery line");
    assert!(line.contains("→ 422"), "{line}");
    let mut preview = Vec::new();
    for _ in 0..5 {
        preview.push(cli.line().await);
    }
    assert_eq!(preview[0], format!("    {}…", "x".repeat(115)), "cut to 120 columns");
    assert_eq!(preview[1..], ["    line 1", "    line 2", "    line 3", "    line 4"]);
    // The next event's line follows directly: only five lines were shown.
    http.ingest("POST", &format!("{}/next", channel.ingest_url), &[], "{}").await;
    assert!(cli.line().await.contains("POST /next"));
    assert!(cli.interrupt().await.success());

    let mut args = listen_args(&relay.url, &channel, &target);
    args.extend(["--show-response"]);
    let mut json = Cli::spawn_ready(&home, &args).await;
    http.ingest("POST", &channel.ingest_url, &[], "{}").await;
    let record = &json.deliveries(1).await[0];
    let response = record["response"].as_str().expect("response in the record");
    assert!(response.ends_with("line 6\nline 7\n"), "{response}");
    assert!(json.interrupt().await.success());
    app.abort();
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_file_holds_the_ingest_url_once_connected_and_is_removed_at_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ready_file = dir.path().join("ready.txt");
    std::fs::write(&ready_file, "stale from an earlier run\n").expect("written");
    let path = ready_file.to_str().expect("utf-8 path");
    let Listening { relay, http, channel, app: _app, mut cli, home: _home } =
        Listening::start("/", &["--ready-file", path]).await;
    cli.wait_stderr("wrote the ingest URL to", 1).await;
    let text = std::fs::read_to_string(&ready_file).expect("the ready file exists");
    assert_eq!(text, format!("{}\n", channel.ingest_url));
    // What a CI script does next: POST to the URL it read.
    http.ingest("POST", text.trim_end(), &[], "{}").await;
    assert_eq!(cli.deliveries(1).await[0]["status"], 200);
    assert!(cli.interrupt().await.success());
    assert!(!ready_file.exists(), "the ready file outlived listen");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_on_disconnect_ends_listen_with_status_1_when_the_relay_dies() {
    let data = tempfile::tempdir().expect("tempdir");
    let (relayd, http, channel) = RelayProcess::with_channel(data.path()).await;
    let url = relayd.url.clone();
    let app = LocalApp::start().await;
    let home = Home::new();
    let target = app.url("/");
    let mut args = listen_args(&url, &channel, &target);
    args.extend(["--exit-on-disconnect"]);
    let mut cli = Cli::spawn_ready(&home, &args).await;
    http.ingest("POST", &channel.ingest_url, &[], "{}").await;
    assert_eq!(cli.deliveries(1).await[0]["status"], 200);
    relayd.kill().await;
    let stderr_before = cli.stderr();
    let status = cli.wait().await;
    assert_eq!(status.code(), Some(1), "{stderr_before}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_on_disconnect_prints_why_and_still_retries_an_unreachable_relay_at_start() {
    let relay = TestRelay::start().await;
    let channel = Http::default().create_channel(&relay.url).await;
    let home = Home::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = listen_to(&relay.url, &channel);
    args.extend(["-f", "http://127.0.0.1:9/", "--exit-on-disconnect"]);
    let mut cli = Raw::spawn(&home, dir.path(), &args);
    assert_eq!(cli.record().await["type"], "ready");
    cli.wait_stderr("connected").await;
    relay.stop().await;
    let (status, stderr) = cli.wait().await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: lost the connection to the relay"), "{stderr}");

    let down = format!("http://127.0.0.1:{}", free_port());
    let args =
        ["listen", "--json", "--relay", &down, "-f", "http://127.0.0.1:9/", "--exit-on-disconnect"];
    let cli = Raw::spawn(&home, dir.path(), &args);
    cli.wait_stderr("reconnecting in").await;
    assert!(cli.interrupt().await.success(), "an unreachable relay at start is retried");
}
