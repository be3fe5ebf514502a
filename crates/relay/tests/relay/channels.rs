//! `POST /v1/channels`, `DELETE /v1/channels/{channel}`, `/healthz`, `/metrics`.

use hyper::StatusCode;
use hyper::http::Method;

use crate::*;

#[tokio::test]
async fn random_channels_get_unguessable_ids_tokens_and_an_ingest_url() {
    let relay = TestRelay::start().await;
    let first = relay.channel().await;
    let second = relay.channel().await;
    assert!(first.channel.starts_with("ch_") && first.channel.len() >= 3 + 26, "{}", first.channel);
    assert_ne!(first.channel, second.channel);
    assert_ne!(first.token, second.token);
    assert!(first.token.len() >= 52, "token too short for 256 bits: {}", first.token);
    assert_eq!(first.ingest_url, format!("{}/h/{}", relay.url, first.channel));
    relay.stop().await;
}

#[tokio::test]
async fn named_channels_are_created_once_then_409() {
    let relay = TestRelay::start().await;
    let created = create_channel(&relay.url, Some("my-app_1")).await;
    assert_eq!(created.channel, "my-app_1");
    let again = post(&format!("{}/v1/channels", relay.url), r#"{"name":"my-app_1"}"#).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_code(), "name_taken");
    relay.stop().await;
}

#[tokio::test]
async fn bad_names_and_bodies_are_400() {
    let relay = TestRelay::start().await;
    for body in [r#"{"name":"Has Spaces"}"#, r#"{"name":""}"#, "not json"] {
        let answer = post(&format!("{}/v1/channels", relay.url), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.error_code(), "bad_request");
    }
    relay.stop().await;
}

#[tokio::test]
async fn public_url_is_the_base_of_ingest_urls() {
    let relay = TestRelay::with(|config| {
        config.public_url = Some("https://relay.example/base/".parse().expect("url"));
    })
    .await;
    let created = relay.channel().await;
    assert_eq!(created.ingest_url, format!("https://relay.example/base/h/{}", created.channel));
    relay.stop().await;
}

#[tokio::test]
async fn admin_token_guards_channel_creation_when_configured() {
    let relay = TestRelay::with(|config| config.admin_token = Some("s3cret".into())).await;
    let url = format!("{}/v1/channels", relay.url);
    let missing = post(&url, "").await;
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    let wrong = http(Method::POST, &url, &[("authorization", "Bearer nope")], "").await;
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let right = http(Method::POST, &url, &[("authorization", "Bearer s3cret")], "").await;
    assert_eq!(right.status, StatusCode::CREATED);
    relay.stop().await;
}

#[tokio::test]
async fn delete_needs_the_token_and_removes_the_history() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    assert_eq!(post(&channel.ingest_url, "x").await.status, StatusCode::OK);
    let url = format!("{}/v1/channels/{}", relay.url, channel.channel);

    let missing = http(Method::DELETE, &url, &[], "").await;
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    let wrong = http(Method::DELETE, &url, &[("authorization", "Bearer hrt_wrong")], "").await;
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    let auth = format!("Bearer {}", channel.token);
    let deleted = http(Method::DELETE, &url, &[("authorization", &auth)], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let history = get_with_token(&format!("{url}/events"), &channel.token).await;
    assert_eq!(
        (history.status, history.error_code().as_str()),
        (StatusCode::GONE, "channel_deleted")
    );
    let ingest = post(&channel.ingest_url, "x").await;
    assert_eq!(
        (ingest.status, ingest.error_code().as_str()),
        (StatusCode::GONE, "channel_deleted")
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_deleted_channel_id_is_never_handed_out_again() {
    let relay = TestRelay::start().await;
    let named = create_channel(&relay.url, Some("my-app")).await;
    let random = relay.channel().await;
    for channel in [&named, &random] {
        assert_eq!(delete_channel(&relay.url, channel).await.status, StatusCode::NO_CONTENT);
    }
    // Claiming the deleted name, or a ch_ id at all, is refused: the old ingest URLs, still
    // set at some provider, must not start feeding someone else.
    let create = format!("{}/v1/channels", relay.url);
    let again = http(Method::POST, &create, &[], r#"{"name": "my-app"}"#).await;
    assert_eq!((again.status, again.error_code().as_str()), (StatusCode::CONFLICT, "name_taken"));
    let body = format!("{{\"name\": \"{}\"}}", random.channel);
    let claimed = http(Method::POST, &create, &[], body).await;
    assert_eq!(
        (claimed.status, claimed.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert_eq!(post(&random.ingest_url, "x").await.status, StatusCode::GONE);
    relay.stop().await;
}

#[tokio::test]
async fn deleting_a_channel_closes_its_sessions() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    assert_eq!(delete_channel(&relay.url, &channel).await.status, StatusCode::NO_CONTENT);
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1008, "channel deleted"));
    relay.stop().await;
}

#[tokio::test]
async fn healthz_metrics_and_unknown_routes_answer() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    post(&channel.ingest_url, "12345").await;
    let health = http(Method::GET, &format!("{}/healthz", relay.url), &[], "").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json::<serde_json::Value>()["status"], "ok");
    let unknown = format!("{}/h/ch_nosuchchannel", relay.url);
    assert_eq!(post(&unknown, "x").await.status, StatusCode::NOT_FOUND);
    let metrics = http(Method::GET, &format!("{}/metrics", relay.url), &[], "").await;
    let content_type = metrics.headers.get("content-type").expect("content type");
    assert!(content_type.to_str().expect("text").starts_with("application/openmetrics-text"));
    let text = String::from_utf8(metrics.body.to_vec()).expect("utf-8");
    for line in [
        "hookrelay_events_ingested_total 1\n",
        "hookrelay_ingest_bytes_total 5\n",
        "hookrelay_ingest_rejected_total 1\n",
        "hookrelay_ingest_requests_total{status=\"200\"} 1\n",
        "hookrelay_ingest_requests_total{status=\"404\"} 1\n",
        "hookrelay_store_append_seconds_count{store=\"sqlite\"} 1\n",
        "hookrelay_store_errors_total{store=\"sqlite\",kind=\"backend\"} 0\n",
        "hookrelay_sessions_open 0\n",
        "# EOF\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    let nowhere = http(Method::GET, &format!("{}/nowhere", relay.url), &[], "").await;
    assert_eq!(
        (nowhere.status, nowhere.error_code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    relay.stop().await;
}

#[tokio::test]
async fn rotating_a_token_hands_out_a_new_one_and_the_old_one_stops_working() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let rotate = format!("{}/v1/channels/{}/token", relay.url, channel.channel);
    let wrong = http(Method::POST, &rotate, &[("authorization", "Bearer hrt_wrong")], "").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let auth = format!("Bearer {}", channel.token);
    let rotated = http(Method::POST, &rotate, &[("authorization", &auth)], "").await;
    assert_eq!(rotated.status, StatusCode::OK);
    let fresh: ChannelCreated = rotated.json();
    assert_eq!(
        (fresh.channel.as_str(), fresh.ingest_url.as_str()),
        (channel.channel.as_str(), channel.ingest_url.as_str())
    );
    assert_ne!(fresh.token, channel.token);
    let events = format!("{}/v1/channels/{}/events", relay.url, channel.channel);
    assert_eq!(get_with_token(&events, &channel.token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get_with_token(&events, &fresh.token).await.status, StatusCode::OK);
    // Ingest is unaffected: the provider's URL stays the same.
    assert_eq!(post(&channel.ingest_url, "x").await.status, StatusCode::OK);
    relay.stop().await;
}
