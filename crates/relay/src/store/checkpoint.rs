//! The SQLite store's checkpointer: a thread with its own connection that copies the WAL
//! into the database file, so that checkpoints (and the fsyncs they imply) happen beside
//! the writer instead of inside an ingest's commit. SQLite's own automatic checkpoint on
//! the writer thread, which made every in-flight ingest wait for a big copy and its fsyncs
//! (the relay's periodic ~50 ms stall), is only a safety cap (`sqlite.rs`).
//!
//! Checkpoints are PASSIVE: they never wait for the writer or a reader. The WAL starts
//! again from the top (reused, not grown) only once a checkpoint has copied all of it
//! before the writer's next commit, which a checkpointer beside a busy writer never
//! manages while writes never pause. Any lull of a few tens of ms lets a pass reach the
//! end, and the WAL restarts. Under sustained load, once the WAL is [`HAND_OVER_BYTES`]
//! long, the checkpointer runs passes back to back until one is quick, then hands over:
//! it raises [`CatchUp`], and the writer, between two batches, copies what that pass left
//! and flushes it (a pause of 2-5 ms on ext4 here, once per `HAND_OVER_BYTES` written),
//! after which its next commit restarts the WAL. Restarting keeps the WAL in blocks it
//! already has: a WAL growing into new blocks made every fsync (and `--fsync` commit)
//! slower. A WAL a burst left big is truncated only once nothing has been written for a
//! whole idle pause, without waiting: a write wins.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::Connection;

/// How long the checkpointer rests after a pass that found nothing to copy.
const IDLE_PAUSE: Duration = Duration::from_millis(100);
/// How long it rests between passes while there is work. Each pass takes CPU and two
/// fsyncs beside the writer on a small machine: passes every 50 ms put ack p99 at c = 16
/// near 2.6 ms, every 250 ms near 1.7 ms (steady A/B); with `--fsync` they also queue with
/// the writer's fsync at every commit.
const BUSY_PAUSE: Duration = Duration::from_millis(250);
/// WAL length from which the writer is asked to finish a checkpoint so the WAL restarts:
/// under sustained load, one short pause of the writer per this many bytes written.
const HAND_OVER_BYTES: u64 = 64 * 1024 * 1024;
/// [`HAND_OVER_BYTES`] in WAL frames (a 4 KiB page and a 24-byte header each).
const HAND_OVER_FRAMES: i64 = (HAND_OVER_BYTES / (4096 + 24)) as i64;
/// A pass this quick (copy and flush) means little is left: time to hand over.
const QUICK_PASS: Duration = Duration::from_millis(5);
/// Most passes back to back before handing over anyway.
const MAX_CLOSING_PASSES: u32 = 4;
/// WAL file size above which an idle relay truncates it.
const WAL_KEEP_BYTES: u64 = 64 * 1024 * 1024;

/// Raised by the checkpointer when the writer should finish a checkpoint between two
/// batches; lowered by the writer when it has.
#[derive(Debug, Clone, Default)]
pub(super) struct CatchUp(Arc<AtomicBool>);

impl CatchUp {
    /// Called by the writer between batches: runs the hand-over checkpoint when asked.
    pub(super) fn run_if_asked(&self, conn: &Connection) {
        if self.0.swap(false, Ordering::AcqRel) {
            let started = std::time::Instant::now();
            let frames = checkpoint(conn, "PASSIVE");
            tracing::debug!(?frames, took = ?started.elapsed(), "writer finished a checkpoint");
        }
    }

    fn ask(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn asked(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A running checkpointer; `stop` ends it.
pub(super) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`; it asks for hand-overs on
    /// `catch_up`.
    pub(super) fn start(path: &Path, fsync: bool, catch_up: CatchUp) -> anyhow::Result<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("could not open {} for checkpoints", path.display()))?;
        // The same durability as the writer: a checkpoint syncs the WAL before copying and
        // the database before the WAL may start again, in NORMAL and FULL alike.
        conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "NORMAL" })?;
        // Never wait for a lock: a busy database means work, and the next pass comes soon.
        conn.busy_timeout(Duration::ZERO)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let database = std::fs::File::open(path)
            .with_context(|| format!("could not open {} for checkpoints", path.display()))?;
        let files = Files { database: (!fsync).then_some(database), wal };
        let (stop, stopped) = mpsc::channel();
        let span = tracing::debug_span!("sqlite_checkpointer");
        let thread = std::thread::Builder::new()
            .name("hookrelay-sqlite-checkpoint".into())
            .spawn(move || span.in_scope(|| run(&conn, &files, &catch_up, &stopped)))
            .context("could not start the sqlite checkpointer thread")?;
        Ok(Self { stop, thread })
    }

    /// Stops the thread and waits for it (at most one checkpoint).
    pub(super) fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// The files the checkpointer looks at besides its connection.
struct Files {
    /// The database file, flushed after each pass (see `run`); not with `--fsync`, where
    /// that flush queued with the writer's fsync at every commit (c = 1 ack p99 0.65 ms
    /// before this checkpointer, 1.3 ms with the flush).
    database: Option<std::fs::File>,
    /// The WAL, whose size says when to truncate it.
    wal: PathBuf,
}

fn run(conn: &Connection, files: &Files, catch_up: &CatchUp, stopped: &mpsc::Receiver<()>) {
    let mut pause = IDLE_PAUSE;
    let mut last = None;
    let mut closing_in = 0;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(pause) {
        if catch_up.asked() {
            // The writer has not taken its turn yet: leave the WAL to it.
            pause = BUSY_PAUSE;
            continue;
        }
        let started = std::time::Instant::now();
        // A pass copies the WAL as it was when the pass began: `log` is its length then.
        let pass = checkpoint(conn, "PASSIVE");
        let writing = pass.is_some() && pass != last;
        pause = if writing { BUSY_PAUSE } else { IDLE_PAUSE };
        if let Some(database) = files.database.as_ref().filter(|_| writing) {
            // SQLite syncs the database only when a pass reaches the end of the WAL, which
            // beside a busy writer is the writer's hand-over: flushing after every pass
            // here leaves that one only the last pass's pages to flush.
            if let Err(err) = database.sync_data() {
                tracing::warn!(error = %err, "could not flush the sqlite database file");
            }
        }
        let took = started.elapsed();
        tracing::debug!(?pass, ?took, "checkpoint pass");
        if let Some((log, _)) = pass
            && writing
            && log > HAND_OVER_FRAMES
        {
            // Passes back to back copy less and less; the writer gets the WAL once one was
            // quick, so that what it copies and flushes itself is little.
            if took <= QUICK_PASS || closing_in >= MAX_CLOSING_PASSES {
                catch_up.ask();
                closing_in = 0;
            } else {
                closing_in += 1;
                pause = Duration::ZERO;
            }
        }
        let big = || std::fs::metadata(&files.wal).is_ok_and(|meta| meta.len() > WAL_KEEP_BYTES);
        if !writing && pass.is_some() && big() {
            tracing::debug!("truncating the WAL of an idle relay");
            checkpoint(conn, "TRUNCATE");
        }
        last = pass;
    }
}

/// Runs one checkpoint; `(frames in the WAL, frames copied so far)` when it ran.
fn checkpoint(conn: &Connection, mode: &str) -> Option<(i64, i64)> {
    // (busy, log, checkpointed): -1s when the database is not in WAL mode.
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    match conn.query_row(&sql, [], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))) {
        Ok(frames) => Some(frames),
        Err(err) => {
            tracing::warn!(error = %err, mode, "sqlite checkpoint failed");
            None
        }
    }
}
