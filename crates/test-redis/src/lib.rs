//! A real `redis-server` for tests: on a free loopback port, the AOF on, its files in a
//! temporary directory, killed on drop; `kill` and `restart` (same port, same files) for the
//! fault tests. A missing `redis-server` fails the test with the install command, never skips
//! it. `RedisCluster` starts three of them as a Redis Cluster (`cluster.rs`).

mod cluster;

pub use cluster::RedisCluster;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for a started server to answer PING.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two PINGs while it starts.
pub(crate) const READY_POLL: Duration = Duration::from_millis(20);

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    /// Its loopback port.
    pub port: u16,
    args: Vec<String>,
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one with `appendonly yes`, `appendfsync always`.
    pub fn start() -> Self {
        Self::start_with(&["--appendfsync", "always"])
    }

    /// Starts one with the AOF on and `extra` arguments (later ones win), and waits until
    /// it answers PING.
    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let args: Vec<String> = extra.iter().map(|arg| (*arg).to_owned()).collect();
        let child = spawn(port, dir.path(), &args);
        Self { child, port, args, url: format!("redis://127.0.0.1:{port}"), dir }
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill redis-server");
        self.child.wait().expect("reap redis-server");
    }

    /// A new `redis-server` on the same port and files, after `kill` (it replays its AOF).
    pub fn restart(&mut self) {
        self.child = spawn(self.port, self.dir.path(), &self.args);
    }
}

/// A free loopback port.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `redis-server` on `port` with its files in `dir` and waits until it answers PING.
pub(crate) fn spawn(port: u16, dir: &Path, extra: &[String]) -> Child {
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
        .args(["--appendonly", "yes", "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "could not start redis-server ({err}): install it with \
                 `apt-get install redis-server` (CI's .ci/run does)"
            )
        });
    let deadline = Instant::now() + READY_TIMEOUT;
    while !answers_ping(port) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("redis-server exited at start: {status}");
        }
        assert!(Instant::now() < deadline, "redis-server did not answer within {READY_TIMEOUT:?}");
        std::thread::sleep(READY_POLL);
    }
    child
}

/// Whether a server on `port` answers PING now.
pub(crate) fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(READY_TIMEOUT));
    let mut answer = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
