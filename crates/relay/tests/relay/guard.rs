//! Channel creation on a public relay is guarded by default (DESIGN §9): the real binary on
//! a non-loopback address makes an admin token once, keeps it in DATA_DIR/admin-token, and
//! refuses creation without it; `--open` opts out.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use hyper::StatusCode;
use hyper::http::Method;

use crate::*;

/// `hookrelayd --listen 0.0.0.0:0 ...` (every interface, a port the system picks), reached
/// through 127.0.0.1; killed on drop.
struct Public {
    child: Child,
    url: String,
}

impl Public {
    async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookrelayd"))
            .args(["--listen", "0.0.0.0:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .env_remove("HOOKRELAY_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("hookrelayd starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let line = within(tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).expect("read stdout");
            line
        }))
        .await
        .expect("reader");
        let port = line.trim().rsplit(':').next().expect("a port").to_owned();
        Self { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Public {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn create(url: &str, token: Option<&str>) -> StatusCode {
    let auth = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> =
        auth.as_deref().map(|auth| ("authorization", auth)).into_iter().collect();
    http(Method::POST, &format!("{url}/v1/channels"), &headers, "").await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_relay_makes_an_admin_token_keeps_it_and_requires_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let relay = Public::start(data.path(), &[]).await;
    let file = data.path().join("admin-token");
    let token = std::fs::read_to_string(&file).expect("token file made").trim().to_owned();
    assert_eq!(create(&relay.url, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(create(&relay.url, Some("hra_wrong")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(create(&relay.url, Some(&token)).await, StatusCode::CREATED);
    drop(relay);

    // The same token after a restart.
    let relay = Public::start(data.path(), &[]).await;
    assert_eq!(std::fs::read_to_string(&file).expect("kept").trim(), token);
    assert_eq!(create(&relay.url, Some(&token)).await, StatusCode::CREATED);
    drop(relay);

    // --open is the explicit way out.
    let relay = Public::start(data.path(), &["--open"]).await;
    assert_eq!(create(&relay.url, None).await, StatusCode::CREATED);
}
