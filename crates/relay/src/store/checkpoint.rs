//! The SQLite store's checkpointer: a thread with its own connection that copies the WAL
//! into the database file every `CHECKPOINT_EVERY`. Checkpoints (and the fsyncs they imply)
//! thus happen beside the writer instead of inside an ingest's commit.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::Connection;

/// How often the WAL is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A running checkpointer; `stop` ends it.
pub(super) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("could not open {} for checkpoints", path.display()))?;
        let (stop, stopped) = mpsc::channel();
        let span = tracing::debug_span!("sqlite_checkpointer");
        let thread = std::thread::Builder::new()
            .name("hookrelay-sqlite-checkpoint".into())
            .spawn(move || span.in_scope(|| run(&conn, &stopped)))
            .context("could not start the sqlite checkpointer thread")?;
        Ok(Self { stop, thread })
    }

    /// Stops the thread and waits for it (at most one checkpoint).
    pub(super) fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        // PASSIVE never blocks the writer or readers; what it cannot copy now waits for the
        // next round.
        let checkpoint = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(err) = checkpoint {
            tracing::warn!(error = %err, "sqlite checkpoint failed");
        }
    }
}
