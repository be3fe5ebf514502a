//! The store on disk is private (DESIGN §9): the data directory the relay makes is 0700 and
//! every file in it 0600, however permissive the umask.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use hyper::StatusCode;

use crate::*;

fn mode(path: &Path) -> u32 {
    path.metadata().unwrap_or_else(|err| panic!("{}: {err}", path.display())).permissions().mode()
        & 0o777
}

#[tokio::test]
async fn the_data_directory_and_every_store_file_are_private() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("fresh/data");
    let relay = TestRelay::with(|config| config.data_dir = data.clone()).await;
    let channel = relay.channel().await;
    assert_eq!(post(&channel.ingest_url, "secret body").await.status, StatusCode::OK);
    assert_eq!(mode(&data), 0o700);
    for file in ["relay.sqlite3", "relay.sqlite3-wal", "relay.sqlite3-shm", "relay.lock"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    relay.stop().await;
}
