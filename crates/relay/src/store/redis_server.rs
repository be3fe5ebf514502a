//! A real `redis-server` for tests: on a free loopback port, AOF fsynced on every write,
//! its files in a temporary directory, killed on drop. Missing `redis-server` fails the
//! test with the install command, never skips it.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for a started server to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two PINGs while it starts.
const READY_POLL: Duration = Duration::from_millis(20);

/// A running `redis-server`.
pub(crate) struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one with `appendonly yes`, `appendfsync always`.
    pub(crate) fn start() -> Self {
        Self::start_with(&["--appendfsync", "always"])
    }

    /// Starts one with the AOF on and `extra` arguments (later ones win).
    pub(crate) fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--dir"])
            .arg(dir.path())
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
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer within {READY_TIMEOUT:?}"
            );
            std::thread::sleep(READY_POLL);
        }
        Self { child, url: format!("redis://127.0.0.1:{port}"), _dir: dir }
    }
}

fn answers_ping(port: u16) -> bool {
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
