//! `RedisStore`: channels, events, delivery records and tombstones in Redis (DESIGN §7),
//! so that several relays share them. Layout, one hash tag per channel (`Keys`); every
//! write is one Lua script (`redis_lua.rs`), reads are plain commands. An append is acked
//! only once Redis has it on disk (`redis_durability.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use async_trait::async_trait;
use bytes::Bytes;
use hookrelay_proto::{
    DeliveryResult, DeliveryState, Event, EventDetail, EventSummary, Gap, GapReason, Header, Page,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

use super::redis_durability::Durability;
use super::redis_lua::Scripts;
use super::{ChannelInfo, IdMatch, MAX_ATTEMPTS_KEPT, MAX_CANDIDATES, NewEvent, Store, StoreError};
use crate::config::Retention;
use crate::ids::TokenHash;

/// The set of live channel ids (age retention walks it).
const CHANNELS: &str = "hr:channels";
/// Longest wait for an answer from Redis (a 25 MiB body included).
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Longest wait to (re)connect to Redis.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The keys of one channel, all under the hash tag `{CH}`.
struct Keys {
    all: [String; 11],
    deliveries: String,
}

impl Keys {
    fn new(channel: &str) -> Self {
        let key = |name: &str| format!("hr:{{{channel}}}:{name}");
        let names =
            ["meta", "seq", "log", "events", "results", "pending", "ids", "times", "attempts"];
        let [a, b, c, d, e, f, g, h, i] = names.map(key);
        Self {
            all: [a, b, c, d, e, f, g, h, i, key("expired"), key("deleted")],
            deliveries: key("d:"),
        }
    }
    fn meta(&self) -> &str {
        &self.all[0]
    }
    fn seq(&self) -> &str {
        &self.all[1]
    }
    fn log(&self) -> &str {
        &self.all[2]
    }
    fn events(&self) -> &str {
        &self.all[3]
    }
    fn results(&self) -> &str {
        &self.all[4]
    }
    fn ids(&self) -> &str {
        &self.all[6]
    }
    fn expired(&self) -> &str {
        &self.all[9]
    }
    fn tomb(&self) -> &str {
        &self.all[10]
    }
}

/// What `hr:{CH}:events` and the `event` field of a log entry hold (the body is beside it).
#[derive(Serialize, Deserialize)]
struct Stored {
    id: String,
    received_at_ms: i64,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<Header>,
    size: u64,
    event_type: Option<String>,
}

/// The Redis-backed store.
pub(crate) struct RedisStore {
    conn: ConnectionManager,
    scripts: Scripts,
    retention: Retention,
    durability: Durability,
    closed: AtomicBool,
}

fn backend(err: redis::RedisError) -> StoreError {
    StoreError::Backend(anyhow::Error::new(err).context("redis failed"))
}

fn decode<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(raw)
        .map_err(|err| StoreError::Backend(anyhow::anyhow!("corrupt record in redis: {err}")))
}

impl RedisStore {
    /// Connects to `url` (`redis://` or `rediss://`), checks that an acked write survives a
    /// crash of Redis (unless `accept_unsafe`), and loads the scripts.
    pub(crate) async fn open(
        url: &str,
        accept_unsafe: bool,
        retention: Retention,
    ) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| format!("invalid redis url {url}"))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT));
        let mut conn = ConnectionManager::new_with_config(client, config)
            .await
            .with_context(|| format!("could not connect to redis at {url}"))?;
        let durability = Durability::check(&mut conn, accept_unsafe).await?;
        Ok(Self {
            conn,
            scripts: Scripts::new(),
            retention,
            durability,
            closed: AtomicBool::new(false),
        })
    }

    /// A connection, or `Closed` after `close`.
    fn conn(&self) -> Result<ConnectionManager, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        Ok(self.conn.clone())
    }

    /// Runs a write script on `channel`'s keys with `args` after the deliveries prefix, and
    /// waits until the write is durable.
    async fn write(
        &self,
        script: &redis::Script,
        channel: &str,
        args: &[&[u8]],
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(channel);
        let mut call = script.prepare_invoke();
        for key in &keys.all {
            call.key(key);
        }
        call.arg(&keys.deliveries);
        for arg in args {
            call.arg(*arg);
        }
        let answer: i64 = call.invoke_async(&mut conn).await.map_err(backend)?;
        self.durability.wait(&mut conn).await.map_err(backend)?;
        Ok(answer)
    }

    /// The stored range `first..=last` of a channel, `None` when it does not exist.
    async fn range(
        &self,
        conn: &mut ConnectionManager,
        keys: &Keys,
    ) -> Result<Option<(u64, u64)>, StoreError> {
        let (first, last): (Option<u64>, Option<u64>) = redis::pipe()
            .hget(keys.meta(), "first")
            .get(keys.seq())
            .query_async(conn)
            .await
            .map_err(backend)?;
        Ok(first.map(|first| (first, last.unwrap_or(0))))
    }

    async fn seq_of(
        &self,
        conn: &mut ConnectionManager,
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
            .map_err(backend)?;
        Ok(members
            .first()
            .and_then(|member| member.rsplit_once(':'))
            .and_then(|(_, seq)| seq.parse().ok()))
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn create_channel(&self, id: &str, token_hash: TokenHash) -> Result<(), StoreError> {
        let created =
            self.write(&self.scripts.create, id, &[hex::encode(token_hash).as_bytes()]).await?;
        if created == 0 {
            return Err(StoreError::ChannelExists(id.to_owned()));
        }
        let mut conn = self.conn()?;
        redis::cmd("SADD").arg(CHANNELS).arg(id).exec_async(&mut conn).await.map_err(backend)
    }

    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(id);
        let (token, last): (Option<String>, Option<u64>) = redis::pipe()
            .hget(keys.meta(), "token")
            .get(keys.seq())
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let Some(token) = token else { return Ok(None) };
        let token_hash = hex::decode(token)
            .ok()
            .and_then(|bytes| TokenHash::try_from(bytes).ok())
            .ok_or_else(|| StoreError::Backend(anyhow::anyhow!("corrupt token hash for {id}")))?;
        Ok(Some(ChannelInfo { id: id.to_owned(), token_hash, last_seq: last.unwrap_or(0) }))
    }

    async fn set_token(&self, id: &str, token_hash: TokenHash) -> Result<bool, StoreError> {
        let hex = hex::encode(token_hash);
        Ok(self.write(&self.scripts.set_token, id, &[hex.as_bytes()]).await? == 1)
    }

    async fn deleted(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let exists: bool = redis::cmd("EXISTS")
            .arg(Keys::new(id).tomb())
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        Ok(exists)
    }

    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self.write(&self.scripts.delete, id, &[]).await? == 1;
        let mut conn = self.conn()?;
        redis::cmd("SREM").arg(CHANNELS).arg(id).exec_async(&mut conn).await.map_err(backend)?;
        Ok(deleted)
    }

    async fn append(&self, channel: &str, event: NewEvent) -> Result<u64, StoreError> {
        let stored = Stored {
            id: event.id.clone(),
            received_at_ms: event.received_at_ms,
            method: event.method,
            path: event.path,
            query: event.query,
            headers: event.headers,
            size: event.body.len() as u64,
            event_type: event.event_type,
        };
        let json = serde_json::to_vec(&stored).expect("an event's fields always serialize");
        let limit = self.retention.max_channel_bytes;
        let numbers = [stored.size, limit, self.retention.max_events].map(|n| n.to_string());
        let received = event.received_at_ms.to_string();
        let args: [&[u8]; 7] = [
            &json,
            &event.body,
            numbers[0].as_bytes(),
            numbers[1].as_bytes(),
            numbers[2].as_bytes(),
            event.id.as_bytes(),
            received.as_bytes(),
        ];
        match self.write(&self.scripts.append, channel, &args).await? {
            -1 => Err(StoreError::UnknownChannel(channel.to_owned())),
            -2 => Err(StoreError::ChannelFull { channel: channel.to_owned(), limit }),
            seq => Ok(seq as u64),
        }
    }

    async fn summaries(&self, channel: &str, page: Page) -> Result<Vec<EventSummary>, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(channel);
        let Some((first, last)) = self.range(&mut conn, &keys).await? else {
            return Err(StoreError::UnknownChannel(channel.to_owned()));
        };
        let seqs: Vec<u64> = match page {
            Page::After { after, limit } => (first.max(after + 1)..=last).take(limit).collect(),
            Page::Last(n) => (first.max((last + 1).saturating_sub(n as u64))..=last).collect(),
        };
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let (events, results): (Vec<Option<Vec<u8>>>, Vec<Option<Vec<u8>>>) = redis::pipe()
            .cmd("HMGET")
            .arg(keys.events())
            .arg(&seqs)
            .cmd("HMGET")
            .arg(keys.results())
            .arg(&seqs)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
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

    async fn find_event(&self, channel: &str, prefix: &str) -> Result<IdMatch, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(channel);
        if self.range(&mut conn, &keys).await?.is_none() {
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
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
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

    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(channel);
        if self.range(&mut conn, &keys).await?.is_none() {
            return Err(StoreError::UnknownChannel(channel.to_owned()));
        }
        let Some(seq) = self.seq_of(&mut conn, &keys, id).await? else { return Ok(None) };
        let event = read_log(&mut conn, &keys, seq, 1).await?.pop();
        let Some(event) = event.filter(|event| event.seq == seq) else { return Ok(None) };
        let (result, deliveries): (Option<Vec<u8>>, Vec<Vec<u8>>) = redis::pipe()
            .hget(keys.results(), seq)
            .lrange(format!("{}{seq}", keys.deliveries), 0, -1)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let state = match result {
            Some(raw) => decode::<DeliveryResult>(&raw)?.outcome.into(),
            None => DeliveryState::Pending,
        };
        let deliveries = deliveries.iter().map(|raw| decode(raw)).collect::<Result<_, _>>()?;
        Ok(Some(EventDetail { event, state, deliveries }))
    }

    async fn events_after(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(channel);
        let Some((first, last)) = self.range(&mut conn, &keys).await? else {
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
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let (mut count, mut bytes) = (0, 0);
        for raw in stored.iter().flatten() {
            let size = decode::<Stored>(raw)?.size as usize;
            if count > 0 && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            count += 1;
        }
        read_log(&mut conn, &keys, seqs[0], count.max(1)).await
    }

    async fn record_delivery(
        &self,
        channel: &str,
        seq: u64,
        id: &str,
        result: DeliveryResult,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_vec(&result).expect("a delivery result always serializes");
        let (seq, final_, max) = (
            seq.to_string(),
            if result.is_final() { "1" } else { "0" },
            MAX_ATTEMPTS_KEPT.to_string(),
        );
        let args: [&[u8]; 5] =
            [seq.as_bytes(), id.as_bytes(), &json, final_.as_bytes(), max.as_bytes()];
        Ok(self.write(&self.scripts.deliver, channel, &args).await? == 1)
    }

    async fn expire_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        let channels: Vec<String> =
            redis::cmd("SMEMBERS").arg(CHANNELS).query_async(&mut conn).await.map_err(backend)?;
        let cutoff = cutoff_ms.to_string();
        let mut removed = 0;
        for channel in channels {
            let count = self.write(&self.scripts.expire, &channel, &[cutoff.as_bytes()]).await?;
            removed += count as u64;
        }
        Ok(removed)
    }

    async fn expired(&self, channel: &str, from: u64, to: u64) -> Result<Vec<Gap>, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(channel);
        if self.range(&mut conn, &keys).await?.is_none() {
            return Err(StoreError::UnknownChannel(channel.to_owned()));
        }
        let runs: Vec<String> = redis::cmd("LRANGE")
            .arg(keys.expired())
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
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

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// Up to `count` events of the log from `seq` on, with their bodies.
async fn read_log(
    conn: &mut ConnectionManager,
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
        .map_err(backend)?;
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
