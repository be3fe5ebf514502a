//! Following the other relays on one Redis: one blocking `XREAD`, on a connection of its
//! own, over the logs of the channels this relay streams and `hr:deleted`, the stream every
//! relay adds a channel's id to when it deletes the channel. So a session on this relay
//! wakes at once for an event ingested elsewhere, and closes at once when its channel is
//! deleted elsewhere.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::redis_conn::Conn;

use super::redis_keys::{Keys, store_error};
use super::{Elsewhere, StoreError};

/// The stream of deleted channel ids (not tagged: read by every relay, written after the
/// deletion script).
pub(super) const DELETIONS: &str = "hr:deleted";
/// About how many deletion notices `hr:deleted` keeps (`MAXLEN ~`): a relay reads them
/// within a second, so only the newest matter.
const DELETIONS_KEPT: usize = 1000;
/// Extra wait for an answer beyond the blocking read's own time.
pub(super) const RESPONSE_MARGIN: Duration = Duration::from_secs(30);
/// Longest wait to (re)connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The follower's connection (made on first use and again after an error) and where it is
/// in `hr:deleted`.
pub(super) struct Follower {
    conn: Option<MultiplexedConnection>,
    /// Id of the last deletion notice seen.
    deletions_after: String,
}

/// What one blocking read found.
#[derive(Default)]
pub(super) struct Found {
    /// Channels with entries past their cursor.
    appended: Vec<String>,
    /// Channels deleted (any, not only the followed ones).
    deleted: Vec<String>,
}

/// One `XREAD` answer: per stream key, its entries.
pub(super) type Answer = Option<Vec<(String, Vec<(String, HashMap<String, String>)>)>>;

impl Found {
    /// Adds what `answer` holds: the channels (of `channels`, log key → channel) with new
    /// entries, and the deletion notices, moving `deletions_after` past them.
    pub(super) fn add(
        &mut self,
        answer: Answer,
        channels: &mut HashMap<String, String>,
        deletions_after: &mut String,
    ) {
        for (key, entries) in answer.unwrap_or_default() {
            if key == DELETIONS {
                if let Some((id, _)) = entries.last() {
                    deletions_after.clone_from(id);
                }
                let deleted =
                    entries.into_iter().filter_map(|(_, mut fields)| fields.remove("channel"));
                self.deleted.extend(deleted);
            } else if !entries.is_empty() {
                self.appended.extend(channels.remove(&key));
            }
        }
    }

    /// The channels with new entries with their newest `seq` (read on `conn`), and the
    /// deleted ones.
    pub(super) async fn resolve(self, conn: &mut Conn) -> Result<Elsewhere, StoreError> {
        let mut appended = Vec::with_capacity(self.appended.len());
        for channel in self.appended {
            let seq: Option<u64> = redis::cmd("GET")
                .arg(Keys::new(&channel).seq())
                .query_async(conn)
                .await
                .map_err(store_error)?;
            appended.push((channel, seq.unwrap_or(0)));
        }
        Ok(Elsewhere { appended, deleted: self.deleted })
    }
}

/// `XREAD COUNT 100 BLOCK <block>` over `keys`, each from the id beside it.
pub(super) fn xread(block: Duration, streams: &[(String, String)]) -> redis::Cmd {
    let mut command = redis::cmd("XREAD");
    command.arg("COUNT").arg(100).arg("BLOCK").arg(block.as_millis() as u64).arg("STREAMS");
    for (key, _) in streams {
        command.arg(key);
    }
    for (_, id) in streams {
        command.arg(id);
    }
    command
}

/// `channel`'s deletion notice for the other relays.
pub(super) fn announce_deletion(channel: &str) -> redis::Cmd {
    let mut command = redis::cmd("XADD");
    command
        .arg(DELETIONS)
        .arg("MAXLEN")
        .arg("~")
        .arg(DELETIONS_KEPT)
        .arg("*")
        .arg("channel")
        .arg(channel);
    command
}

impl Follower {
    /// A follower that reports the deletions made from now on.
    pub(super) async fn new(conn: &mut Conn) -> Result<Self, StoreError> {
        Ok(Self { conn: None, deletions_after: newest_deletion(conn).await? })
    }

    /// Waits up to `block` for an entry past any `(channel, seq)` cursor or a deletion
    /// notice, and says which channels have new events (with their newest `seq`, read on
    /// `conn`) and which were deleted.
    pub(super) async fn read(
        &mut self,
        client: &redis::Client,
        conn: &mut Conn,
        cursors: &[(String, u64)],
        block: Duration,
    ) -> Result<Elsewhere, StoreError> {
        match self.first_new(client, cursors, block).await {
            Ok(found) => found.resolve(conn).await,
            Err(err) => {
                self.conn = None;
                Err(err)
            }
        }
    }

    async fn connection(
        &mut self,
        client: &redis::Client,
        block: Duration,
    ) -> Result<&mut MultiplexedConnection, StoreError> {
        if self.conn.is_none() {
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(block + RESPONSE_MARGIN));
            let conn = client.get_multiplexed_async_connection_with_config(&config);
            self.conn = Some(conn.await.map_err(store_error)?);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// One `XREAD BLOCK` over the channels' logs and `hr:deleted`.
    async fn first_new(
        &mut self,
        client: &redis::Client,
        cursors: &[(String, u64)],
        block: Duration,
    ) -> Result<Found, StoreError> {
        let mut channels = HashMap::new();
        let mut streams = Vec::with_capacity(cursors.len() + 1);
        for (channel, seq) in cursors {
            let key = Keys::new(channel).log().to_owned();
            streams.push((key.clone(), format!("{seq}-0")));
            channels.insert(key, channel.clone());
        }
        streams.push((DELETIONS.to_owned(), self.deletions_after.clone()));
        let conn = self.connection(client, block).await?;
        let answer: Answer = xread(block, &streams).query_async(conn).await.map_err(store_error)?;
        let mut found = Found::default();
        found.add(answer, &mut channels, &mut self.deletions_after);
        Ok(found)
    }
}

/// The id of the newest deletion notice, or `0-0` when there is none.
pub(super) async fn newest_deletion(conn: &mut Conn) -> Result<String, StoreError> {
    type Entry = (String, HashMap<String, String>);
    let newest: Vec<Entry> = redis::cmd("XREVRANGE")
        .arg(DELETIONS)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(conn)
        .await
        .map_err(store_error)?;
    Ok(newest.into_iter().next().map_or_else(|| "0-0".to_owned(), |(id, _)| id))
}
