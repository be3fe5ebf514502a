//! `GET /v1/channels/{channel}/events[/{id}]`: order, paging, auth, delivery state.

use hookrelay_proto::{DeliveryResult, DeliveryState, EventDetail, EventSummary, IngestAck};
use hyper::StatusCode;
use hyper::http::Method;

use crate::*;

#[tokio::test]
async fn history_lists_oldest_first_with_after_and_limit() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for n in 1..=5 {
        post(&format!("{}/n/{n}?v={n}", channel.ingest_url), vec![b'x'; n]).await;
    }
    let url = format!("{}/v1/channels/{}/events", relay.url, channel.channel);
    let all: Vec<EventSummary> = get_with_token(&url, &channel.token).await.json();
    assert_eq!(all.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(
        (all[2].path.as_str(), all[2].query.as_deref(), all[2].size),
        ("/n/3", Some("v=3"), 3)
    );
    assert!(all.iter().all(|s| s.state == DeliveryState::Pending && s.last_result.is_none()));

    let page: Vec<EventSummary> =
        get_with_token(&format!("{url}?after=2&limit=2"), &channel.token).await.json();
    assert_eq!(page.iter().map(|s| s.seq).collect::<Vec<_>>(), [3, 4]);

    for bad in ["?limit=0", "?limit=1001", "?after=-1"] {
        let answer = get_with_token(&format!("{url}{bad}"), &channel.token).await;
        assert_eq!(
            (answer.status, answer.error_code().as_str()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{bad}"
        );
    }
    relay.stop().await;
}

#[tokio::test]
async fn summaries_name_the_json_event_type() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    post(&channel.ingest_url, r#"{"type":"invoice.paid","data":{}}"#).await;
    post(&channel.ingest_url, r#"{"event_type":"loan.funded"}"#).await;
    post(&channel.ingest_url, "not json").await;
    let url = format!("{}/v1/channels/{}/events", relay.url, channel.channel);
    let summaries: Vec<EventSummary> = get_with_token(&url, &channel.token).await.json();
    let types: Vec<Option<&str>> = summaries.iter().map(|s| s.event_type.as_deref()).collect();
    assert_eq!(types, [Some("invoice.paid"), Some("loan.funded"), None]);
    relay.stop().await;
}

#[tokio::test]
async fn history_needs_the_channel_token() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let other = relay.channel().await;
    let id = post(&channel.ingest_url, "x").await.json::<IngestAck>().id;
    for url in [
        format!("{}/v1/channels/{}/events", relay.url, channel.channel),
        format!("{}/v1/channels/{}/events/{id}", relay.url, channel.channel),
    ] {
        let missing = http(Method::GET, &url, &[], "").await;
        assert_eq!(
            (missing.status, missing.error_code().as_str()),
            (StatusCode::UNAUTHORIZED, "missing_token")
        );
        let wrong = get_with_token(&url, &other.token).await;
        assert_eq!(
            (wrong.status, wrong.error_code().as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_token")
        );
        assert_eq!(get_with_token(&url, &channel.token).await.status, StatusCode::OK);
    }
    relay.stop().await;
}

#[tokio::test]
async fn unknown_event_is_404() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let url = format!("{}/v1/channels/{}/events/evt_nope", relay.url, channel.channel);
    let answer = get_with_token(&url, &channel.token).await;
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (StatusCode::NOT_FOUND, "unknown_event")
    );
    relay.stop().await;
}

#[tokio::test]
async fn acks_show_up_as_delivery_state_in_history() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for _ in 0..3 {
        post(&channel.ingest_url, "x").await;
    }
    let mut ws = connect(&relay.url, &channel, 0).await;
    expect_hello(&mut ws, &channel.channel).await;
    let events = [next_event(&mut ws).await, next_event(&mut ws).await, next_event(&mut ws).await];
    ack(&mut ws, &events[0], Outcome::Rejected, 422).await;
    ack(&mut ws, &events[0], Outcome::Delivered, 200).await;
    ack(&mut ws, &events[1], Outcome::Rejected, 400).await;
    // An ack for an event that does not exist is ignored, not fatal.
    let ghost = hookrelay_proto::Event { seq: 99, id: "evt_ghost".into(), ..events[2].clone() };
    ack(&mut ws, &ghost, Outcome::Delivered, 200).await;

    let url = format!("{}/v1/channels/{}/events", relay.url, channel.channel);
    let states = within(async {
        loop {
            let summaries: Vec<EventSummary> = get_with_token(&url, &channel.token).await.json();
            let states: Vec<DeliveryState> = summaries.iter().map(|s| s.state).collect();
            if states[1] != DeliveryState::Pending {
                return (states, summaries);
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    let (states, summaries) = states;
    assert_eq!(states, [DeliveryState::Delivered, DeliveryState::Rejected, DeliveryState::Pending]);
    assert_eq!(summaries[1].last_result.as_ref().and_then(|r| r.status), Some(400));
    let stamp = summaries[0].last_result.as_ref().and_then(|r| r.recorded_at_ms);
    assert!(stamp.is_some_and(|t| t >= summaries[0].received_at_ms), "acks are stamped: {stamp:?}");

    let detail: EventDetail =
        get_with_token(&format!("{url}/{}", events[0].id), &channel.token).await.json();
    let statuses: Vec<Option<u16>> = detail.deliveries.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Some(422), Some(200)]);
    assert_eq!(detail.state, DeliveryState::Delivered);
    // The session survived the ghost ack.
    post(&channel.ingest_url, "after").await;
    assert_eq!(next_event(&mut ws).await.seq, 4);
    relay.stop().await;
}

#[tokio::test]
async fn last_lists_the_newest_events_oldest_first() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    for _ in 0..5 {
        post(&channel.ingest_url, "x").await;
    }
    let url = format!("{}/v1/channels/{}/events", relay.url, channel.channel);
    let last: Vec<EventSummary> =
        get_with_token(&format!("{url}?last=2"), &channel.token).await.json();
    assert_eq!(last.iter().map(|s| s.seq).collect::<Vec<_>>(), [4, 5]);
    let both = get_with_token(&format!("{url}?last=2&after=1"), &channel.token).await;
    assert_eq!((both.status, both.error_code().as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    relay.stop().await;
}

#[tokio::test]
async fn events_are_found_by_unique_id_prefix_and_ambiguity_is_409() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    // Ids are random base32: among 33 events, two share their first character.
    let mut ids: Vec<String> = Vec::new();
    for n in 0..33 {
        ids.push(post(&channel.ingest_url, n.to_string()).await.json::<IngestAck>().id);
    }
    let url = format!("{}/v1/channels/{}/events", relay.url, channel.channel);

    // The whole id without `evt_`, in any case, is a prefix of exactly one event.
    let typed = ids[1]["evt_".len()..].to_uppercase();
    let found: EventDetail = get_with_token(&format!("{url}/{typed}"), &channel.token).await.json();
    assert_eq!(found.event.id, ids[1]);

    let shared = |c: char| ids.iter().filter(|id| id["evt_".len()..].starts_with(c)).count();
    let head = ids
        .iter()
        .map(|id| id.as_bytes()["evt_".len()] as char)
        .find(|&c| shared(c) >= 2)
        .expect("pigeonhole: 33 ids, 32 first characters");
    let ambiguous = get_with_token(&format!("{url}/evt_{head}"), &channel.token).await;
    assert_eq!(
        (ambiguous.status, ambiguous.error_code().as_str()),
        (StatusCode::CONFLICT, "ambiguous_id")
    );
    let message = ambiguous.json::<serde_json::Value>()["error"]["message"].to_string();
    let first_match = ids.iter().find(|id| id["evt_".len()..].starts_with(head)).expect("one");
    assert!(message.contains(first_match.as_str()), "{message}");

    for unknown in ["evt_ZZZZ", "not*an*id"] {
        let answer = get_with_token(&format!("{url}/{unknown}"), &channel.token).await;
        assert_eq!(
            (answer.status, answer.error_code().as_str()),
            (StatusCode::NOT_FOUND, "unknown_event")
        );
    }
    relay.stop().await;
}

#[tokio::test]
async fn deliveries_made_outside_the_stream_are_recorded() {
    let relay = TestRelay::start().await;
    let channel = relay.channel().await;
    let id = post(&channel.ingest_url, "x").await.json::<IngestAck>().id;
    let url = format!("{}/v1/channels/{}/events/{id}/deliveries", relay.url, channel.channel);
    let result = DeliveryResult {
        replay: true,
        // A client's clock is not trusted: the relay stamps its own.
        recorded_at_ms: Some(1),
        ..DeliveryResult::new(Outcome::Delivered, Some(200), 5, 1)
    };
    let body = serde_json::to_vec(&result).expect("serializable");
    let auth = format!("Bearer {}", channel.token);

    let missing = http(Method::POST, &url, &[], body.clone()).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let bad = http(Method::POST, &url, &[("authorization", &auth)], "{}").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let recorded = http(Method::POST, &url, &[("authorization", &auth)], body.clone()).await;
    assert_eq!(recorded.status, StatusCode::NO_CONTENT);
    let unknown_url = url.replace(&id, "evt_ZZZZ");
    let unknown = http(Method::POST, &unknown_url, &[("authorization", &auth)], body).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let detail_url = format!("{}/v1/channels/{}/events/{id}", relay.url, channel.channel);
    let detail: EventDetail = get_with_token(&detail_url, &channel.token).await.json();
    let stamped = detail.deliveries[0].recorded_at_ms.expect("the relay stamps results");
    assert!(stamped >= detail.event.received_at_ms, "{stamped} before the event arrived");
    let recorded = DeliveryResult { recorded_at_ms: Some(stamped), ..result };
    assert_eq!((detail.state, detail.deliveries), (DeliveryState::Delivered, vec![recorded]));
    relay.stop().await;
}
