//! Following the other relays on one Redis: one blocking `XREAD`, on a connection of its
//! own, over the logs of the channels this relay streams and `hr:deleted`, the stream every
//! relay adds a channel's id to when it deletes the channel. So a session on this relay
//! wakes at once for an event ingested elsewhere, and closes at once when its channel is
//! deleted elsewhere.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, MultiplexedConnection};

use super::redis_read::{Keys, store_error};
use super::{Elsewhere, StoreError};

/// The stream of deleted channel ids (not tagged: read by every relay, written after the
/// deletion script).
const DELETIONS: &str = "hr:deleted";
/// About how many deletion notices `hr:deleted` keeps (`MAXLEN ~`): a relay reads them
/// within a second, so only the newest matter.
const DELETIONS_KEPT: usize = 1000;
/// Extra wait for an answer beyond the blocking read's own time.
const RESPONSE_MARGIN: Duration = Duration::from_secs(30);
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
struct Found {
    /// Channels with entries past their cursor.
    appended: Vec<String>,
    /// Channels deleted (any, not only the followed ones).
    deleted: Vec<String>,
}

/// Adds `channel`'s deletion notice for the other relays to `pipe`.
pub(super) fn announce_deletion(pipe: &mut redis::Pipeline, channel: &str) {
    pipe.cmd("XADD")
        .arg(DELETIONS)
        .arg("MAXLEN")
        .arg("~")
        .arg(DELETIONS_KEPT)
        .arg("*")
        .arg("channel")
        .arg(channel)
        .ignore();
}

impl Follower {
    /// A follower that reports the deletions made from now on.
    pub(super) async fn new(conn: &mut ConnectionManager) -> Result<Self, StoreError> {
        Ok(Self { conn: None, deletions_after: newest_deletion(conn).await? })
    }

    /// Waits up to `block` for an entry past any `(channel, seq)` cursor or a deletion
    /// notice, and says which channels have new events (with their newest `seq`, read on
    /// `conn`) and which were deleted.
    pub(super) async fn read(
        &mut self,
        client: &redis::Client,
        conn: &mut ConnectionManager,
        cursors: &[(String, u64)],
        block: Duration,
    ) -> Result<Elsewhere, StoreError> {
        let found = match self.first_new(client, cursors, block).await {
            Ok(found) => found,
            Err(err) => {
                self.conn = None;
                return Err(err);
            }
        };
        let mut appended = Vec::with_capacity(found.appended.len());
        for channel in found.appended {
            let seq: Option<u64> = redis::cmd("GET")
                .arg(Keys::new(&channel).seq())
                .query_async(conn)
                .await
                .map_err(store_error)?;
            appended.push((channel, seq.unwrap_or(0)));
        }
        Ok(Elsewhere { appended, deleted: found.deleted })
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
        type Entry = (String, HashMap<String, String>);
        let mut command = redis::cmd("XREAD");
        command.arg("COUNT").arg(100).arg("BLOCK").arg(block.as_millis() as u64).arg("STREAMS");
        let mut channels = HashMap::new();
        for (channel, _) in cursors {
            let key = Keys::new(channel).log().to_owned();
            command.arg(&key);
            channels.insert(key, channel.clone());
        }
        command.arg(DELETIONS);
        for (_, seq) in cursors {
            command.arg(format!("{seq}-0"));
        }
        command.arg(&self.deletions_after);
        let conn = self.connection(client, block).await?;
        let answer: Option<Vec<(String, Vec<Entry>)>> =
            command.query_async(conn).await.map_err(store_error)?;
        let mut found = Found::default();
        for (key, entries) in answer.unwrap_or_default() {
            if key == DELETIONS {
                if let Some((id, _)) = entries.last() {
                    self.deletions_after.clone_from(id);
                }
                let deleted =
                    entries.into_iter().filter_map(|(_, mut fields)| fields.remove("channel"));
                found.deleted.extend(deleted);
            } else if !entries.is_empty() {
                found.appended.extend(channels.remove(&key));
            }
        }
        Ok(found)
    }
}

/// The id of the newest deletion notice, or `0-0` when there is none.
async fn newest_deletion(conn: &mut ConnectionManager) -> Result<String, StoreError> {
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
