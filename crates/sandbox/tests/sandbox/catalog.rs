//! Catalogue files: types they add can be tested; built-in `test` still works.

use serde_json::{Value, json};

use crate::*;

#[tokio::test]
async fn a_catalogue_file_adds_types_the_sandbox_can_send() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/stripe-style.catalog.toml");
    let catalog = hookrelay_sandbox::Catalog::load_file(&path).expect("example loads");
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|c| c.catalog = catalog).await;
    sb.set_url(&app.url).await;

    let (status, outcome) = sb.test_event("payment_intent.succeeded").await;
    assert_eq!((status, &outcome["delivered"]), (200, &json!(true)), "{outcome}");
    let got = app.next().await;
    let body: Value = serde_json::from_slice(&got.body).expect("JSON");
    assert_eq!(body["type"], "payment_intent.succeeded");
    assert_eq!(body["data"]["object"]["object"], "payment_intent");
    assert!(body["id"].as_str().expect("id").starts_with("evt_"));

    assert_error(
        &sb.test_event("charge.dispute.created").await,
        422,
        "cannot be triggered manually",
    );
    sb.test_event("test").await;
    assert_eq!(app.next().await.body, br#"{"event_type":"test","data":null}"#.as_slice());
    sb.stop().await;
}
