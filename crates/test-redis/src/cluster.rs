//! A real three-master Redis Cluster for tests: three `redis-server --cluster-enabled yes`
//! (AOF on, `appendfsync always`) on free loopback ports, joined by `redis-cli --cluster
//! create`, ready once every node says `cluster_state:ok`; all killed on drop.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{READY_POLL, READY_TIMEOUT, RedisServer, free_port};

/// How many masters the cluster has (no replicas).
const MASTERS: usize = 3;

/// A running three-master Redis Cluster.
pub struct RedisCluster {
    /// The nodes, killed on drop.
    pub nodes: Vec<RedisServer>,
    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, as `--store` takes it.
    pub url: String,
}

impl RedisCluster {
    /// Starts three masters, makes them one cluster covering every slot, and waits until
    /// each node reports `cluster_state:ok`.
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..MASTERS)
            .map(|_| {
                // The cluster bus gets a free port of its own (by default it is port + 10000,
                // which may be taken or past 65535).
                let bus = free_port().to_string();
                RedisServer::start_with(&[
                    "--appendfsync",
                    "always",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-port",
                    &bus,
                ])
            })
            .collect();
        let addresses: Vec<String> =
            nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .expect("redis-cli runs (apt-get install redis-tools)");
        assert!(created.success(), "redis-cli --cluster create failed: {created}");
        let deadline = Instant::now() + READY_TIMEOUT;
        for node in &nodes {
            while !cluster_ok(node.port) {
                assert!(
                    Instant::now() < deadline,
                    "the cluster was not ok within {READY_TIMEOUT:?}"
                );
                std::thread::sleep(READY_POLL);
            }
        }
        let url = format!("redis+cluster://{}", addresses.join(","));
        Self { nodes, url }
    }
}

/// Whether the node on `port` says `cluster_state:ok`.
fn cluster_ok(port: u16) -> bool {
    let info = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "CLUSTER", "INFO"])
        .stderr(Stdio::null())
        .output();
    info.is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok"))
}
