//! `GET /v1/channels/{channel}/events[/{id}]`: order, paging, auth, delivery state.

use hookrelay_proto::{DeliveryState, EventDetail, EventSummary, IngestAck};
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
            (StatusCode::UNAUTHORIZED, "wrong_token")
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
