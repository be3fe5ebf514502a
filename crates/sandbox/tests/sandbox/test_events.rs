//! `POST /v1/webhook_url/test`: the bytes sent, the outcome reported and logged, and the
//! types each mode refuses.

use std::time::Duration;

use hookrelay_sandbox::Mode;
use serde_json::{Value, json};

use crate::*;

#[tokio::test]
async fn test_events_arrive_with_exactly_the_bytes_reported_and_logged() {
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|_| {}).await;
    sb.set_url(&app.url).await;

    for event_type in ["test", "connectivity.interrupted"] {
        let (status, outcome) = sb.test_event(event_type).await;
        assert_eq!(status, 200, "{outcome}");
        let got = app.next().await;
        assert_eq!(got.headers["content-type"], "application/json");
        assert!(
            got.headers["user-agent"].to_str().expect("ascii").starts_with("hookrelay-sandbox/")
        );
        assert!(!got.headers.contains_key("webhook-signature"), "unsigned by default");

        let sent = outcome["request_body"].as_str().expect("reported body");
        assert_eq!(got.body, sent.as_bytes());
        assert_eq!(outcome["delivered"], true);
        assert_eq!(outcome["status"], 200);
        assert_eq!(outcome["attempt"], 1);
        assert_eq!(outcome["error"], Value::Null);
        assert_eq!(outcome["webhook_url"], app.url.as_str());
        assert!(outcome["latency_ms"].is_u64());

        let body: Value = serde_json::from_slice(&got.body).expect("JSON");
        let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["data", "event_type"], "exactly two keys");
        assert_eq!(body["event_type"], event_type);
        if event_type == "test" {
            assert_eq!(got.body, br#"{"event_type":"test","data":null}"#.as_slice());
        } else {
            for key in ["borrower_id", "servicer_id"] {
                let id = body["data"][key].as_str().expect("uuid string");
                assert_eq!(id.len(), 36, "{id}");
            }
        }

        let log = sb.deliveries().await;
        let last = log.last().expect("logged");
        assert_eq!(last, &outcome, "the log records what the test route answered");
    }
    assert_eq!(sb.deliveries().await.len(), 2);
    sb.stop().await;
}

#[tokio::test]
async fn production_mode_refuses_simulated_events_but_delivers_test() {
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|c| c.mode = Mode::Production).await;
    sb.set_url(&app.url).await;

    let refused = sb.test_event("connectivity.interrupted").await;
    assert_error(&refused, 422, "In production");
    assert_eq!(refused.1["error"]["title"], "Unprocessable Entity");
    app.quiet_for(Duration::from_millis(100)).await;

    let (status, outcome) = sb.test_event("test").await;
    assert_eq!((status, &outcome["delivered"]), (200, &json!(true)));
    assert_eq!(app.next().await.body, br#"{"event_type":"test","data":null}"#.as_slice());
    sb.stop().await;
}

#[tokio::test]
async fn never_triggerable_and_unknown_types_are_refused_with_422() {
    let mut app = Recorder::start().await;
    let sb = Sandbox::start(|_| {}).await;
    sb.set_url(&app.url).await;

    assert_error(&sb.test_event("borrower.delinquent").await, 422, "cannot be triggered manually");
    let unknown = sb.test_event("enrollment.approved").await;
    assert_error(&unknown, 422, "Unknown event type \"enrollment.approved\"");
    assert_error(&unknown, 422, "test, connectivity.interrupted, connectivity.restored");
    assert_error(
        &sb.call("POST", "/v1/webhook_url/test", Some(json!({"event_type": 5}))).await,
        422,
        "string",
    );
    app.quiet_for(Duration::from_millis(100)).await;
    assert!(sb.deliveries().await.is_empty());
    sb.stop().await;
}

#[tokio::test]
async fn test_without_a_registered_url_is_an_error() {
    let sb = Sandbox::start(|_| {}).await;
    assert_error(&sb.test_event("test").await, 409, "No webhook URL is set");
    sb.stop().await;
}
