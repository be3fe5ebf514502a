//! The Redis store's connection: one server (`redis://`, `rediss://`) or a Redis Cluster
//! (`redis+cluster://HOST:PORT[,HOST:PORT...]`, also `rediss+cluster://`), behind one type so
//! that reads and scripts have one code path. Every key a command names is in one slot (the
//! channel's hash tag), so the cluster client routes each command whole.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// Longest wait for an answer from Redis (a 25 MiB body included).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait to (re)connect to Redis.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnection attempts (100 ms, then 200 ms apart) before a command fails with
/// `Unavailable`: while Redis is down a webhook gets its 503 in well under a second rather
/// than after the crate's default of six attempts (about 10 s), past many providers'
/// timeouts. The next command tries again, so the relay recovers by itself.
const RECONNECT_ATTEMPTS: usize = 2;

/// Bounds (ms) of the cluster client's wait before each retry (random between them).
const CLUSTER_RETRY_WAIT_MS: (u64, u64) = (50, 200);

/// A connection to one server or to a cluster; cheap to clone (both multiplex).
#[derive(Clone)]
pub(super) enum Conn {
    /// One server, reconnecting by itself.
    Single(ConnectionManager),
    /// A Redis Cluster: commands go to the master of their key's slot.
    Cluster(ClusterConnection),
}

/// Where the store's URL points.
pub(super) enum Target {
    /// One server.
    Single(redis::Client),
    /// A cluster, by its seed nodes (each a `redis://` or `rediss://` URL).
    Cluster {
        /// The seed nodes' URLs.
        nodes: Vec<String>,
        /// `redis://` or `rediss://`, for direct connections to one node.
        scheme: &'static str,
    },
}

impl Target {
    /// Reads `url`: `redis+cluster://` (or `rediss+cluster://`) with comma-separated
    /// `HOST:PORT`s is a cluster, anything else one server.
    pub(super) fn parse(url: &str) -> anyhow::Result<Self> {
        let cluster = [("redis+cluster://", "redis://"), ("rediss+cluster://", "rediss://")]
            .into_iter()
            .find_map(|(prefix, scheme)| Some((url.strip_prefix(prefix)?, scheme)));
        let Some((nodes, scheme)) = cluster else {
            let client =
                redis::Client::open(url).with_context(|| format!("invalid redis url {url}"))?;
            return Ok(Self::Single(client));
        };
        let nodes: Vec<String> = nodes
            .trim_end_matches('/')
            .split(',')
            .filter(|node| !node.is_empty())
            .map(|node| format!("{scheme}{node}"))
            .collect();
        anyhow::ensure!(
            !nodes.is_empty(),
            "invalid redis url {url}: use redis+cluster://HOST:PORT[,HOST:PORT...]"
        );
        Ok(Self::Cluster { nodes, scheme })
    }

    /// Connects, with the store's timeouts and reconnection policy.
    pub(super) async fn connect(&self, url: &str) -> anyhow::Result<Conn> {
        match self {
            Self::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_number_of_retries(RECONNECT_ATTEMPTS);
                let conn = ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .with_context(|| format!("could not connect to redis at {url}"))?;
                Ok(Conn::Single(conn))
            }
            Self::Cluster { nodes, .. } => {
                let client = redis::cluster::ClusterClient::builder(nodes.clone())
                    .response_timeout(RESPONSE_TIMEOUT)
                    .connection_timeout(CONNECT_TIMEOUT)
                    .retries(RECONNECT_ATTEMPTS as u32)
                    // The crate waits at least 1.28 s between retries by default: too long
                    // for a webhook's 503 (see RECONNECT_ATTEMPTS).
                    .min_retry_wait(CLUSTER_RETRY_WAIT_MS.0)
                    .max_retry_wait(CLUSTER_RETRY_WAIT_MS.1)
                    .retry_wait_formula(CLUSTER_RETRY_WAIT_MS.1, 2)
                    .build()
                    .with_context(|| format!("invalid redis url {url}"))?;
                let conn = client
                    .get_async_connection()
                    .await
                    .with_context(|| format!("could not connect to the redis cluster at {url}"))?;
                Ok(Conn::Cluster(conn))
            }
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// A direct (not cluster-routed) connection to the node at `host:port` of a cluster
/// reached with `scheme`, waiting up to `response` for each answer.
pub(super) async fn node(
    scheme: &str,
    host: &str,
    port: u16,
    response: Duration,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("{scheme}{host}:{port}"))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(response));
    client.get_multiplexed_async_connection_with_config(&config).await
}

/// One range of slots and the `(host, port)` of the master that serves it.
pub(super) type SlotRange = (u16, u16, String, u16);

/// The cluster's slot ranges and their masters (`CLUSTER SLOTS`).
pub(super) async fn slot_ranges(conn: &mut Conn) -> redis::RedisResult<Vec<SlotRange>> {
    type Node = (String, u16);
    let ranges: Vec<Vec<Value>> = redis::cmd("CLUSTER").arg("SLOTS").query_async(conn).await?;
    let mut found = Vec::with_capacity(ranges.len());
    for range in ranges {
        let mut parts = range.into_iter();
        let (Some(start), Some(end), Some(master)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let start: u16 = redis::from_redis_value(start)?;
        let end: u16 = redis::from_redis_value(end)?;
        let master: Vec<Value> = redis::from_redis_value(master)?;
        let mut master = master.into_iter();
        let (Some(host), Some(port)) = (master.next(), master.next()) else { continue };
        let (host, port): Node = (redis::from_redis_value(host)?, redis::from_redis_value(port)?);
        found.push((start, end, host, port));
    }
    Ok(found)
}

/// The slot of a key whose hash tag is `{tag}`, or of an untagged `key` (CRC16/XMODEM
/// modulo 16384, as Redis Cluster computes it).
pub(super) fn slot(tag: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for byte in tag {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc % 16384
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_computed_as_redis_cluster_does() {
        // The reference vector of the Redis Cluster specification, and `CLUSTER KEYSLOT`s.
        assert_eq!(slot(b"123456789"), 0x31C3);
        assert_eq!(slot(b"foo"), 12182);
    }

    #[test]
    fn cluster_urls_list_their_seed_nodes() {
        let Ok(Target::Cluster { nodes, .. }) = Target::parse("redis+cluster://a:1,b:2") else {
            panic!("a cluster");
        };
        assert_eq!(nodes, ["redis://a:1", "redis://b:2"]);
        assert!(Target::parse("redis+cluster://").is_err());
        assert!(matches!(Target::parse("redis://a:1"), Ok(Target::Single(_))));
    }
}
