//! Targets as people type them (DESIGN §4): `-f 3000` and `-f localhost:3000/path` deliver,
//! `--relay host:port` works, and a target or relay that can never answer (TLS to a
//! plain-HTTP port, a host that does not resolve) fails at once with the fix instead of
//! being retried forever.

use crate::app::LocalApp;
use crate::cli::{Cli, Home, listen_args};
use crate::history::Setup;
use crate::relay::{RelayProcess, TestRelay};

/// A host name with a 64-character label: no resolver accepts it, so the lookup fails on
/// this machine without a packet sent anywhere.
fn unresolvable_host() -> String {
    format!("{}.invalid", "a".repeat(64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_to_a_bare_port_or_host_port_path_delivers() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let port = app.port.to_string();
    let with_path = format!("localhost:{port}/hooks");
    for (n, target) in [(1, port.as_str()), (2, with_path.as_str())] {
        let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, target)).await;
        http.ingest("POST", &format!("{}/x", channel.ingest_url), &[], "{}").await;
        let delivery = &cli.deliveries(1).await[0];
        assert_eq!(delivery["status"], 200, "{delivery}");
        assert!(cli.interrupt().await.success());
        let records = app.wait_for(n).await;
        let expected = if n == 1 { "/x" } else { "/hooks/x" };
        assert_eq!(records[n - 1].path_and_query, expected);
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_plain_http_app_fails_at_once_naming_the_fix() {
    let setup = Setup::start().await;
    let target = format!("https://127.0.0.1:{}/webhooks", setup.app.port);
    let out = setup.run(&["listen", "--json", "-f", &target]).await;
    let stderr = out.failed();
    let fix =
        format!("use -f http://127.0.0.1:{}/webhooks (http://, not https://)", setup.app.port);
    assert!(stderr.starts_with("error: ") && stderr.contains(&fix), "{stderr}");
    assert!(stderr.contains("plain HTTP"), "{stderr}");
    assert!(out.text().is_empty(), "nothing announced: {}", out.text());

    setup.ingest("POST", "", &[], "{}").await;
    let stderr = setup.run(&["replay", "--last", "1", "-f", &target]).await.failed().to_owned();
    assert!(stderr.contains(&fix), "{stderr}");
    assert!(setup.app.records().is_empty());
    setup.relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_host_that_does_not_resolve_fails_at_once() {
    let setup = Setup::start().await;
    let host = unresolvable_host();
    let target = format!("http://{host}:3000/");
    let stderr = setup.run(&["listen", "--json", "-f", &target]).await.failed().to_owned();
    assert!(stderr.contains(&format!("the host '{host}'")), "{stderr}");
    assert!(stderr.contains("does not resolve") && stderr.contains("-f"), "{stderr}");
    setup.relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_can_never_answer_fails_at_once_naming_relay() {
    let relay = TestRelay::start().await;
    let home = Home::new();
    let plain = relay.url.trim_start_matches("http://").to_owned();
    let tls = format!("https://{plain}");
    let unresolvable = format!("http://{}:8787", unresolvable_host());
    for relay_url in [tls.as_str(), unresolvable.as_str()] {
        for command in [&["listen", "--json", "-f", "3000"][..], &["events"][..]] {
            let mut args = command.to_vec();
            args.extend(["--relay", relay_url]);
            let (status, _, stderr) = Cli::run(&home, &args).await;
            assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains("--relay"), "{args:?}: {stderr}");
        }
    }
    let (_, _, stderr) = Cli::run(&home, &["events", "--relay", &tls]).await;
    assert!(stderr.contains(&format!("use --relay http://{plain}/")), "{stderr}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_as_host_and_port_works_and_a_bare_port_points_to_port() {
    let setup = Setup::start().await;
    setup.ingest("POST", "/a", &[], "{}").await;
    let host_port = setup.relay.url.trim_start_matches("http://").to_owned();
    let args = [
        "events",
        "--relay",
        &host_port,
        "--channel",
        &setup.channel.channel,
        "--token",
        &setup.channel.token,
    ];
    let (status, stdout, stderr) = Cli::run(&setup.home, &args).await;
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("/a"), "{stdout}");

    let (status, _, stderr) = Cli::run(&setup.home, &["events", "--relay", "8790"]).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--port 8790"), "{stderr}");
    assert!(!stderr.contains("webhooks"), "an example for the wrong flag: {stderr}");
    setup.relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_tls_relay_fails_at_once_naming_https() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("cert written");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("key written");
    let (cert, key) = (cert.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let data = dir.path().join("data");
    let relay = RelayProcess::start_with(0, &data, &["--tls-cert", cert, "--tls-key", key]).await;
    let https = relay.url.trim_end_matches('/').to_owned();
    assert!(https.starts_with("https://"), "{https}");
    let plain = https.replacen("https://", "http://", 1);
    let fix = format!("use --relay {https}/ (https://, not http://)");
    let home = Home::new();
    let listen = ["listen", "--json", "--relay", &plain, "-f", "3000"];
    let events = ["events", "--relay", &plain, "--channel", "ch_x", "--token", "t"];
    for args in [&listen[..], &events[..]] {
        let (status, _, stderr) = Cli::run(&home, args).await;
        assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("speaks TLS") && stderr.contains(&fix), "{args:?}: {stderr}");
    }
    relay.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_turns_out_never_to_answer_fails_the_event_with_the_fix() {
    // Down at start (a wait, so listen starts), then up as plain HTTP behind an https:// URL.
    let (relay, http, channel) = TestRelay::with_channel().await;
    let mut app = LocalApp::stopped(crate::app::free_port());
    let target = format!("https://127.0.0.1:{}/hooks", app.port);
    let home = Home::new();
    let mut cli = Cli::spawn_ready(&home, &listen_args(&relay.url, &channel, &target)).await;
    http.ingest("POST", &channel.ingest_url, &[], r#"{"n":0}"#).await;
    cli.wait_stderr(&format!("waiting for 127.0.0.1:{}", app.port), 1).await;
    app.restart().await;
    let failed = &cli.deliveries(1).await[0];
    assert_eq!(failed["outcome"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("answers plain HTTP, not TLS: use -f http://"), "{failed}");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}
