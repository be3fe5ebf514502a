//! Usage errors, fatal relay answers, and an unreachable relay.

use crate::app::free_port;
use crate::cli::{Cli, Home, Listening};
use crate::relay::{Http, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_forward_to_is_a_usage_error_naming_the_flag() {
    let home = Home::new();
    for bad in ["/webhooks", "ftp://host/x", "not a url", "70000"] {
        let (status, stdout, stderr) = Cli::run(&home, &["listen", "--json", "-f", bad]).await;
        assert_eq!(status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--forward-to"), "{bad}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_header_flag_is_a_usage_error() {
    let home = Home::new();
    for bad in ["no-colon", "bad name: v"] {
        let args = ["listen", "-f", "http://localhost:3000", "-H", bad];
        let (status, _, stderr) = Cli::run(&home, &args).await;
        assert_eq!(status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--header"), "{bad}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_relay_at_start_keeps_retrying_visibly_and_sigint_exits_zero() {
    let home = Home::new();
    let relay = format!("http://127.0.0.1:{}", free_port());
    let cli =
        Cli::spawn(&home, &["listen", "--json", "--relay", &relay, "-f", "http://127.0.0.1:9/"]);
    cli.wait_stderr("reconnecting in", 3).await;
    assert!(cli.stderr().contains("could not reach the relay"), "{}", cli.stderr());
    let status = cli.interrupt().await;
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_fatal_with_a_clear_message() {
    let relay = TestRelay::start().await;
    let channel = Http::default().create_channel(&relay.url).await;
    let home = Home::new();
    let args = [
        "listen",
        "--json",
        "--relay",
        &relay.url,
        "--channel",
        &channel.channel,
        "--token",
        "wrong",
        "-f",
        "http://127.0.0.1:9/",
    ];
    let (status, _, stderr) = Cli::run(&home, &args).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: ") && stderr.contains("token"), "{stderr}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_pipe_exits_zero_quietly() {
    let Listening { relay, http, channel, app: _app, mut cli, home: _home } =
        Listening::start("/", &[]).await;
    cli.close_stdout();
    http.ingest("POST", &channel.ingest_url, &[], "{}").await;
    let stderr = cli.stderr();
    let status = cli.wait().await;
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_relay_is_declared_dead_after_three_ping_intervals_and_the_client_reconnects() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::State;
    use axum::extract::ws::{Message, WebSocketUpgrade};

    // A relay that says hello (ping every second) and then never sends anything again.
    async fn stream(
        State(sessions): State<Arc<AtomicUsize>>,
        ws: WebSocketUpgrade,
    ) -> axum::response::Response {
        sessions.fetch_add(1, Ordering::SeqCst);
        ws.protocols([hookrelay_proto::SUBPROTOCOL]).on_upgrade(|mut socket| async move {
            let hello =
                r#"{"type":"hello","channel":"ch","last_seq":0,"window":8,"ping_interval_secs":1}"#;
            let _ = socket.send(Message::Text(hello.into())).await;
            tokio::time::sleep(crate::WAIT).await;
        })
    }
    let sessions = Arc::new(AtomicUsize::new(0));
    // The history API answers as a real relay's would (listen checks a given channel).
    let history = axum::routing::get(|| async { axum::Json(Vec::<serde_json::Value>::new()) });
    let router = axum::Router::new()
        .route("/v1/channels/{channel}/stream", axum::routing::get(stream))
        .route("/v1/channels/{channel}/events", history)
        .with_state(sessions.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let relay = format!("http://{}", listener.local_addr().expect("bound"));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let home = Home::new();
    let args = [
        "listen",
        "--json",
        "--relay",
        &relay,
        "--channel",
        "ch",
        "--token",
        "t",
        "-f",
        "http://127.0.0.1:9/",
    ];
    let cli = Cli::spawn_ready(&home, &args).await;
    cli.wait_stderr("nothing from the relay for 3s", 1).await;
    cli.wait_stderr("connected", 2).await;
    assert!(sessions.load(Ordering::SeqCst) >= 2);
    assert_eq!(cli.interrupt().await.code(), Some(0));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_channel_is_refused_before_any_ingest_url_is_shown() {
    let relay = TestRelay::start().await;
    let home = Home::new();
    let mut args = vec!["listen", "--relay", &relay.url, "--channel", "ch_nosuchchannel"];
    args.extend(["--token", "hrt_x", "-f", "http://127.0.0.1:9/"]);
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains("paste into your provider"), "{stdout}");
    assert!(stderr.contains("check --channel and --token"), "a CLI hint: {stderr}");
    assert!(!stderr.contains("POST /v1/channels"), "not an HTTP-API hint: {stderr}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_older_than_the_client_is_named_as_the_thing_to_update() {
    // What a hookrelay.v1 relay answers a client that asks for any other subprotocol.
    let refusal = || async {
        let body = serde_json::json!({"error": {"code": "bad_request",
            "message": "ask for websocket subprotocol hookrelay.v1 (Sec-WebSocket-Protocol)"}});
        (axum::http::StatusCode::BAD_REQUEST, axum::Json(body))
    };
    let history = axum::routing::get(|| async { axum::Json(Vec::<serde_json::Value>::new()) });
    let router = axum::Router::new()
        .route("/v1/channels/{channel}/stream", axum::routing::get(refusal))
        .route("/v1/channels/{channel}/events", history);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let relay = format!("http://{}", listener.local_addr().expect("bound"));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let home = Home::new();
    let args = ["listen", "--json", "--relay", &relay, "--channel", "ch", "--token", "t"];
    let args = [&args[..], &["-f", "http://127.0.0.1:9/"]].concat();
    let (status, _, stderr) = Cli::run(&home, &args).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is older than this hookrelay"), "{stderr}");
    assert!(stderr.contains("update hookrelayd there"), "{stderr}");
    server.abort();
}
