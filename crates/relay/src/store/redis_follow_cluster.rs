//! Following the other relays on a Redis Cluster. A blocking `XREAD` may name keys of one
//! slot only, so the channels followed are grouped by slot (`hr:deleted` is one more group)
//! and each group gets its own `XREAD BLOCK`, on a direct connection to the master of that
//! slot, kept from one read to the next. The first answer ends the wait: the other reads are
//! ended at once with `CLIENT UNBLOCK` (sent through the cluster connection to their node),
//! so their connections stay usable and nothing they saw is lost.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use redis::aio::MultiplexedConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};

use super::redis_conn::{Conn, SlotRange, node, slot, slot_ranges};
use super::redis_follow::{Answer, DELETIONS, Found, RESPONSE_MARGIN, newest_deletion, xread};
use super::redis_keys::{Keys, store_error};
use super::{Elsewhere, StoreError};

/// How often `CLIENT UNBLOCK` is repeated for a read not yet ended (it may not have
/// reached its node when the first was sent).
const UNBLOCK_AGAIN: Duration = Duration::from_millis(20);

/// One slot's blocking reader: a direct connection to the slot's master.
struct Reader {
    host: String,
    port: u16,
    /// `CLIENT ID` of the connection, for `CLIENT UNBLOCK`.
    id: i64,
    conn: MultiplexedConnection,
}

/// The cluster follower: a reader per slot followed, and where it is in `hr:deleted`.
pub(super) struct ClusterFollower {
    /// `redis://` or `rediss://`, for the direct connections.
    scheme: &'static str,
    /// At most one per followed channel's slot, plus `hr:deleted`'s.
    readers: HashMap<u16, Reader>,
    /// Id of the last deletion notice seen.
    deletions_after: String,
}

/// The master serving `slot`.
fn owner(ranges: &[SlotRange], slot: u16) -> Result<(String, u16), StoreError> {
    ranges
        .iter()
        .find(|(start, end, _, _)| (*start..=*end).contains(&slot))
        .map(|(_, _, host, port)| (host.clone(), *port))
        .ok_or_else(|| {
            StoreError::Unavailable(anyhow::anyhow!("no redis cluster node serves slot {slot}"))
        })
}

impl ClusterFollower {
    /// A follower that reports the deletions made from now on.
    pub(super) async fn new(conn: &mut Conn, scheme: &'static str) -> Result<Self, StoreError> {
        Ok(Self { scheme, readers: HashMap::new(), deletions_after: newest_deletion(conn).await? })
    }

    /// As `Follower::read`, on a cluster (`conn` is the cluster connection).
    pub(super) async fn read(
        &mut self,
        conn: &mut Conn,
        cursors: &[(String, u64)],
        block: Duration,
    ) -> Result<Elsewhere, StoreError> {
        let found = self.first_new(conn, cursors, block).await?;
        found.resolve(conn).await
    }

    /// A reader for `slot`, kept or (after a failure or a slot move) made anew.
    async fn reader(
        &mut self,
        slot: u16,
        ranges: &[SlotRange],
        block: Duration,
    ) -> Result<Reader, StoreError> {
        let (host, port) = owner(ranges, slot)?;
        if let Some(reader) = self.readers.remove(&slot)
            && reader.host == host
            && reader.port == port
        {
            return Ok(reader);
        }
        let mut conn =
            node(self.scheme, &host, port, block + RESPONSE_MARGIN).await.map_err(store_error)?;
        let id: i64 =
            redis::cmd("CLIENT").arg("ID").query_async(&mut conn).await.map_err(store_error)?;
        Ok(Reader { host, port, id, conn })
    }

    /// One `XREAD BLOCK` per slot group at once; the first answer unblocks the others.
    async fn first_new(
        &mut self,
        conn: &mut Conn,
        cursors: &[(String, u64)],
        block: Duration,
    ) -> Result<Found, StoreError> {
        let ranges = slot_ranges(conn).await.map_err(store_error)?;
        let mut channels = HashMap::new();
        let mut groups: BTreeMap<u16, Vec<(String, String)>> = BTreeMap::new();
        for (channel, seq) in cursors {
            let key = Keys::new(channel).log().to_owned();
            let group = groups.entry(slot(channel.as_bytes())).or_default();
            group.push((key.clone(), format!("{seq}-0")));
            channels.insert(key, channel.clone());
        }
        let deletions = (DELETIONS.to_owned(), self.deletions_after.clone());
        groups.entry(slot(DELETIONS.as_bytes())).or_default().push(deletions);
        self.readers.retain(|slot, _| groups.contains_key(slot));
        let mut waiting: HashMap<u16, (String, u16, i64)> = HashMap::new();
        let reads = FuturesUnordered::new();
        // A slot whose master cannot be reached must not stop the others being followed.
        let mut failed = Vec::new();
        for (slot, streams) in groups {
            let mut reader = match self.reader(slot, &ranges, block).await {
                Ok(reader) => reader,
                Err(err) => {
                    failed.push(err);
                    continue;
                }
            };
            waiting.insert(slot, (reader.host.clone(), reader.port, reader.id));
            let command = xread(block, &streams);
            reads.push(async move {
                let answer: redis::RedisResult<Answer> =
                    command.query_async(&mut reader.conn).await;
                (slot, reader, answer)
            });
        }
        let answers = gather(conn, reads, waiting).await;
        let mut found = Found::default();
        let mut answered = false;
        for (slot, reader, answer) in answers {
            match answer {
                Ok(answer) => {
                    found.add(answer, &mut channels, &mut self.deletions_after);
                    self.readers.insert(slot, reader);
                    answered = true;
                }
                Err(err) => failed.push(store_error(err)),
            }
        }
        match failed.into_iter().next() {
            Some(err) if !answered => Err(err),
            Some(err) => {
                tracing::warn!(error = %err, "could not follow some slots of the redis cluster");
                Ok(found)
            }
            None => Ok(found),
        }
    }
}

/// Waits for the first read to answer (a failed one does not count, else a slot that
/// keeps failing would turn the follower into a busy loop), then ends the others with
/// `CLIENT UNBLOCK` (again every `UNBLOCK_AGAIN` until each has answered) and collects
/// every answer.
async fn gather<F>(
    conn: &mut Conn,
    mut reads: FuturesUnordered<F>,
    mut waiting: HashMap<u16, (String, u16, i64)>,
) -> Vec<(u16, Reader, redis::RedisResult<Answer>)>
where
    F: Future<Output = (u16, Reader, redis::RedisResult<Answer>)>,
{
    let mut answers = Vec::with_capacity(reads.len());
    while let Some(answer) = reads.next().await {
        waiting.remove(&answer.0);
        let answered = answer.2.is_ok();
        answers.push(answer);
        if answered {
            break;
        }
    }
    while !reads.is_empty() {
        for (host, port, id) in waiting.values() {
            unblock(conn, host, *port, *id).await;
        }
        tokio::select! {
            Some(answer) = reads.next() => {
                waiting.remove(&answer.0);
                answers.push(answer);
            }
            () = tokio::time::sleep(UNBLOCK_AGAIN) => {}
        }
    }
    answers
}

/// `CLIENT UNBLOCK id` on the node at `host:port`; a failure only means the read ends at
/// its own timeout.
async fn unblock(conn: &mut Conn, host: &str, port: u16, id: i64) {
    let Conn::Cluster(cluster) = conn else { return };
    let mut command = redis::cmd("CLIENT");
    command.arg("UNBLOCK").arg(id);
    let routing = SingleNodeRoutingInfo::ByAddress { host: host.to_owned(), port };
    if let Err(err) = cluster.route_command(command, RoutingInfo::SingleNode(routing)).await {
        tracing::debug!(error = %err, host, port, "CLIENT UNBLOCK failed");
    }
}
