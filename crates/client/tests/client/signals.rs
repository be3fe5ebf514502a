//! `hookrelay listen 2>&1 | tee listen.log`, then Ctrl-C: the reader of its output dies with
//! it. SIGINT and SIGTERM must still end `listen` and its embedded relay, whatever a log or
//! output write does on the closed pipe, and free the port and the store.

use std::process::ExitStatus;

use tokio::io::AsyncBufReadExt as _;

use crate::WAIT;
use crate::app::free_port;
use crate::cli::{Home, command};
use crate::relay::RelayProcess;

/// Starts `listen` on the embedded relay with info logs, waits for its first line of output,
/// closes the read end of stderr (and of stdout when `close_stdout`), sends `signal`, and
/// returns how it exited. Then a `hookrelayd` must get the same port and data directory.
async fn listen_with_closed_pipes_gets(signal: &str, close_stdout: bool) -> ExitStatus {
    let home = Home::new();
    let port = free_port();
    let port_arg = port.to_string();
    let args = ["listen", "--port", &port_arg, "-f", "http://127.0.0.1:9/"];
    let mut child = command(&home, &args).env("HOOKRELAY_LOG", "info").spawn().expect("starts");
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let first = tokio::time::timeout(WAIT, stdout.next_line()).await.expect("output in time");
    assert!(matches!(first, Ok(Some(_))), "no output: {first:?}");
    drop(child.stderr.take());
    let _kept = if close_stdout { None } else { Some(stdout) };

    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill").args([signal, &pid]).status().expect("kill");
    assert!(sent.success());
    let status = match tokio::time::timeout(WAIT, child.wait()).await {
        Ok(status) => status.expect("waited"),
        Err(_) => {
            child.kill().await.expect("killed");
            panic!("listen ignored {signal} once its stderr was closed");
        }
    };
    // Its embedded relay let go of both: a relay starts there at once.
    let relay = RelayProcess::start(port, &home.data_dir()).await;
    assert_eq!(relay.url, format!("http://127.0.0.1:{port}"));
    relay.kill().await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_listen_after_its_stderr_closed() {
    let status = listen_with_closed_pipes_gets("-TERM", false).await;
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_ends_listen_after_its_stdout_and_stderr_closed() {
    let status = listen_with_closed_pipes_gets("-INT", true).await;
    assert_eq!(status.code(), Some(0), "{status:?}");
}
