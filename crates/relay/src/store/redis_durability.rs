//! Whether Redis keeps an acked write across its own crash (DESIGN §7): read at start from
//! the server's persistence settings; the relay refuses a setting that can lose one unless
//! told `--redis-unsafe`.

use anyhow::Context as _;
use redis::aio::ConnectionLike;

use super::redis_conn::{Conn, node, slot_ranges};

/// Longest wait for one node's answer while checking a cluster.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How each write is made durable before the relay acks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// `appendfsync always`: Redis fsyncs the AOF before it answers.
    Fsynced,
    /// Redis 7.2+ with the AOF on: `WAITAOF 1 0 0` after each write waits for the fsync.
    WaitAof,
    /// `--redis-unsafe`: whatever the server does.
    Unchecked,
}

/// What `redis-server --version` or `INFO server` says, as (major, minor).
fn version(info: &str) -> Option<(u32, u32)> {
    let line = info.lines().find_map(|line| line.strip_prefix("redis_version:"))?;
    let mut parts = line.trim().split('.').map(|part| part.parse().ok());
    Some((parts.next()??, parts.next()??))
}

/// The value of one `CONFIG GET` answer (`[name, value]`).
async fn config_get(conn: &mut impl ConnectionLike, name: &str) -> anyhow::Result<String> {
    let answer: Vec<String> =
        redis::cmd("CONFIG").arg("GET").arg(name).query_async(conn).await.with_context(|| {
            format!("could not read the redis setting {name} (CONFIG GET {name})")
        })?;
    answer.get(1).cloned().with_context(|| format!("redis has no setting {name}"))
}

impl Durability {
    /// Reads `appendonly`/`appendfsync` and the server version; refuses, naming the setting
    /// and the fix, unless every acked write will be on disk or `accept_unsafe`.
    pub(super) async fn check(
        conn: &mut impl ConnectionLike,
        accept_unsafe: bool,
    ) -> anyhow::Result<Self> {
        let settings = async {
            let info: String = redis::cmd("INFO").arg("server").query_async(conn).await?;
            let appendonly = config_get(conn, "appendonly").await?;
            let appendfsync = config_get(conn, "appendfsync").await?;
            anyhow::Ok((version(&info), appendonly, appendfsync))
        }
        .await;
        let (version, appendonly, appendfsync) = match settings {
            Ok(settings) => settings,
            Err(err) if accept_unsafe => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "--redis-unsafe: durability not checked"
                );
                return Ok(Self::Unchecked);
            }
            Err(err) => {
                return Err(err.context(
                    "could not check that redis keeps acked events on disk; \
                     allow CONFIG GET, or pass --redis-unsafe to accept possible loss",
                ));
            }
        };
        let decided = decide(version, &appendonly, &appendfsync);
        match decided {
            Ok(durability) => Ok(durability),
            Err(problem) if accept_unsafe => {
                tracing::warn!("--redis-unsafe: {problem}; acked events may be lost");
                Ok(Self::Unchecked)
            }
            Err(problem) => anyhow::bail!("{problem}; or pass --redis-unsafe to accept that"),
        }
    }

    /// Waits until the last write of `conn` is durable (`WaitAof` only).
    pub(super) async fn wait(self, conn: &mut impl ConnectionLike) -> redis::RedisResult<()> {
        if self == Self::WaitAof {
            let (local, _replicas): (i64, i64) =
                redis::cmd("WAITAOF").arg(1).arg(0).arg(0).query_async(conn).await?;
            if local < 1 {
                return Err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "WAITAOF: the write is not on the local AOF",
                )));
            }
        }
        Ok(())
    }
}

/// `check` on every master of a cluster (each with a direct connection made with
/// `scheme`): each must keep acked writes. `WAITAOF` is refused on a cluster, where it would
/// not reach the node that took the write: every master needs `appendfsync always`.
pub(super) async fn check_cluster(
    conn: &mut Conn,
    scheme: &str,
    accept_unsafe: bool,
) -> anyhow::Result<Durability> {
    let mut masters: Vec<(String, u16)> = slot_ranges(conn)
        .await
        .context("could not list the cluster's masters (CLUSTER SLOTS)")?
        .into_iter()
        .map(|(_, _, host, port)| (host, port))
        .collect();
    masters.sort();
    masters.dedup();
    let mut all = Durability::Fsynced;
    for (host, port) in masters {
        let mut node = node(scheme, &host, port, CHECK_TIMEOUT)
            .await
            .with_context(|| format!("could not connect to the cluster node {host}:{port}"))?;
        let durability = Durability::check(&mut node, accept_unsafe)
            .await
            .with_context(|| format!("on the cluster node {host}:{port}"))?;
        match durability {
            Durability::Fsynced => {}
            Durability::Unchecked => all = Durability::Unchecked,
            Durability::WaitAof if accept_unsafe => {
                tracing::warn!(
                    "--redis-unsafe: the cluster node {host}:{port} does not have appendfsync \
                     always; acked events may be lost"
                );
                all = Durability::Unchecked;
            }
            Durability::WaitAof => anyhow::bail!(
                "the cluster node {host}:{port} does not have appendfsync always (on a cluster \
                 the relay cannot wait with WAITAOF); set `appendfsync always` on every master, \
                 or pass --redis-unsafe to accept possible loss"
            ),
        }
    }
    Ok(all)
}

/// The durability a server with these settings gives, or what is wrong and the fix.
fn decide(
    version: Option<(u32, u32)>,
    appendonly: &str,
    appendfsync: &str,
) -> Result<Durability, String> {
    if appendonly != "yes" {
        return Err(format!(
            "redis has appendonly {appendonly}: an acked event would be lost if redis crashes; \
             set `appendonly yes` and `appendfsync always` (CONFIG SET or redis.conf)"
        ));
    }
    if appendfsync == "always" {
        return Ok(Durability::Fsynced);
    }
    if version.is_some_and(|version| version >= (7, 2)) {
        return Ok(Durability::WaitAof);
    }
    Err(format!(
        "redis has appendfsync {appendfsync}: an acked event could be lost if the machine \
         crashes before the next fsync; set `appendfsync always` (or use Redis 7.2+, where \
         the relay waits with WAITAOF)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settings_that_keep_acked_writes_pass() {
        assert_eq!(decide(Some((7, 0)), "yes", "always"), Ok(Durability::Fsynced));
        assert_eq!(decide(Some((7, 2)), "yes", "everysec"), Ok(Durability::WaitAof));
        let everysec = decide(Some((7, 0)), "yes", "everysec").expect_err("refused");
        assert!(
            everysec.contains("appendfsync everysec") && everysec.contains("appendfsync always")
        );
        let off = decide(Some((7, 4)), "no", "always").expect_err("refused");
        assert!(off.contains("appendonly no") && off.contains("appendonly yes"));
        assert_eq!(version("# Server\r\nredis_version:7.0.15\r\n"), Some((7, 0)));
    }
}
