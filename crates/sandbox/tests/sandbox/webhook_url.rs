//! `/v1/webhook_url`: set, read and remove, URL validation and body limits; the error
//! envelope for unknown routes and methods.

use serde_json::{Value, json};

use crate::*;

#[tokio::test]
async fn webhook_url_is_set_read_and_removed_and_must_be_absolute_http() {
    let sb = Sandbox::start(|_| {}).await;
    let unset = sb.call("GET", "/v1/webhook_url", None).await;
    assert_error(&unset, 404, "No webhook URL is set");
    assert_eq!(unset.1["error"]["title"], "Not Found");

    for bad in ["/webhooks", "ftp://myapp.com/webhooks", "myapp.com/webhooks"] {
        let got = sb.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": bad}))).await;
        assert_error(&got, 422, "absolute http or https URL");
    }
    assert_error(
        &sb.call("PUT", "/v1/webhook_url", Some(json!({"url": "x"}))).await,
        422,
        "webhook_url is required",
    );
    assert_error(&sb.call("GET", "/v1/webhook_url", None).await, 404, "No webhook URL");

    sb.set_url("https://myapp.com/webhooks").await;
    assert_eq!(
        sb.call("GET", "/v1/webhook_url", None).await,
        (200, json!({"webhook_url": "https://myapp.com/webhooks"}))
    );
    let (status, body) = sb
        .call("POST", "/v1/webhook_url", Some(json!({"webhook_url": "http://127.0.0.1:9/x"})))
        .await;
    assert_eq!((status, body), (200, json!({"webhook_url": "http://127.0.0.1:9/x"})));

    assert_eq!(sb.call("DELETE", "/v1/webhook_url", None).await, (204, Value::Null));
    assert_error(&sb.call("GET", "/v1/webhook_url", None).await, 404, "No webhook URL");
    sb.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_error_envelope() {
    let sb = Sandbox::start(|_| {}).await;
    let got = sb.call_with("GET", "/v1/nope", None, None).await;
    assert_error(&got, 404, "No route for GET /v1/nope");
    assert_eq!(got.1["error"]["title"], "Not Found");
    assert_error(&sb.call("PATCH", "/v1/webhook_url", None).await, 405, "PATCH");
    assert_error(&sb.call("POST", "/v1/webhook_url", None).await, 422, "webhook_url is required");
    sb.stop().await;
}

#[tokio::test]
async fn an_oversized_body_gets_413_in_the_envelope() {
    let sb = Sandbox::start(|_| {}).await;
    let url = format!("https://myapp.com/{}", "a".repeat(70 * 1024));
    let got = sb.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": url}))).await;
    assert_eq!(got.0, 413, "{got:?}");
    assert_eq!(got.1["error"]["title"], "Payload Too Large");
    let long = format!("https://myapp.com/{}", "a".repeat(3_000));
    assert_error(
        &sb.call("PUT", "/v1/webhook_url", Some(json!({"webhook_url": long}))).await,
        422,
        "longer than",
    );
    sb.stop().await;
}
