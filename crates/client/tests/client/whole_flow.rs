//! The whole story offline: `hookrelay sandbox` (the provider) delivers to the relay's ingest
//! URL, `hookrelay listen` forwards to a recording local app. Plus the sandbox's own
//! retries, modes and flag errors.

use hookrelay_signature::{Scheme, Secret, Verdict};
use serde_json::{Value, json};

use crate::app::LocalApp;
use crate::cli::{Cli, Home, Listening};
use crate::relay::{Http, TestRelay};
use crate::sandbox::{Sandbox, StatusApp};

/// A Standard Webhooks secret (base64 of "hookrelay-test-secret-key").
const SECRET: &str = "whsec_aG9va3JlbGF5LXRlc3Qtc2VjcmV0LWtleQ==";

/// The relay, a channel, the local app and `listen` forwarding to it.
struct Receiver {
    relay: TestRelay,
    app: LocalApp,
    listen: Cli,
    ingest_url: String,
    _home: Home,
}

impl Receiver {
    async fn start() -> Self {
        let Listening { relay, channel, app, cli, home, .. } =
            Listening::start("/webhooks", &[]).await;
        Self { relay, app, listen: cli, ingest_url: channel.ingest_url, _home: home }
    }

    /// Sends `marker` straight to the ingest URL and waits until the app has it: everything
    /// ingested before it has then been delivered too (listen keeps `seq` order).
    async fn flush(&mut self, seen: usize) -> Vec<crate::app::Recorded> {
        let marker = r#"{"marker":true}"#;
        Http::default().ingest("POST", &self.ingest_url, &[], marker).await;
        let records = self.app.wait_for(seen + 1).await;
        assert_eq!(records.last().expect("one").body, marker.as_bytes());
        records
    }

    async fn stop(self) {
        assert!(self.listen.interrupt().await.success());
        self.relay.stop().await;
    }
}

fn body_of(outcome: &Value) -> &str {
    outcome["request_body"].as_str().expect("request_body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_events_reach_the_local_app_byte_exact_through_relay_and_listen() {
    let mut receiver = Receiver::start().await;
    let mut sandbox = Sandbox::start(&["--signing-secret", SECRET]).await;
    sandbox.register(&receiver.ingest_url).await;
    assert_eq!(
        sandbox.call("GET", "/v1/webhook_url", None).await,
        (200, json!({"webhook_url": receiver.ingest_url}))
    );

    let mut sent = Vec::new();
    for event_type in ["test", "connectivity.interrupted"] {
        let (status, outcome) = sandbox.test_event(event_type).await;
        assert_eq!(status, 200, "{outcome}");
        assert_eq!(outcome["delivered"], true, "{outcome}");
        assert_eq!(outcome["status"], 200, "the relay acks at once: {outcome}");
        assert_eq!(outcome["event_type"], event_type);
        sent.push(outcome);
    }
    let data = serde_json::from_str::<Value>(body_of(&sent[1])).expect("JSON")["data"].clone();
    assert!(data["borrower_id"].is_string() && data["servicer_id"].is_string(), "{data}");

    let deliveries = receiver.listen.deliveries(2).await;
    assert!(deliveries.iter().all(|d| d["status"] == 200), "{deliveries:?}");
    let records = receiver.app.wait_for(2).await;
    assert_eq!(records.len(), 2);
    let secret = Secret::parse(Scheme::Standard, SECRET).expect("secret");
    for (outcome, record) in sent.iter().zip(&records) {
        assert_eq!(record.body, body_of(outcome).as_bytes(), "exactly the bytes sent, in order");
        assert_eq!(record.method, "POST");
        assert_eq!(record.path_and_query, "/webhooks");
        assert_eq!(record.header("content-type").as_deref(), Some("application/json"));
        assert!(record.header("user-agent").expect("ua").starts_with("hookrelay-sandbox/"));
        assert!(record.header("hookrelay-event-id").is_some());
        // The provider's signature still verifies at the app: nothing changed on the way.
        let headers: Vec<(String, String)> = record
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(
            hookrelay_signature::verify(Scheme::Standard, &secret, &headers, &record.body, now),
            Verdict::Valid
        );
    }

    // The sandbox printed each attempt, and its log lists the same bytes.
    for outcome in &sent {
        let printed = sandbox.next_attempt().await;
        assert_eq!(printed["delivery_id"], outcome["delivery_id"]);
        assert_eq!(printed["request_body"], outcome["request_body"]);
    }
    let log = sandbox.deliveries().await;
    assert_eq!(log.len(), 2);
    for (entry, outcome) in log.iter().zip(&sent) {
        assert_eq!(entry["request_body"], outcome["request_body"]);
        assert_eq!(entry["webhook_url"], receiver.ingest_url.as_str());
    }

    // Removing the URL stops deliveries: the test route refuses, and nothing more arrives
    // before a marker sent afterwards.
    let (status, _) = sandbox.call("DELETE", "/v1/webhook_url", None).await;
    assert_eq!(status, 204);
    let (status, refused) = sandbox.test_event("test").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["title"], "Conflict");
    assert_eq!(sandbox.call("GET", "/v1/webhook_url", None).await.0, 404);
    let records = receiver.flush(2).await;
    assert_eq!(records.len(), 3, "only the marker arrived after the removal");
    assert_eq!(sandbox.deliveries().await.len(), 2);

    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_simulated_events_but_delivers_test() {
    let mut receiver = Receiver::start().await;
    let sandbox = Sandbox::start(&["--mode", "production"]).await;
    assert!(sandbox.api_key.starts_with("sk_production_"), "{}", sandbox.api_key);
    sandbox.register(&receiver.ingest_url).await;

    let (status, refused) = sandbox.test_event("connectivity.interrupted").await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["title"], "Unprocessable Entity");
    let detail = refused["error"]["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with("In production, testing any event type other than test"),
        "{detail}"
    );
    assert_eq!(refused.as_object().map(|o| o.len()), Some(1), "only the envelope: {refused}");

    let (status, outcome) = sandbox.test_event("test").await;
    assert_eq!((status, &outcome["delivered"]), (200, &json!(true)), "{outcome}");
    assert_eq!(body_of(&outcome), r#"{"event_type":"test","data":null}"#);
    receiver.listen.deliveries(1).await;
    let records = receiver.flush(1).await;
    assert_eq!(records.len(), 2, "the refused event never arrived");
    assert_eq!(records[0].body, body_of(&outcome).as_bytes());
    assert!(records[0].header("webhook-signature").is_none(), "unsigned by default");
    assert_eq!(sandbox.deliveries().await.len(), 1);

    sandbox.stop().await;
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_answering_500_shows_every_retry_in_the_delivery_log() {
    let app = StatusApp::start(500).await;
    let mut sandbox = Sandbox::start(&["--retry-schedule", "50ms,100ms"]).await;
    sandbox.register(&app.url).await;

    let (status, first) = sandbox.test_event("connectivity.restored").await;
    assert_eq!(status, 200, "the API call worked even though the delivery did not");
    assert_eq!(first["delivered"], false);
    assert_eq!(first["status"], 500);
    assert_eq!(first["will_retry"], true);

    let printed: Vec<Value> = {
        let mut all = Vec::new();
        for _ in 0..3 {
            all.push(sandbox.next_attempt().await);
        }
        all
    };
    assert_eq!(printed.iter().map(|a| a["attempt"].clone()).collect::<Vec<_>>(), [1, 2, 3]);
    let bodies = app.wait_for(3).await;
    assert!(
        bodies.iter().all(|b| b == body_of(&first).as_bytes()),
        "retries resend the same bytes"
    );

    let log = sandbox.deliveries().await;
    assert_eq!(log.len(), 3, "{log:?}");
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry["delivery_id"], first["delivery_id"]);
        assert_eq!(entry["attempt"], i + 1);
        assert_eq!(entry["status"], 500);
        assert_eq!(entry["error"], "answered 500, not 2xx");
        assert_eq!(entry["will_retry"], i < 2, "{entry}");
        assert_eq!(entry["request_body"], first["request_body"]);
    }
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_file_adds_types_the_sandbox_can_send() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("extra.catalog.toml");
    let catalog = "[[event_types]]\nname = \"enrollment.updated\"\n\
                   [event_types.data]\nuuid = \"{{uuid}}\"\nkind = \"enrollment\"\n";
    std::fs::write(&path, catalog).expect("written");
    let app = StatusApp::start(204).await;
    let sandbox = Sandbox::start(&["--catalog", path.to_str().expect("utf-8")]).await;
    sandbox.register(&app.url).await;
    let (status, outcome) = sandbox.test_event("enrollment.updated").await;
    assert_eq!((status, &outcome["delivered"]), (200, &json!(true)), "{outcome}");
    let body = &app.wait_for(1).await[0];
    let sent: Value = serde_json::from_slice(body).expect("JSON");
    assert_eq!(sent["event_type"], "enrollment.updated");
    assert_eq!(sent["data"]["kind"], "enrollment");
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sandbox_flags_are_usage_errors_and_bad_catalogues_name_the_line() {
    let home = Home::new();
    for (flag, value) in [
        ("--mode", "staging"),
        ("--retry-schedule", "2h"),
        ("--delivery-timeout", "soon"),
        ("--signing-secret", "whsec_not base64!"),
        ("--listen", "nowhere"),
    ] {
        let (status, _, stderr) = Cli::run(&home, &["sandbox", flag, value]).await;
        assert_eq!(status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.catalog.toml");
    std::fs::write(&path, "[[event_types]]\nname = \"a.b\"\ntriger = \"sandbox\"\n")
        .expect("written");
    let args = ["sandbox", "--listen", "127.0.0.1:0", "--catalog", path.to_str().expect("utf-8")];
    let (status, stdout, stderr) = Cli::run(&home, &args).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let expected = format!("error: {}:3:1: unknown field `triger`", path.display());
    assert!(stderr.starts_with(&expected), "{stderr}");
}
