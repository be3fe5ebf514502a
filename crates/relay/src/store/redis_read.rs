//! The Redis store's reads: the plain commands that answer history, detail and stream reads,
//! on the layout of `redis_keys.rs`. Writes are Lua scripts (`redis_lua.rs`), run by
//! `redis.rs`.

use std::collections::HashMap;

use super::redis_conn::Conn;
use bytes::Bytes;
use hookrelay_proto::{
    DeliveryResult, DeliveryState, Event, EventDetail, EventSummary, Gap, GapReason, Page,
};

use super::redis_keys::{Keys, Stored, decode, store_error};
use super::{IdMatch, MAX_CANDIDATES, StoreError};

/// One `HMGET` answer: a record per field asked, `None` where there is none.
type Records = Vec<Option<Vec<u8>>>;

/// Up to `count` events of the log from `seq` on, with their bodies.
async fn read_log(
    conn: &mut Conn,
    keys: &Keys,
    seq: u64,
    count: usize,
) -> Result<Vec<Event>, StoreError> {
    type Entry = (String, HashMap<String, Vec<u8>>);
    let entries: Vec<Entry> = redis::cmd("XRANGE")
        .arg(keys.log())
        .arg(format!("{seq}-0"))
        .arg("+")
        .arg("COUNT")
        .arg(count)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    let mut events = Vec::with_capacity(entries.len());
    for (entry_id, mut fields) in entries {
        let seq = entry_id.split_once('-').and_then(|(seq, _)| seq.parse().ok());
        let (Some(seq), Some(raw), Some(body)) =
            (seq, fields.remove("event"), fields.remove("body"))
        else {
            return Err(StoreError::Backend(anyhow::anyhow!("corrupt log entry {entry_id}")));
        };
        let stored: Stored = decode(&raw)?;
        events.push(Event {
            id: stored.id,
            seq,
            received_at_ms: stored.received_at_ms,
            method: stored.method,
            path: stored.path,
            query: stored.query,
            headers: stored.headers,
            body: Bytes::from(body),
        });
    }
    Ok(events)
}

/// The stored range `first..=last` of a channel, `None` when it does not exist.
pub(super) async fn range(conn: &mut Conn, keys: &Keys) -> Result<Option<(u64, u64)>, StoreError> {
    let (first, last): (Option<u64>, Option<u64>) = redis::pipe()
        .hget(keys.meta(), "first")
        .get(keys.seq())
        .query_async(conn)
        .await
        .map_err(store_error)?;
    Ok(first.map(|first| (first, last.unwrap_or(0))))
}

pub(super) async fn seq_of(
    conn: &mut Conn,
    keys: &Keys,
    id: &str,
) -> Result<Option<u64>, StoreError> {
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(keys.ids())
        .arg(format!("[{id}:"))
        .arg(format!("({id};"))
        .arg("BYLEX")
        .query_async(conn)
        .await
        .map_err(store_error)?;
    Ok(members
        .first()
        .and_then(|member| member.rsplit_once(':'))
        .and_then(|(_, seq)| seq.parse().ok()))
}

pub(super) async fn summaries(
    conn: &mut Conn,
    channel: &str,
    page: Page,
) -> Result<Vec<EventSummary>, StoreError> {
    let keys = Keys::new(channel);
    let Some((first, last)) = range(conn, &keys).await? else {
        return Err(StoreError::UnknownChannel(channel.to_owned()));
    };
    let seqs: Vec<u64> = match page {
        Page::After { after, limit } => (first.max(after + 1)..=last).take(limit).collect(),
        Page::Last(n) => (first.max((last + 1).saturating_sub(n as u64))..=last).collect(),
    };
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let (events, results): (Records, Records) = redis::pipe()
        .cmd("HMGET")
        .arg(keys.events())
        .arg(&seqs)
        .cmd("HMGET")
        .arg(keys.results())
        .arg(&seqs)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    let mut summaries = Vec::with_capacity(seqs.len());
    for ((seq, event), result) in seqs.into_iter().zip(events).zip(results) {
        let Some(event) = event else { continue };
        let stored: Stored = decode(&event)?;
        let last_result: Option<DeliveryResult> = result.map(|raw| decode(&raw)).transpose()?;
        summaries.push(EventSummary {
            id: stored.id,
            seq,
            received_at_ms: stored.received_at_ms,
            method: stored.method,
            path: stored.path,
            query: stored.query,
            size: stored.size,
            event_type: stored.event_type,
            state: last_result.as_ref().map_or(DeliveryState::Pending, |r| r.outcome.into()),
            last_result,
        });
    }
    Ok(summaries)
}

pub(super) async fn find_event(
    conn: &mut Conn,
    channel: &str,
    prefix: &str,
) -> Result<IdMatch, StoreError> {
    let keys = Keys::new(channel);
    if range(conn, &keys).await?.is_none() {
        return Err(StoreError::UnknownChannel(channel.to_owned()));
    }
    // Members are `id:seq`; ids are alphanumeric, so `(prefix\xff` ends the range.
    let mut end = format!("({prefix}").into_bytes();
    end.push(0xff);
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(keys.ids())
        .arg(format!("[{prefix}"))
        .arg(end)
        .arg("BYLEX")
        .arg("LIMIT")
        .arg(0)
        .arg(MAX_CANDIDATES)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    let mut found = members.iter().filter_map(|member| member.rsplit_once(':'));
    Ok(match (found.next(), found.next()) {
        (None, _) => IdMatch::None,
        (Some((id, seq)), None) => IdMatch::One {
            id: id.to_owned(),
            seq: seq
                .parse()
                .map_err(|_| StoreError::Backend(anyhow::anyhow!("corrupt id index")))?,
        },
        (Some(first), Some(second)) => {
            let ids = [first, second].into_iter().chain(found);
            IdMatch::Many(ids.map(|(id, _)| id.to_owned()).collect())
        }
    })
}

pub(super) async fn detail(
    conn: &mut Conn,
    channel: &str,
    id: &str,
) -> Result<Option<EventDetail>, StoreError> {
    let keys = Keys::new(channel);
    if range(conn, &keys).await?.is_none() {
        return Err(StoreError::UnknownChannel(channel.to_owned()));
    }
    let Some(seq) = seq_of(conn, &keys, id).await? else { return Ok(None) };
    let event = read_log(conn, &keys, seq, 1).await?.pop();
    let Some(event) = event.filter(|event| event.seq == seq) else { return Ok(None) };
    let (result, deliveries): (Option<Vec<u8>>, Vec<Vec<u8>>) = redis::pipe()
        .hget(keys.results(), seq)
        .lrange(format!("{}{seq}", keys.deliveries), 0, -1)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    let state = match result {
        Some(raw) => decode::<DeliveryResult>(&raw)?.outcome.into(),
        None => DeliveryState::Pending,
    };
    let deliveries = deliveries.iter().map(|raw| decode(raw)).collect::<Result<_, _>>()?;
    Ok(Some(EventDetail { event, state, deliveries }))
}

pub(super) async fn events_after(
    conn: &mut Conn,
    channel: &str,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Vec<Event>, StoreError> {
    let keys = Keys::new(channel);
    let Some((first, last)) = range(conn, &keys).await? else {
        return Err(StoreError::UnknownChannel(channel.to_owned()));
    };
    let seqs: Vec<u64> = (first.max(after + 1)..=last).take(limit).collect();
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    // The sizes first, so that bodies past the budget are never fetched.
    let stored: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
        .arg(keys.events())
        .arg(&seqs)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    let (mut count, mut bytes) = (0, 0);
    for raw in stored.iter().flatten() {
        let size = decode::<Stored>(raw)?.size as usize;
        if count > 0 && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        count += 1;
    }
    read_log(conn, &keys, seqs[0], count.max(1)).await
}

pub(super) async fn expired(
    conn: &mut Conn,
    channel: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Gap>, StoreError> {
    let keys = Keys::new(channel);
    if range(conn, &keys).await?.is_none() {
        return Err(StoreError::UnknownChannel(channel.to_owned()));
    }
    let runs: Vec<String> = redis::cmd("LRANGE")
        .arg(keys.expired())
        .arg(0)
        .arg(-1)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    let runs = runs.iter().filter_map(|run| {
        let (from_seq, to_seq) = run.split_once(' ')?;
        Some(Gap {
            from_seq: from_seq.parse().ok()?,
            to_seq: to_seq.parse().ok()?,
            reason: GapReason::Expired,
        })
    });
    Ok(runs.filter(|run| run.to_seq >= from && run.from_seq <= to).collect())
}

/// See `Store::resume_point`: unfinished events are the members of `hr:{CH}:pending`.
pub(super) async fn resume_point(
    conn: &mut Conn,
    channel: &str,
    after: u64,
) -> Result<u64, StoreError> {
    let keys = Keys::new(channel);
    let Some((first, last)) = range(conn, &keys).await? else {
        return Err(StoreError::UnknownChannel(channel.to_owned()));
    };
    if after + 1 < first || after >= last {
        return Ok(after);
    }
    let unfinished: Vec<u64> = redis::cmd("ZRANGE")
        .arg(keys.pending())
        .arg(format!("({after}"))
        .arg("+inf")
        .arg("BYSCORE")
        .arg("LIMIT")
        .arg(0)
        .arg(1)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    Ok(unfinished.first().map_or(last, |seq| seq - 1))
}
