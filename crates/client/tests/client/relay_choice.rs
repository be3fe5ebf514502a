//! One relay choice for every command (DESIGN §4): what `listen --port N` (or
//! `HOOKRELAY_PORT`) ran with is found by `events`, `show`, `trigger` and `sandbox` without
//! flags, and a store held by a running `listen` is named as such, with its pid.

use serde_json::Value;

use crate::app::{LocalApp, free_port};
use crate::cli::{Cli, Home, command};
use crate::relay::Http;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_listen_on_a_port_plain_commands_find_that_relay() {
    let app = LocalApp::start().await;
    let home = Home::new();
    let port = free_port().to_string();
    let target = app.url("/hooks");
    let mut listen = Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", &target]);
    let ingest_url = listen.ready().await["ingest_url"].as_str().expect("ingest_url").to_owned();
    assert!(ingest_url.starts_with(&format!("http://127.0.0.1:{port}/h/")), "{ingest_url}");

    // While it runs: trigger and events, no flags, go to its relay and channel.
    let (status, _, stderr) = Cli::run(&home, &["trigger", "connectivity.restored"]).await;
    assert!(status.success(), "{stderr}");
    let delivery = &listen.deliveries(1).await[0];
    let (status, out, stderr) = Cli::run(&home, &["events", "--json"]).await;
    assert!(status.success(), "{stderr}");
    let row: Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(row["id"], delivery["id"]);
    assert_eq!(row["event_type"], "connectivity.restored");

    // The sandbox's example registers that channel's real ingest URL.
    let mut sandbox = Cli::spawn(&home, &["sandbox", "--listen", "127.0.0.1:0"]);
    let register = loop {
        let line = sandbox.next_line().await;
        if line.contains("-X PUT") {
            break line;
        }
    };
    assert!(register.contains(&format!(r#""webhook_url": "{ingest_url}""#)), "{register}");
    assert!(sandbox.interrupt().await.success());
    assert!(listen.interrupt().await.success());

    // With listen gone, `events` and `show` start the relay on that port themselves.
    let (status, out, stderr) = Cli::run(&home, &["events"]).await;
    assert!(status.success(), "{stderr}");
    assert!(out.contains("connectivity.restored"), "{out}");
    let id = row["id"].as_str().expect("id");
    let (status, out, stderr) = Cli::run(&home, &["show", id, "--json"]).await;
    assert!(status.success(), "{stderr}");
    assert!(out.contains(id), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hookrelay_port_picks_the_embedded_relay_for_every_command() {
    let app = LocalApp::start().await;
    let home = Home::new();
    let port = free_port().to_string();
    let target = app.url("/");
    let mut listen =
        Cli::spawn_with(&home, &["listen", "--json", "-f", &target], &[("HOOKRELAY_PORT", &port)]);
    let ingest_url = listen.ready().await["ingest_url"].as_str().expect("ingest_url").to_owned();
    assert!(ingest_url.starts_with(&format!("http://127.0.0.1:{port}/h/")), "{ingest_url}");
    Http::default().ingest("POST", &ingest_url, &[], r#"{"type":"env.port"}"#).await;
    listen.deliveries(1).await;
    let output =
        command(&home, &["events"]).env("HOOKRELAY_PORT", &port).output().await.expect("runs");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(out.contains("env.port"), "{out}");

    let (status, help, _) = Cli::run(&home, &["events", "--help"]).await;
    assert!(status.success());
    assert!(help.contains("HOOKRELAY_PORT"), "{help}");
    assert!(listen.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_held_by_a_running_listen_names_it_and_its_pid() {
    let home = Home::new();
    let port = free_port().to_string();
    let mut listen =
        Cli::spawn(&home, &["listen", "--json", "--port", &port, "-f", "http://127.0.0.1:9/"]);
    listen.ready().await;
    let other = free_port().to_string();
    let (status, _, stderr) = Cli::run(&home, &["events", "--port", &other]).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    let holder = format!("in use by the running hookrelay listen (pid {})", listen.pid());
    assert!(stderr.starts_with("error: ") && stderr.contains(&holder), "{stderr}");
    assert!(stderr.contains(&format!("add --port {port}")), "{stderr}");
    assert!(!stderr.contains("connection reset"), "{stderr}");
    assert!(listen.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_without_a_saved_channel_shows_the_chosen_relay_s_url() {
    let home = Home::new();
    let port = free_port().to_string();
    let mut sandbox = Cli::spawn(&home, &["sandbox", "--listen", "127.0.0.1:0", "--port", &port]);
    let register = loop {
        let line = sandbox.next_line().await;
        if line.contains("-X PUT") {
            break line;
        }
    };
    let placeholder = format!(r#""webhook_url": "http://127.0.0.1:{port}/h/CHANNEL""#);
    assert!(register.contains(&placeholder), "{register}");
    assert!(sandbox.interrupt().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_guards_channel_creation_takes_admin_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let relay = format!("http://{}", listener.local_addr().expect("bound"));
    let config = hookrelay_relay::Config {
        data_dir: dir.path().to_owned(),
        admin_token: Some("adm1n".into()),
        ..hookrelay_relay::Config::default()
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(hookrelay_relay::serve(listener, config, stop.clone()));
    let home = Home::new();

    let (status, _, stderr) = Cli::run(&home, &["trigger", "test", "--relay", &relay]).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pass --admin-token T (or HOOKRELAY_ADMIN_TOKEN)"), "{stderr}");
    let args = ["trigger", "test", "--relay", &relay, "--admin-token", "wrong"];
    let (status, _, stderr) = Cli::run(&home, &args).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("check --admin-token"), "{stderr}");

    let args = ["trigger", "test", "--relay", &relay, "--admin-token", "adm1n"];
    let (status, _, stderr) = Cli::run(&home, &args).await;
    assert!(status.success(), "{stderr}");
    let env = [("HOOKRELAY_ADMIN_TOKEN", "adm1n")];
    let home = Home::new();
    let mut listen =
        Cli::spawn_with(&home, &["listen", "--json", "--relay", &relay, "-f", "3000"], &env);
    listen.ready().await;
    assert!(listen.interrupt().await.success());
    stop.cancel();
    server.await.expect("no panic").expect("relay ended cleanly");
}
