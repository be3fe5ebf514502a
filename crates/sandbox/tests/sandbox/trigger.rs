//! `trigger`: building a catalogue event and POSTing it straight to a URL.

use std::sync::atomic::Ordering;

use crate::*;

#[tokio::test]
async fn trigger_posts_a_built_event_and_returns_the_answer() {
    use hookrelay_sandbox::{Catalog, Faker, build_event, post_event};
    let mut app = Recorder::start().await;
    app.status.store(202, Ordering::SeqCst);
    let catalog = Catalog::builtin();
    let event =
        build_event(&catalog, "borrower.delinquent", None, &mut Faker::new()).expect("known");
    let reply = within(post_event(&app.url, &event, STEP)).await.expect("answer");
    assert_eq!(reply.status, 202);
    let got = app.next().await;
    assert_eq!(got.body, event.body);
    assert_eq!(got.headers["content-type"], "application/json");

    let err = post_event("ftp://127.0.0.1/x", &event, STEP).await.expect_err("ftp");
    assert!(err.to_string().contains("https://"), "{err}");
}
