//! The SQLite store beyond the shared conformance suite: what a restart keeps, big
//! channels removed in chunks, upgrades of files made by older relays, one process per file.

use hookrelay_proto::{DeliveryState, Gap, GapReason, Outcome};

use super::conformance::{after, event, result, retention, with_channel};
use super::{IdMatch, SqliteStore, Store as _, StoreError};
use crate::ids::hash_token;

/// A path for a store file in a fresh temporary directory (removed when the guard drops).
fn store_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("relay.sqlite3");
    (dir, path)
}

#[tokio::test]
async fn sqlite_reopens_with_channels_events_and_seqs() {
    let (_dir, path) = store_file();
    let store = SqliteStore::open(&path, true, retention(100)).expect("open");
    with_channel(&store, "a").await;
    store.append("a", event(1, b"x")).await.expect("append");
    store.record_delivery("a", 1, "evt_1", result(Outcome::Delivered, 200)).await.expect("ack");
    store.close().await;

    let store = SqliteStore::open(&path, false, retention(100)).expect("reopen");
    assert_eq!(store.channel("a").await.expect("read").expect("kept").last_seq, 1);
    assert_eq!(store.append("a", event(2, b"y")).await.expect("append"), 2);
    let detail = store.detail("a", "evt_1").await.expect("read").expect("kept");
    assert_eq!(detail.state, DeliveryState::Delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_deletes_and_expires_big_channels_in_chunks_leaving_nothing_behind() {
    let (_dir, path) = store_file();
    let store = SqliteStore::open(&path, false, retention(100_000)).expect("open");
    let rows = |conn: &rusqlite::Connection, channel: &str| -> i64 {
        conn.query_row("SELECT COUNT(*) FROM events WHERE channel = ?1", [channel], |row| {
            row.get(0)
        })
        .expect("count")
    };
    for channel in ["big", "old"] {
        with_channel(&store, channel).await;
        for n in 1..=2_500 {
            store.append(channel, event(n, b"x")).await.expect("append");
        }
    }
    assert!(store.delete_channel("big").await.expect("delete"));
    // 2,500 events in chunks of 1,000, each its own commit; the expired run stays one.
    assert_eq!(store.expire_before(i64::MAX).await.expect("expire"), 2_500);
    let expired = Gap { from_seq: 1, to_seq: 2_500, reason: GapReason::Expired };
    assert_eq!(store.expired("old", 1, 10_000).await.expect("read"), vec![expired]);
    store.close().await;
    let conn = rusqlite::Connection::open(&path).expect("open");
    assert_eq!((rows(&conn, "big"), rows(&conn, "old")), (0, 0));
}

#[tokio::test]
async fn sqlite_keeps_deleted_ids_taken_after_a_restart() {
    let (_dir, path) = store_file();
    let store = SqliteStore::open(&path, false, retention(100)).expect("open");
    with_channel(&store, "a").await;
    assert!(store.delete_channel("a").await.expect("delete"));
    store.close().await;
    let store = SqliteStore::open(&path, false, retention(100)).expect("reopen");
    assert!(store.deleted("a").await.expect("read"));
    let again = store.create_channel("a", hash_token("t")).await;
    assert!(matches!(again, Err(StoreError::ChannelExists(_))), "{again:?}");
}

#[tokio::test]
async fn sqlite_keeps_seqs_growing_after_every_event_expired_and_a_restart() {
    let (_dir, path) = store_file();
    let store = SqliteStore::open(&path, false, retention(100)).expect("open");
    with_channel(&store, "a").await;
    for n in 1..=3 {
        store.append("a", event(n, b"x")).await.expect("append");
    }
    assert_eq!(store.expire_before(i64::MAX).await.expect("expire"), 3);
    store.close().await;

    let store = SqliteStore::open(&path, false, retention(100)).expect("reopen");
    assert_eq!(store.channel("a").await.expect("read").expect("kept").last_seq, 3);
    assert_eq!(store.append("a", event(4, b"y")).await.expect("append"), 4);
}

#[tokio::test]
async fn sqlite_upgrades_a_store_made_before_event_types() {
    let (_dir, path) = store_file();
    let old = rusqlite::Connection::open(&path).expect("create");
    old.execute_batch(
        "CREATE TABLE events (channel TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
         received_at_ms INTEGER NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, query TEXT,
         headers TEXT NOT NULL, size INTEGER NOT NULL, last_result TEXT, body BLOB NOT NULL,
         UNIQUE (channel, seq))",
    )
    .expect("old schema");
    drop(old);
    let store = SqliteStore::open(&path, false, retention(100)).expect("open upgrades");
    with_channel(&store, "a").await;
    store.append("a", event(1, b"{}")).await.expect("append");
    let summaries = store.summaries("a", after(0, 10)).await.expect("read");
    assert_eq!(summaries[0].event_type.as_deref(), Some("invoice.paid"));
}

#[tokio::test]
async fn sqlite_drops_the_index_sorted_by_id_and_still_finds_ids() {
    let (_dir, path) = store_file();
    let store = SqliteStore::open(&path, false, retention(100)).expect("open");
    with_channel(&store, "a").await;
    for n in 1..=3 {
        store.append("a", event(n, b"{}")).await.expect("append");
    }
    store.close().await;
    // The index relays before this one kept.
    let old = rusqlite::Connection::open(&path).expect("open file");
    old.execute_batch("CREATE INDEX events_by_id ON events (channel, id)").expect("old index");
    drop(old);

    let store = SqliteStore::open(&path, false, retention(100)).expect("reopen upgrades");
    let one = IdMatch::One { id: "evt_2".into(), seq: 2 };
    assert_eq!(store.find_event("a", "evt_2").await.expect("find"), one);
    assert_eq!(store.detail("a", "evt_3").await.expect("read").expect("found").event.seq, 3);
    store.close().await;
    let file = rusqlite::Connection::open(&path).expect("open file");
    let mut indexes = file
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
        .expect("prepare");
    let names: Vec<String> = indexes
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    assert_eq!(names, ["sqlite_autoindex_events_1", "events_ids"]);
}

#[tokio::test]
async fn sqlite_refuses_a_second_open_of_the_same_file_until_the_first_is_closed() {
    let (_dir, path) = store_file();
    let first = SqliteStore::open(&path, false, retention(100)).expect("open");
    let err = SqliteStore::open(&path, false, retention(100)).err().expect("refused");
    let message = format!("{err:#}");
    let holder = format!(" (pid {}): stop it", std::process::id());
    assert!(message.contains("in use by the running ") && message.contains(&holder), "{message}");
    assert!(message.contains("--data-dir"), "says what to do: {message}");
    first.close().await;
    let again = SqliteStore::open(&path, false, retention(100)).expect("free after close");
    again.close().await;
}
