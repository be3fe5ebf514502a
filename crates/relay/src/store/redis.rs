//! `RedisStore`: channels, events, delivery records and tombstones in Redis (DESIGN §7),
//! so that several relays share them. One server or a Redis Cluster (`redis_conn.rs`); the
//! layout and the reads are in `redis_read.rs`; every write is one Lua script
//! (`redis_lua.rs`). An append is acked only once Redis has it on disk
//! (`redis_durability.rs`). Other relays' appends and deletions are followed by
//! `redis_follow.rs` (one server) or `redis_follow_cluster.rs`.

use std::sync::atomic::{AtomicBool, Ordering};

use super::redis_conn::{Conn, Target};
use super::redis_durability::{Durability, check_cluster};
use super::redis_follow::{Follower, announce_deletion};
use super::redis_follow_cluster::ClusterFollower;
use super::redis_keys::{Keys, Stored, store_error};
use super::redis_lua::Scripts;
use super::redis_read as read;
use super::{ChannelInfo, Elsewhere, IdMatch, MAX_ATTEMPTS_KEPT, NewEvent, Store, StoreError};
use crate::config::Retention;
use crate::ids::TokenHash;
use anyhow::Context as _;
use async_trait::async_trait;
use hookrelay_proto::{DeliveryResult, Event, EventDetail, EventSummary, Gap, Page};

/// The set of live channel ids (age retention walks it).
const CHANNELS: &str = "hr:channels";

/// How this relay follows the others (`elsewhere`).
enum Following {
    /// One server: one blocking read on a connection of its own, made from `client`.
    Single { client: Box<redis::Client>, follower: Follower },
    /// A cluster: one blocking read per slot followed.
    Cluster(ClusterFollower),
}

/// The Redis-backed store.
pub(crate) struct RedisStore {
    conn: Conn,
    scripts: Scripts,
    retention: Retention,
    durability: Durability,
    closed: AtomicBool,
    /// `elsewhere`'s blocking reads, on connections apart from `conn` so that they hold up
    /// nothing else.
    following: tokio::sync::Mutex<Following>,
}

impl RedisStore {
    /// Connects to `url` (`redis://`, `rediss://`, or a cluster's `redis+cluster://` or
    /// `rediss+cluster://`), checks that an acked write survives a crash of Redis (of every
    /// master, on a cluster) unless `accept_unsafe`, and loads the scripts.
    pub(crate) async fn open(
        url: &str,
        accept_unsafe: bool,
        retention: Retention,
    ) -> anyhow::Result<Self> {
        let target = Target::parse(url)?;
        let mut conn = target.connect(url).await?;
        let (durability, following) = match target {
            Target::Single(client) => {
                let durability = Durability::check(&mut conn, accept_unsafe).await?;
                let follower =
                    Follower::new(&mut conn).await.context("could not read hr:deleted")?;
                (durability, Following::Single { client: Box::new(client), follower })
            }
            Target::Cluster { scheme, .. } => {
                let durability = check_cluster(&mut conn, scheme, accept_unsafe).await?;
                let follower = ClusterFollower::new(&mut conn, scheme)
                    .await
                    .context("could not read hr:deleted")?;
                (durability, Following::Cluster(follower))
            }
        };
        Ok(Self {
            conn,
            scripts: Scripts::new(),
            retention,
            durability,
            closed: AtomicBool::new(false),
            following: tokio::sync::Mutex::new(following),
        })
    }

    /// A connection, or `Closed` after `close`.
    fn conn(&self) -> Result<Conn, StoreError> {
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
        let answer: i64 = call.invoke_async(&mut conn).await.map_err(store_error)?;
        self.durability.wait(&mut conn).await.map_err(store_error)?;
        Ok(answer)
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
        redis::cmd("SADD").arg(CHANNELS).arg(id).exec_async(&mut conn).await.map_err(store_error)
    }

    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError> {
        let mut conn = self.conn()?;
        let keys = Keys::new(id);
        let (token, last): (Option<String>, Option<u64>) = redis::pipe()
            .hget(keys.meta(), "token")
            .get(keys.seq())
            .query_async(&mut conn)
            .await
            .map_err(store_error)?;
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
            .map_err(store_error)?;
        Ok(exists)
    }

    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self.write(&self.scripts.delete, id, &[]).await? == 1;
        // Outside the script, and one command each: these keys are not in the channel's
        // slot, nor in one slot together (a cluster refuses such a pipeline).
        let mut conn = self.conn()?;
        let srem = redis::cmd("SREM").arg(CHANNELS).arg(id).exec_async(&mut conn).await;
        srem.map_err(store_error)?;
        if deleted {
            announce_deletion(id).exec_async(&mut conn).await.map_err(store_error)?;
        }
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
        read::summaries(&mut self.conn()?, channel, page).await
    }

    async fn find_event(&self, channel: &str, prefix: &str) -> Result<IdMatch, StoreError> {
        read::find_event(&mut self.conn()?, channel, prefix).await
    }

    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError> {
        read::detail(&mut self.conn()?, channel, id).await
    }

    async fn events_after(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Event>, StoreError> {
        read::events_after(&mut self.conn()?, channel, after, limit, max_bytes).await
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
        let channels: Vec<String> = redis::cmd("SMEMBERS")
            .arg(CHANNELS)
            .query_async(&mut conn)
            .await
            .map_err(store_error)?;
        let cutoff = cutoff_ms.to_string();
        let mut removed = 0;
        for channel in channels {
            let count = self.write(&self.scripts.expire, &channel, &[cutoff.as_bytes()]).await?;
            removed += count as u64;
        }
        Ok(removed)
    }

    async fn resume_point(&self, channel: &str, after: u64) -> Result<u64, StoreError> {
        read::resume_point(&mut self.conn()?, channel, after).await
    }

    async fn expired(&self, channel: &str, from: u64, to: u64) -> Result<Vec<Gap>, StoreError> {
        read::expired(&mut self.conn()?, channel, from, to).await
    }

    fn shared(&self) -> bool {
        true
    }

    async fn elsewhere(
        &self,
        cursors: &[(String, u64)],
        block: std::time::Duration,
    ) -> Result<Elsewhere, StoreError> {
        let mut conn = self.conn()?;
        match &mut *self.following.lock().await {
            Following::Single { client, follower } => {
                follower.read(client, &mut conn, cursors, block).await
            }
            Following::Cluster(follower) => follower.read(&mut conn, cursors, block).await,
        }
    }

    async fn reachable(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        redis::cmd("PING").exec_async(&mut conn).await.map_err(store_error)
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}
