//! The terminal is not an attack surface (DESIGN §9): control characters in event data are
//! escaped in `listen`'s log, `events` and `show`, while `--body` and `--json` stay exact.

use crate::history::Setup;

/// An ANSI "clear screen", as a hostile sender would put it in a JSON `type` (`\u001b`) or a
/// text body. (Paths and header values cannot carry control characters: HTTP refuses them.)
const CLEAR: &str = "\u{1b}[2J";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_data_is_shown_escaped_and_written_exactly_only_when_asked() {
    let setup = Setup::start().await;
    let body = r#"{"type":"x\u001b[2J"}"#;
    let id = setup.ingest("POST", "/a", &[], body).await;
    let text_id = setup
        .ingest("POST", "/t", &[("content-type", b"text/plain")], format!("hi{CLEAR}\nthere"))
        .await;
    let deliveries = setup.listen_until(2).await;
    assert_eq!(deliveries[0]["event_type"], format!("x{CLEAR}"), "--json stays exact");

    let table = setup.run(&["events"]).await.ok();
    assert!(!table.contains('\u{1b}'), "{table:?}");
    assert!(table.contains("x\\x1b[2J"), "{table}");
    for shown in [setup.run(&["show", &id]).await.ok(), setup.run(&["show", &text_id]).await.ok()] {
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown:?}");
    }
    let shown = setup.run(&["show", &id]).await.ok();
    assert!(shown.contains("type      x\\x1b[2J"), "{shown}");
    let text = setup.run(&["show", &text_id]).await.ok();
    assert!(text.contains("hi\\x1b[2J\nthere"), "newlines kept, escapes shown: {text}");
    let exact = setup.run(&["show", &text_id, "--body"]).await;
    assert_eq!(exact.stdout, format!("hi{CLEAR}\nthere").into_bytes(), "--body is exact");

    // And the live log, in human mode.
    let target = setup.app.url("/webhooks");
    let replayed = setup.run(&["replay", &id, "-f", &target]).await.ok();
    assert!(!replayed.contains('\u{1b}') && replayed.contains("x\\x1b[2J"), "{replayed:?}");
}
