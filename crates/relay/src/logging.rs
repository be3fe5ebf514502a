//! The stderr log of `hookrelayd` and of the `hookrelay` CLI. A log line must never stop the
//! process from working or from shutting down, whatever happened to stderr: a closed pipe
//! (`hookrelayd 2>&1 | tee relay.log`, then Ctrl-C kills `tee` first) or a reader that
//! stopped reading. So lines go through a bounded queue to a writer thread: a full queue
//! drops lines, and a failed write is ignored there, never reported by writing to the same
//! broken stderr (which is what used to panic the task that was handling Ctrl-C).

use std::io::{self, Write as _};

use tracing_subscriber::EnvFilter;

/// Most log lines waiting for the writer thread. When stderr does not keep up (a reader
/// that stopped reading), newer lines are dropped instead of making the relay wait.
pub const LOG_QUEUE_LINES: usize = 4096;

/// Keeps the log writer thread; dropping it flushes the queued lines, waiting about a
/// second at most (a stuck stderr cannot hold the exit). Keep it until `main` returns.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

/// Sends `tracing` output to stderr through a writer that never blocks and never fails:
/// `filter` picks the lines, `ansi` colors them. Call once, first thing in `main`.
pub fn init_stderr_log(filter: EnvFilter, ansi: bool) -> LogGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .lossy(true)
        .thread_name("stderr-log")
        .finish(io::stderr());
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_env_filter(filter)
        // Its "unable to write" report goes to stderr with `eprintln!`, which panics when
        // stderr is the thing that failed. The queue never fails a write anyway.
        .log_internal_errors(false)
        .init();
    LogGuard { _worker: guard }
}

/// Writes one line to stderr, ignoring a failure: unlike `eprintln!` it cannot panic when
/// stderr is closed. For the last words of a process (`error: ...`).
pub fn stderr_line(line: &str) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{line}").and_then(|()| stderr.flush());
}

/// Writes one line to stdout and flushes, ignoring a failure (a closed pipe): for lines
/// that scripts may read but that the process does not depend on.
pub fn stdout_line(line: &str) {
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}
