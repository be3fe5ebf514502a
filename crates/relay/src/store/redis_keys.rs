//! The Redis store's layout: the keys of a channel (one hash tag each), the record kept per
//! event, and what a Redis error means for the store. Reads are `redis_read.rs`; writes
//! are Lua scripts (`redis_lua.rs`), run by `redis.rs`.

use hookrelay_proto::Header;
use serde::{Deserialize, Serialize};

use super::StoreError;

/// The keys of one channel, all under the hash tag `{CH}`.
pub(super) struct Keys {
    pub all: [String; 11],
    pub deliveries: String,
}

impl Keys {
    pub(super) fn new(channel: &str) -> Self {
        let key = |name: &str| format!("hr:{{{channel}}}:{name}");
        let names =
            ["meta", "seq", "log", "events", "results", "pending", "ids", "times", "attempts"];
        let [a, b, c, d, e, f, g, h, i] = names.map(key);
        Self {
            all: [a, b, c, d, e, f, g, h, i, key("expired"), key("deleted")],
            deliveries: key("d:"),
        }
    }
    pub(super) fn meta(&self) -> &str {
        &self.all[0]
    }
    pub(super) fn seq(&self) -> &str {
        &self.all[1]
    }
    pub(super) fn log(&self) -> &str {
        &self.all[2]
    }
    pub(super) fn events(&self) -> &str {
        &self.all[3]
    }
    pub(super) fn results(&self) -> &str {
        &self.all[4]
    }
    pub(super) fn ids(&self) -> &str {
        &self.all[6]
    }
    pub(super) fn pending(&self) -> &str {
        &self.all[5]
    }
    pub(super) fn expired(&self) -> &str {
        &self.all[9]
    }
    pub(super) fn tomb(&self) -> &str {
        &self.all[10]
    }
}

/// What `hr:{CH}:events` and the `event` field of a log entry hold (the body is beside it).
#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    pub id: String,
    pub received_at_ms: i64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<Header>,
    pub size: u64,
    pub event_type: Option<String>,
}

/// A Redis error as a store error: `Unavailable` when Redis cannot be reached or cannot
/// serve yet (down, restarting, loading its AOF; on a cluster, a slot whose master is gone
/// or moving, which the cluster client answers with the last `MOVED` or `ASK` once its
/// retries are spent), which a retry may cure; else `Backend`.
pub(super) fn store_error(err: redis::RedisError) -> StoreError {
    use redis::{ErrorKind, ServerErrorKind};
    let transient = err.is_io_error()
        || err.is_connection_dropped()
        || err.is_timeout()
        || matches!(
            err.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::Moved
                        | ServerErrorKind::Ask
                        | ServerErrorKind::ReadOnly
                )
        );
    let err = anyhow::Error::new(err).context("redis failed");
    if transient { StoreError::Unavailable(err) } else { StoreError::Backend(err) }
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(raw)
        .map_err(|err| StoreError::Backend(anyhow::anyhow!("corrupt record in redis: {err}")))
}
