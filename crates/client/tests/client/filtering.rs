//! `listen --events` / `--path` filters and the routes file: which events reach which app,
//! what is skipped, and what the relay's history and the log say about it.

use hookrelay_proto::DeliveryState;

use crate::app::LocalApp;
use crate::cli::{Cli, Home, Listening, listen_to};
use crate::raw::{Raw, command, settled_list};
use crate::relay::{Http, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_path_filters_skip_and_record_without_forwarding() {
    let Listening { relay, http, channel, app, mut cli, home: _home } =
        Listening::start("/", &["--events", "invoice.paid, customer.*", "--path", "/stripe/**"])
            .await;

    // (path, body, forwarded?)
    let cases = [
        ("/stripe/a", r#"{"type":"invoice.paid"}"#, true),
        ("/stripe/b", r#"{"type":"charge.failed"}"#, false),
        ("/github", r#"{"type":"invoice.paid"}"#, false),
        ("/stripe/c", r#"{"event_type":"customer.created"}"#, true),
        ("/stripe/d", "not json", false),
        ("/stripe/e", r#"{"type":"customer.deleted"}"#, true),
    ];
    for (path, body, _) in cases {
        http.ingest("POST", &format!("{}{path}", channel.ingest_url), &[], body).await;
    }
    let deliveries = cli.deliveries(cases.len()).await;
    for (i, ((path, _, forwarded), delivery)) in cases.iter().zip(&deliveries).enumerate() {
        assert_eq!(delivery["seq"], i + 1, "out of order: {delivery}");
        assert_eq!(delivery["path"], *path);
        if *forwarded {
            assert_eq!(delivery["status"], 200, "{delivery}");
        } else {
            assert_eq!(delivery["outcome"], "skipped", "{delivery}");
            assert!(delivery["status"].is_null(), "{delivery}");
            assert!(delivery["error"].as_str().is_some_and(|e| !e.is_empty()), "{delivery}");
        }
    }
    assert!(deliveries[1]["error"].as_str().is_some_and(|e| e.contains("charge.failed")));
    assert!(deliveries[2]["error"].as_str().is_some_and(|e| e.contains("--path")));
    // The app only ever saw the matching ones, and the cursor moved past the rest.
    let paths: Vec<String> = app.records().iter().map(|r| r.path_and_query.clone()).collect();
    assert_eq!(paths, ["/stripe/a", "/stripe/c", "/stripe/e"]);
    let history = settled_list(&relay.url, &channel.channel, &channel.token).await;
    let states: Vec<DeliveryState> = history.iter().map(|e| e.state).collect();
    use DeliveryState::{Delivered, Skipped};
    assert_eq!(states, [Delivered, Skipped, Skipped, Delivered, Skipped, Delivered]);
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routes_file_sends_each_event_to_its_own_target_with_its_headers() {
    let relay = TestRelay::start().await;
    let (billing, github, fallback) =
        (LocalApp::start().await, LocalApp::start().await, LocalApp::start().await);
    let http = Http::default();
    let channel = http.create_channel(&relay.url).await;
    let home = Home::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let routes = format!(
        "# first match wins\n\
         [[route]]\nname = \"billing\"\njson = {{ \"type\" = \"invoice.*\" }}\n\
         to = \"{}\"\nheaders = {{ \"X-Route\" = \"billing\", \"X-Env\" = \"route\" }}\n\n\
         [[route]]\nname = \"github\"\nheader = {{ \"X-GitHub-Event\" = \"push\" }}\n\
         to = \"{}\"\n",
        billing.url("/billing"),
        github.url("/gh"),
    );
    let file = dir.path().join("routes.toml");
    std::fs::write(&file, routes).expect("written");
    let file = file.to_str().expect("utf-8 path");
    let target = fallback.url("/other");
    let mut args = listen_to(&relay.url, &channel);
    args.extend(["--routes", file, "-f", &target, "-H", "X-Env: flag", "-H", "X-All: 1"]);
    let mut cli = Cli::spawn(&home, &args);
    let ready = cli.ready().await;
    assert_eq!(ready["routes"][0]["name"], "billing", "{ready}");

    let push: &[(&str, &[u8])] = &[("x-github-event", b"push")];
    let url = |suffix: &str| format!("{}{suffix}", channel.ingest_url);
    http.ingest("POST", &url("/a"), &[], r#"{"type":"invoice.paid"}"#).await;
    http.ingest("POST", &url("/b"), push, r#"{"ref":"main"}"#).await;
    http.ingest("POST", &url("/c"), &[], r#"{"type":"charge.failed"}"#).await;
    // Both rules match: the first one wins.
    http.ingest("POST", &url("/d"), push, r#"{"type":"invoice.created"}"#).await;
    let deliveries = cli.deliveries(4).await;
    let routes: Vec<&str> = deliveries.iter().map(|d| d["route"].as_str().unwrap_or("")).collect();
    assert_eq!(routes, ["billing", "github", "--forward-to", "billing"]);
    let seqs: Vec<u64> = deliveries.iter().map(|d| d["seq"].as_u64().unwrap_or(0)).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);

    let got = billing.wait_for(2).await;
    let paths: Vec<&str> = got.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(paths, ["/billing/a", "/billing/d"]);
    for record in &got {
        assert_eq!(record.header("x-route").as_deref(), Some("billing"));
        assert_eq!(record.header("x-env").as_deref(), Some("route"), "route headers win over -H");
        assert_eq!(record.header("x-all").as_deref(), Some("1"), "-H applies to routes too");
    }
    let got = github.wait_for(1).await;
    assert_eq!(got[0].path_and_query, "/gh/b");
    assert_eq!((got[0].header("x-route"), got[0].header("x-env").as_deref()), (None, Some("flag")));
    let got = fallback.wait_for(1).await;
    assert_eq!(got[0].path_and_query, "/other/c");
    assert_eq!((github.records().len(), fallback.records().len()), (1, 1));
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hookrelay_toml_in_the_working_directory_is_used_and_unmatched_events_are_skipped() {
    let (relay, http, channel) = TestRelay::with_channel().await;
    let app = LocalApp::start().await;
    let home = Home::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let routes = format!("[[route]]\npath = \"/stripe/**\"\nto = \"{}\"\n", app.url("/s"));
    std::fs::write(dir.path().join("hookrelay.toml"), routes).expect("written");
    let args = listen_to(&relay.url, &channel);
    let mut cli = Raw::spawn(&home, dir.path(), &args);
    let ready = cli.record().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert!(ready["forward_to"].is_null(), "{ready}");
    cli.wait_stderr("using the routes in ./hookrelay.toml").await;

    http.ingest("POST", &format!("{}/github", channel.ingest_url), &[], "{}").await;
    http.ingest("POST", &format!("{}/stripe/x", channel.ingest_url), &[], "{}").await;
    let (skipped, delivered) = (cli.record().await, cli.record().await);
    assert_eq!(skipped["outcome"], "skipped", "{skipped}");
    assert_eq!(skipped["error"], "no route matched", "{skipped}");
    assert_eq!(
        (delivered["status"].as_u64(), delivered["route"].as_str()),
        (Some(200), Some("route 1"))
    );
    assert_eq!(app.wait_for(1).await[0].path_and_query, "/s/stripe/x");
    assert!(cli.interrupt().await.success());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_routes_file_is_a_usage_error_naming_the_file_and_line() {
    let home = Home::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = "[[route]]\nto = \"http://127.0.0.1:3000/\"\n\n\
               [[route]]\npath = \"/x\"\nto = \"ftp://localhost:4000\"\n";
    std::fs::write(dir.path().join("hookrelay.toml"), bad).expect("written");
    std::fs::write(dir.path().join("typo.toml"), "[[route]]\nto = \"http://a/\"\npaht = \"/x\"\n")
        .expect("written");
    let found = command(&home, dir.path(), &["listen", "--json"]).output();
    let given = command(&home, dir.path(), &["listen", "--json", "--routes", "typo.toml"]).output();
    for (output, want) in [
        (
            found.await.expect("runs"),
            "error: hookrelay.toml:6: `to`: 'ftp://localhost:4000' must be an http://",
        ),
        (given.await.expect("runs"), "error: typo.toml:3: unknown field `paht`"),
    ] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(want), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}
