//! One behaviour suite run against every `Store` implementation, so memory, SQLite and
//! Redis keep the same semantics. The Redis runs each start their own `redis-server`.
//! What only one store does is tested beside it (`sqlite_tests`, `redis_tests`,
//! `redis_cluster_tests`), with the helpers here.

use std::sync::Arc;

use bytes::Bytes;
use hookrelay_proto::{DeliveryResult, DeliveryState, Gap, GapReason, Outcome, Page};

use super::{IdMatch, MemoryStore, NewEvent, RedisStore, SqliteStore, Store, StoreError};
use crate::config::Retention;
use crate::ids::hash_token;

pub(super) fn after(after: u64, limit: usize) -> Page {
    Page::After { after, limit }
}

pub(super) fn retention(max_events: u64) -> Retention {
    Retention { max_events, ..Retention::default() }
}

/// Retention with a byte quota of 25 (two 10-byte bodies fit, three do not).
fn quota() -> Retention {
    Retention { max_channel_bytes: 25, ..Retention::default() }
}

async fn stored_seqs(store: &dyn Store, channel: &str) -> Vec<u64> {
    let summaries = store.summaries(channel, after(0, 1000)).await.expect("read");
    summaries.iter().map(|summary| summary.seq).collect()
}

async fn finish(store: &dyn Store, channel: &str, seq: u64) {
    let id = format!("evt_{seq}");
    let recorded = store.record_delivery(channel, seq, &id, result(Outcome::Delivered, 200));
    assert!(recorded.await.expect("ack"), "event {seq} acknowledged");
}

pub(super) fn event(n: u64, body: &'static [u8]) -> NewEvent {
    NewEvent {
        id: format!("evt_{n}"),
        received_at_ms: 1_000 + n as i64,
        method: "POST".into(),
        path: format!("/p/{n}"),
        query: n.is_multiple_of(2).then(|| "a=1&a=2".to_owned()),
        headers: vec![("x-dup".into(), "1".into()), ("x-dup".into(), "2".into())],
        body: Bytes::from_static(body),
        event_type: (n == 1).then(|| "invoice.paid".to_owned()),
    }
}

pub(super) fn result(outcome: Outcome, status: u16) -> DeliveryResult {
    DeliveryResult::new(outcome, Some(status), 3, 1)
}

pub(super) async fn with_channel(store: &dyn Store, id: &str) {
    store.create_channel(id, hash_token("t")).await.expect("create");
}

async fn appends_number_events_per_channel(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    with_channel(store.as_ref(), "b").await;
    assert_eq!(store.append("a", event(1, b"x")).await.expect("append"), 1);
    assert_eq!(store.append("a", event(2, b"y")).await.expect("append"), 2);
    assert_eq!(store.append("b", event(3, b"z")).await.expect("append"), 1);
    let info = store.channel("a").await.expect("read").expect("exists");
    assert_eq!((info.last_seq, info.token_hash), (2, hash_token("t")));
    assert!(matches!(
        store.append("nope", event(4, b"")).await,
        Err(StoreError::UnknownChannel(_))
    ));
}

async fn events_round_trip_exactly(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    let binary: &'static [u8] = &[0, 159, 255, 0, b'{'];
    store.append("a", event(1, binary)).await.expect("append");
    store.append("a", event(2, b"")).await.expect("append");
    let events = store.events_after("a", 0, 10, usize::MAX).await.expect("read");
    assert_eq!(events, vec![event(1, binary).into_event(1), event(2, b"").into_event(2)]);
    assert_eq!(store.events_after("a", 1, 10, usize::MAX).await.expect("read").len(), 1);

    // Big bodies take another path into and out of SQLite.
    let big: Vec<u8> = (0..300_000u32).map(|n| (n % 253) as u8).collect();
    let big_event = NewEvent { body: Bytes::from(big), ..event(3, b"") };
    store.append("a", big_event.clone()).await.expect("append");
    let read = store.events_after("a", 2, 10, usize::MAX).await.expect("read");
    assert_eq!(read, vec![big_event.clone().into_event(3)]);
    let detail = store.detail("a", "evt_3").await.expect("read").expect("found");
    assert_eq!(detail.event, big_event.into_event(3));
    assert_eq!(store.events_after("a", 0, 1, usize::MAX).await.expect("read").len(), 1);
}

async fn events_after_respects_the_byte_budget_but_returns_one(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=3 {
        store.append("a", event(n, b"0123456789")).await.expect("append");
    }
    assert_eq!(store.events_after("a", 0, 10, 5).await.expect("read").len(), 1);
    assert_eq!(store.events_after("a", 0, 10, 25).await.expect("read").len(), 2);
}

async fn last_pages_and_id_prefixes_find_events(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for (n, id) in [(1, "evt_01AAA"), (2, "evt_01AAB"), (3, "evt_01BBB")] {
        store.append("a", NewEvent { id: id.into(), ..event(n, b"x") }).await.expect("append");
    }
    let last: Vec<u64> =
        store.summaries("a", Page::Last(2)).await.expect("read").iter().map(|s| s.seq).collect();
    assert_eq!(last, [2, 3]);
    assert_eq!(store.summaries("a", Page::Last(10)).await.expect("read").len(), 3);

    let one = IdMatch::One { id: "evt_01BBB".into(), seq: 3 };
    assert_eq!(store.find_event("a", "evt_01B").await.expect("find"), one);
    assert_eq!(store.find_event("a", "evt_01BBB").await.expect("find"), one);
    assert_eq!(store.find_event("a", "evt_01C").await.expect("find"), IdMatch::None);
    let many = IdMatch::Many(vec!["evt_01AAA".into(), "evt_01AAB".into()]);
    assert_eq!(store.find_event("a", "evt_01AA").await.expect("find"), many);
}

async fn tokens_can_be_replaced(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    assert!(store.set_token("a", hash_token("u")).await.expect("set"));
    assert_eq!(
        store.channel("a").await.expect("read").expect("exists").token_hash,
        hash_token("u")
    );
    assert!(!store.set_token("nope", hash_token("u")).await.expect("no channel"));
}

async fn create_refuses_taken_ids(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    let again = store.create_channel("a", hash_token("u")).await;
    assert!(matches!(again, Err(StoreError::ChannelExists(_))), "{again:?}");
}

async fn deliveries_set_state_and_keep_history(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    store.append("a", event(1, b"x")).await.expect("append");
    let summary = &store.summaries("a", after(0, 10)).await.expect("read")[0];
    assert_eq!((summary.state, summary.last_result.clone()), (DeliveryState::Pending, None));

    assert!(
        store.record_delivery("a", 1, "evt_1", result(Outcome::Rejected, 422)).await.expect("ack")
    );
    assert!(
        store.record_delivery("a", 1, "evt_1", result(Outcome::Delivered, 200)).await.expect("ack")
    );
    assert!(
        !store
            .record_delivery("a", 1, "evt_other", result(Outcome::Delivered, 200))
            .await
            .expect("ack")
    );
    assert!(
        !store
            .record_delivery("a", 9, "evt_1", result(Outcome::Delivered, 200))
            .await
            .expect("ack")
    );

    let summary = &store.summaries("a", after(0, 10)).await.expect("read")[0];
    assert_eq!(summary.state, DeliveryState::Delivered);
    assert_eq!(summary.last_result, Some(result(Outcome::Delivered, 200)));
    assert_eq!((summary.size, summary.path.as_str()), (1, "/p/1"));
    assert_eq!(summary.event_type.as_deref(), Some("invoice.paid"));
    let detail = store.detail("a", "evt_1").await.expect("read").expect("found");
    assert_eq!(detail.event, event(1, b"x").into_event(1));
    assert_eq!(
        detail.deliveries,
        vec![result(Outcome::Rejected, 422), result(Outcome::Delivered, 200)]
    );
    assert!(store.detail("a", "evt_404").await.expect("read").is_none());
}

async fn attempts_are_history_and_leave_the_event_pending(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=3 {
        store.append("a", event(n, b"x")).await.expect("append");
    }
    let retried = DeliveryResult { will_retry: true, ..result(Outcome::Failed, 500) };
    assert!(store.record_delivery("a", 1, "evt_1", retried.clone()).await.expect("attempt"));
    assert!(!store.record_delivery("a", 1, "evt_9", retried.clone()).await.expect("wrong id"));
    let summary = &store.summaries("a", after(0, 10)).await.expect("read")[0];
    assert_eq!((summary.state, summary.last_result.clone()), (DeliveryState::Pending, None));
    // Still unfinished: count retention (max 2) keeps it and everything after it.
    store.append("a", event(4, b"x")).await.expect("append");
    assert_eq!(stored_seqs(store.as_ref(), "a").await, vec![1, 2, 3, 4]);
    // The outcome follows the attempt in the event's history.
    assert!(
        store.record_delivery("a", 1, "evt_1", result(Outcome::Failed, 500)).await.expect("ack")
    );
    let detail = store.detail("a", "evt_1").await.expect("read").expect("found");
    assert_eq!(detail.state, DeliveryState::Failed);
    assert_eq!(detail.deliveries, vec![retried, result(Outcome::Failed, 500)]);
}

async fn attempts_kept_per_event_are_bounded_and_outcomes_always_kept(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    store.append("a", event(1, b"x")).await.expect("append");
    let retried = DeliveryResult { will_retry: true, ..result(Outcome::Failed, 500) };
    for _ in 0..super::MAX_ATTEMPTS_KEPT + 5 {
        assert!(store.record_delivery("a", 1, "evt_1", retried.clone()).await.expect("attempt"));
    }
    assert!(
        store.record_delivery("a", 1, "evt_1", result(Outcome::Delivered, 200)).await.expect("ack")
    );
    let detail = store.detail("a", "evt_1").await.expect("read").expect("found");
    assert_eq!(detail.deliveries.len() as u64, super::MAX_ATTEMPTS_KEPT + 1);
    assert_eq!(detail.state, DeliveryState::Delivered);
}

async fn count_retention_drops_the_oldest_finished_and_seq_keeps_growing(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=5 {
        store.append("a", event(n, b"x")).await.expect("append");
        finish(store.as_ref(), "a", n).await;
    }
    store.append("a", event(6, b"x")).await.expect("append");
    assert_eq!(stored_seqs(store.as_ref(), "a").await, vec![5, 6]);
    assert_eq!(store.events_after("a", 0, 10, usize::MAX).await.expect("read")[0].seq, 5);
    assert_eq!(store.channel("a").await.expect("read").expect("exists").last_seq, 6);
}

async fn count_retention_never_removes_an_undelivered_event(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=120 {
        store.append("a", event(n, b"x")).await.expect("append");
    }
    assert_eq!(stored_seqs(store.as_ref(), "a").await, (1..=120).collect::<Vec<_>>());
    // Finished out of order: only the finished prefix may go, not event 3 past pending 2.
    finish(store.as_ref(), "a", 1).await;
    finish(store.as_ref(), "a", 3).await;
    store.append("a", event(121, b"x")).await.expect("append");
    assert_eq!(stored_seqs(store.as_ref(), "a").await, (2..=121).collect::<Vec<_>>());
    for n in 2..=121 {
        finish(store.as_ref(), "a", n).await;
    }
    store.append("a", event(122, b"x")).await.expect("append");
    assert_eq!(stored_seqs(store.as_ref(), "a").await, vec![121, 122]);
}

async fn count_retention_keeps_at_most_one_percent_extra(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=450 {
        store.append("a", event(n, b"x")).await.expect("append");
        finish(store.as_ref(), "a", n).await;
        let kept = store.summaries("a", after(0, 1000)).await.expect("read");
        let expected_newest = n.min(200) as usize;
        assert!(kept.len() >= expected_newest && kept.len() <= 201, "{n}: {} kept", kept.len());
        assert_eq!(kept.last().map(|s| s.seq), Some(n));
    }
}

async fn a_full_channel_refuses_until_events_are_finished(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    with_channel(store.as_ref(), "b").await;
    store.append("a", event(1, b"0123456789")).await.expect("append");
    store.append("a", event(2, b"0123456789")).await.expect("append");
    let full = store.append("a", event(3, b"0123456789")).await;
    assert!(matches!(full, Err(StoreError::ChannelFull { limit: 25, .. })), "{full:?}");
    assert_eq!(stored_seqs(store.as_ref(), "a").await, vec![1, 2], "nothing pushed out");
    // Other channels have their own quota.
    assert_eq!(store.append("b", event(1, b"0123456789")).await.expect("append"), 1);
    // A finished event makes room; the refused append used no seq.
    finish(store.as_ref(), "a", 1).await;
    assert_eq!(store.append("a", event(3, b"0123456789")).await.expect("append"), 3);
    assert_eq!(stored_seqs(store.as_ref(), "a").await, vec![2, 3]);
    // Small events still fit beside the big ones.
    assert_eq!(store.append("a", event(4, b"12345")).await.expect("append"), 4);
}

async fn age_retention_expires_old_events_and_records_undelivered_runs(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=6 {
        store.append("a", event(n, b"x")).await.expect("append");
    }
    finish(store.as_ref(), "a", 2).await;
    finish(store.as_ref(), "a", 4).await;
    assert_eq!(store.expire_before(1_006).await.expect("expire"), 5);
    assert_eq!(stored_seqs(store.as_ref(), "a").await, vec![6]);
    let expired = |from_seq, to_seq| Gap { from_seq, to_seq, reason: GapReason::Expired };
    let runs = vec![expired(1, 1), expired(3, 3), expired(5, 5)];
    assert_eq!(store.expired("a", 1, 100).await.expect("read"), runs);
    assert_eq!(store.expired("a", 2, 4).await.expect("read"), vec![expired(3, 3)]);
    assert!(store.expired("a", 6, 100).await.expect("read").is_empty());
    assert_eq!(store.append("a", event(7, b"x")).await.expect("append"), 7);
    // Deleting the channel forgets them.
    store.delete_channel("a").await.expect("delete");
    assert!(matches!(store.expired("a", 1, 100).await, Err(StoreError::UnknownChannel(_))));
}

async fn delete_removes_the_channel_and_its_history(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    store.append("a", event(1, b"x")).await.expect("append");
    assert!(store.delete_channel("a").await.expect("delete"));
    assert!(!store.delete_channel("a").await.expect("delete"));
    assert!(store.channel("a").await.expect("read").is_none());
    assert!(matches!(store.summaries("a", after(0, 10)).await, Err(StoreError::UnknownChannel(_))));
    assert!(store.detail("a", "evt_1").await.is_err());
    // The id stays taken for good: an old ingest URL must never feed a new owner.
    assert!(store.deleted("a").await.expect("read"));
    assert!(!store.deleted("b").await.expect("read"));
    let again = store.create_channel("a", hash_token("t")).await;
    assert!(matches!(again, Err(StoreError::ChannelExists(_))), "{again:?}");
}

async fn concurrent_appends_get_unique_contiguous_seqs(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    let seqs = append_concurrently(&[store], 200).await;
    assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
}

/// `count` appends to channel `a` at once, spread over `stores` in turn; their seqs, sorted.
pub(super) async fn append_concurrently<S: Store + ?Sized + 'static>(
    stores: &[Arc<S>],
    count: u64,
) -> Vec<u64> {
    let tasks: Vec<_> = (0..count)
        .map(|n| {
            let store = stores[n as usize % stores.len()].clone();
            tokio::spawn(async move { store.append("a", event(n, b"x")).await.expect("append") })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.expect("task"));
    }
    seqs.sort_unstable();
    seqs
}

async fn resume_points_skip_finished_events_up_to_the_first_unfinished(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    assert_eq!(store.resume_point("a", 0).await.expect("empty"), 0);
    for n in 1..=6 {
        store.append("a", event(n, b"x")).await.expect("append");
    }
    for seq in [1, 2, 4, 6] {
        finish(store.as_ref(), "a", seq).await;
    }
    // An attempt that will be retried does not finish event 3.
    let attempt = DeliveryResult { will_retry: true, ..result(Outcome::Failed, 503) };
    assert!(store.record_delivery("a", 3, "evt_3", attempt).await.expect("attempt"));
    let resume = |after| {
        let store = store.clone();
        async move { store.resume_point("a", after).await.expect("resume") }
    };
    assert_eq!(resume(0).await, 2, "1 and 2 are finished, 3 is not");
    assert_eq!(resume(2).await, 2);
    assert_eq!(resume(3).await, 4, "4 is finished, 5 is not");
    assert_eq!(resume(5).await, 6, "everything after 5 is finished");
    assert_eq!(resume(6).await, 6);
    assert_eq!(resume(9).await, 9, "past the end: unchanged");
    finish(store.as_ref(), "a", 3).await;
    assert_eq!(resume(0).await, 4);
    assert!(matches!(store.resume_point("nope", 0).await, Err(StoreError::UnknownChannel(_))));
}

async fn resume_points_stop_at_a_hole_in_history(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    for n in 1..=4 {
        store.append("a", event(n, b"x")).await.expect("append");
    }
    // Age retention removes 1 and 2 unfinished; 3 is finished: a client at 0 must still
    // hear of the expired events, so its cursor stays put.
    finish(store.as_ref(), "a", 3).await;
    assert_eq!(store.expire_before(1_003).await.expect("expire"), 2);
    assert_eq!(store.resume_point("a", 0).await.expect("resume"), 0);
    assert_eq!(store.resume_point("a", 2).await.expect("resume"), 3);
}

async fn closed_store_refuses_writes(store: Arc<dyn Store>) {
    with_channel(store.as_ref(), "a").await;
    store.close().await;
    assert!(matches!(store.append("a", event(1, b"x")).await, Err(StoreError::Closed)));
}

macro_rules! suite {
    ($($test:ident: $retention:expr),* $(,)?) => {
        mod memory {
            use super::{quota, retention};
            $(#[tokio::test]
            async fn $test() {
                let store = super::MemoryStore::new($retention);
                super::$test(std::sync::Arc::new(store)).await;
            })*
        }
        mod sqlite {
            use super::{quota, retention};
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("relay.sqlite3");
                let store = super::SqliteStore::open(&path, false, $retention)
                    .expect("open");
                super::$test(std::sync::Arc::new(store)).await;
            })*
        }
        mod redis {
            use super::{quota, retention};
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let server = hookrelay_test_redis::RedisServer::start();
                let store = super::RedisStore::open(&server.url, false, $retention)
                    .await
                    .expect("open");
                super::$test(std::sync::Arc::new(store)).await;
            })*
        }
        mod redis_cluster {
            use super::{quota, retention};
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let cluster = hookrelay_test_redis::RedisCluster::start();
                let store = super::RedisStore::open(&cluster.url, false, $retention)
                    .await
                    .expect("open");
                super::$test(std::sync::Arc::new(store)).await;
            })*
        }
    };
}

suite! {
    appends_number_events_per_channel: retention(100),
    events_round_trip_exactly: retention(100),
    events_after_respects_the_byte_budget_but_returns_one: retention(100),
    create_refuses_taken_ids: retention(100),
    tokens_can_be_replaced: retention(100),
    last_pages_and_id_prefixes_find_events: retention(100),
    deliveries_set_state_and_keep_history: retention(100),
    count_retention_drops_the_oldest_finished_and_seq_keeps_growing: retention(2),
    count_retention_never_removes_an_undelivered_event: retention(2),
    attempts_are_history_and_leave_the_event_pending: retention(2),
    attempts_kept_per_event_are_bounded_and_outcomes_always_kept: retention(100),
    count_retention_keeps_at_most_one_percent_extra: retention(200),
    a_full_channel_refuses_until_events_are_finished: quota(),
    age_retention_expires_old_events_and_records_undelivered_runs: retention(100),
    delete_removes_the_channel_and_its_history: retention(100),
    concurrent_appends_get_unique_contiguous_seqs: retention(1000),
    closed_store_refuses_writes: retention(100),
    resume_points_skip_finished_events_up_to_the_first_unfinished: retention(100),
    resume_points_stop_at_a_hole_in_history: retention(100),
}
