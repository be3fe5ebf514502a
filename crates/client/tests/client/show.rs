//! `hookrelay show ID` against an in-process relay whose history a real `listen` filled:
//! masking, `--body`, `--json`, id prefixes, and `show --curl` executed for real against the
//! recording app.

use serde_json::Value;

use crate::WAIT;
use crate::history::{Headers, Setup, comparable};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_masks_secret_headers_unless_revealed_and_lists_deliveries() {
    let setup = Setup::start().await;
    let headers: &[(&str, &[u8])] = &[
        ("content-type", b"application/json"),
        ("authorization", b"Bearer sk_test_supersecret"),
        ("stripe-signature", b"t=1700000000,v1=deadbeef"),
        ("x-plain", b"visible"),
    ];
    let id = setup.ingest("POST", "/stripe?a=1", headers, r#"{"type":"x.y","n":1}"#).await;
    setup.listen_with(1, &["--verify", "stripe:whsec_test"]).await;

    let shown = setup.run(&["show", &id]).await.ok();
    assert!(shown.starts_with("POST /stripe?a=1\n"), "{shown}");
    assert!(shown.contains(&id), "{shown}");
    assert!(shown.contains("authorization: Bearer ••••••"), "{shown}");
    assert!(shown.contains("x-plain: visible"), "{shown}");
    assert!(shown.contains("{\n  \"type\": \"x.y\",\n  \"n\": 1\n}\n"), "{shown}");
    let attempt = shown.split("deliveries (1)\n  1. ").nth(1).and_then(|rest| rest.lines().next());
    let stamped = attempt.is_some_and(|line| {
        let clock = line.as_bytes();
        clock.len() > 8 && clock[2] == b':' && clock[5] == b':' && line.contains("  → 200")
    });
    assert!(stamped, "the delivery line carries the relay's time and the status: {shown}");
    assert!(shown.contains("answered 200 OK"), "the app's answer is shown: {shown}");
    assert!(shown.contains("signature ✗ stripe"), "listen --verify's check is shown: {shown}");
    for secret in ["supersecret", "deadbeef"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }

    let revealed = setup.run(&["show", &id, "--reveal"]).await.ok();
    assert!(revealed.contains("authorization: Bearer sk_test_supersecret"), "{revealed}");
    assert!(revealed.contains("stripe-signature: t=1700000000,v1=deadbeef"), "{revealed}");

    let json = setup.run(&["show", &id, "--json"]).await.ok();
    assert!(!json.contains("supersecret") && !json.contains("deadbeef"), "{json}");
    let detail: Value = serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(detail["id"], id.as_str());
    assert_eq!(detail["deliveries"][0]["status"], 200);
    let revealed_json = setup.run(&["show", &id, "--json", "--reveal"]).await.ok();
    assert!(revealed_json.contains("deadbeef"), "{revealed_json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_body_writes_exactly_the_original_bytes() {
    let setup = Setup::start().await;
    let binary: Vec<u8> = (0..=255u8).rev().chain([0, 0, 13, 10]).collect();
    let headers: &[(&str, &[u8])] = &[("content-type", b"application/octet-stream")];
    let id = setup.ingest("POST", "/bin", headers, binary.clone()).await;
    let form: &[(&str, &[u8])] = &[("content-type", b"application/x-www-form-urlencoded")];
    let form_id = setup.ingest("POST", "/form", form, "a=1&b=hello+world").await;

    let body = setup.run(&["show", &id, "--body"]).await;
    assert!(body.status.success(), "{}", body.stderr);
    assert_eq!(body.stdout, binary, "show --body must be byte-exact");
    assert_eq!(body.stderr, "", "nothing but the body");

    let shown = setup.run(&["show", &id]).await.ok();
    assert!(shown.contains("binary body, 260 bytes\n00000000  ff fe fd"), "{shown}");
    assert!(shown.contains("deliveries  none yet"), "{shown}");
    let form_shown = setup.run(&["show", &form_id]).await.ok();
    assert!(form_shown.contains("a = 1\nb = hello world\n"), "{form_shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_curl_run_for_real_reproduces_what_listen_sent() {
    let setup = Setup::start().await;
    assert!(
        std::process::Command::new("curl")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "curl must be installed for this test"
    );
    let binary: Vec<u8> = (0..=255u8).chain([0, 39, 10]).collect();
    let headers: &[(&str, &[u8])] = &[
        ("content-type", b"application/json"),
        ("x-dup", b"1"),
        ("authorization", b"Bearer it's-secret"),
        ("x-dup", b"2"),
        ("x-empty", b""),
        ("user-agent", b"Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
        ("accept", b"*/*; q=0.5"),
    ];
    let cases: Vec<(&str, &str, Headers, Vec<u8>)> = vec![
        (
            "POST",
            "/stripe/x%20y?b=2&a=1&a=3&q='$HOME'",
            headers,
            br#"{"a":"it's $x \"q\""}"#.to_vec(),
        ),
        ("PUT", "/bin", &[("content-type", b"application/octet-stream")], binary),
        ("POST", "", &[], Vec::new()),
        ("DELETE", "/items/7?force=true", &[], Vec::new()),
        // curl reads a file for `--data-binary @...`; the command must send these bytes.
        ("POST", "/text", &[("content-type", b"text/plain")], b"@/etc/hostname".to_vec()),
    ];
    let mut ids = Vec::new();
    for (method, suffix, headers, body) in &cases {
        ids.push(setup.ingest(method, suffix, headers, body.clone()).await);
    }
    setup.listen_until(cases.len()).await;
    let sent_by_listen = setup.app.wait_for(cases.len()).await;

    let target = setup.app.url("/webhooks");
    for (i, id) in ids.iter().enumerate() {
        let out = setup.run(&["show", id, "--curl", "-f", &target]).await;
        let command = out.ok();
        assert!(command.starts_with("curl ") || command.starts_with("printf "), "{command}");
        let ran = tokio::time::timeout(
            WAIT,
            tokio::process::Command::new("sh").arg("-c").arg(command.trim_end()).output(),
        )
        .await
        .expect("curl finishes")
        .expect("sh runs");
        assert!(ran.status.success(), "{command}\n{}", String::from_utf8_lossy(&ran.stderr));
        let records = setup.app.wait_for(cases.len() + i + 1).await;
        let by_curl = &records[cases.len() + i];
        let by_listen = &sent_by_listen[i];
        assert_eq!(comparable(by_curl), comparable(by_listen), "case {i}: {command}");
        assert_eq!(by_curl.body, by_listen.body, "case {i}: body differs");
        assert_eq!(by_curl.body, cases[i].3[..], "case {i}: body differs from the original");
    }
    let secret = setup.run(&["show", &ids[0], "--curl", "-f", &target]).await;
    assert!(secret.stderr.contains("secret headers (authorization)"), "{}", secret.stderr);
    // Without -f, --curl targets where `listen` last forwarded this channel.
    let default = setup.run(&["show", &ids[0], "--curl"]).await.ok();
    let expected_url = format!("'{}/stripe/x%20y?b=2&a=1&a=3&q=", setup.app.url("/webhooks"));
    assert!(default.contains(&expected_url), "{default}");
    // Where `listen` never ran, it is a usage error that says what to pass.
    let fresh = crate::cli::Home::new();
    let (status, _, stderr) = crate::cli::Cli::run(
        &fresh,
        &[
            "show",
            &ids[0],
            "--curl",
            "--relay",
            &setup.relay.url,
            "--channel",
            &setup.channel.channel,
            "--token",
            &setup.channel.token,
        ],
    )
    .await;
    assert_eq!(status.code(), Some(2), "--curl needs a target: {stderr}");
    assert!(stderr.contains("-f URL"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_resolve_by_unique_prefix_and_report_ambiguity_or_absence() {
    let setup = Setup::start().await;
    let mut ids: Vec<String> = Vec::new();
    // Random ids: keep sending until two share their first random character (32 choices).
    let (a, b) = loop {
        let id = setup.ingest("POST", "/p", &[], "{}").await;
        if let Some(other) = ids.iter().find(|other| other[4..5] == id[4..5]) {
            break (other.clone(), id);
        }
        assert!(ids.len() < 200, "ids should share a first character by now: {ids:?}");
        ids.push(id);
    };
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let ambiguous = &a[..common];
    let out = setup.run(&["show", ambiguous]).await;
    let stderr = out.failed();
    assert!(stderr.contains("type more characters"), "{stderr}");
    assert!(stderr.contains(&a) && stderr.contains(&b), "candidates are named: {stderr}");

    ids.push(b.clone());
    // The shortest prefix of `a` no other id starts with.
    let unique = (5..=a.len())
        .map(|len| &a[..len])
        .find(|prefix| ids.iter().all(|id| id == &a || !id.starts_with(prefix)))
        .expect("ids differ");
    let shown = setup.run(&["show", unique, "--json"]).await.ok();
    let detail: Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(detail["id"], a.as_str());
    let without_evt = setup.run(&["show", &unique[4..], "--json"]).await.ok();
    assert!(without_evt.contains(&a), "a prefix without evt_ works too: {without_evt}");

    let unknown = setup.run(&["show", "evt_00000000000"]).await;
    assert!(unknown.failed().contains("hookrelay events` lists"), "{}", unknown.stderr);
    let replay = setup.run(&["replay", ambiguous, "-f", &setup.app.url("/")]).await;
    assert!(replay.failed().contains("type more characters"), "{}", replay.stderr);
    assert!(setup.app.records().is_empty(), "nothing is sent when an id is ambiguous");
}
