//! The resume cursor as `listen` keeps it on disk: a hint, written at most every
//! [`SAVE_EVERY`] and when `listen` ends, instead of a file rewrite per event. After a
//! `kill -9` the file may be a little behind; the relay fills in the rest at reconnect (the
//! stream is opened with `skip_finished=true`, so it starts past the events the acks it
//! recorded finished), and only events in flight come again (DESIGN §2.4).

use std::time::{Duration, Instant};

use crate::local::state::CursorFile;

/// Longest a moved cursor waits before it is written.
pub(super) const SAVE_EVERY: Duration = Duration::from_millis(250);

/// The cursor file and what is not written to it yet.
pub(super) struct LazyCursor {
    file: CursorFile,
    /// A cursor newer than the file's, and since when it waits.
    unsaved: Option<(u64, Instant)>,
    last_write: Option<Instant>,
}

impl LazyCursor {
    /// Keeps `file` (which holds the cursor `listen` started from).
    pub(super) fn new(file: CursorFile) -> Self {
        Self { file, unsaved: None, last_write: None }
    }

    /// The cursor moved to `seq`: written now if the last write is `SAVE_EVERY` old, else
    /// by [`Self::flush`] once [`Self::due`] passes.
    pub(super) fn moved(&mut self, seq: u64) -> anyhow::Result<()> {
        let since = self.unsaved.map_or_else(Instant::now, |(_, since)| since);
        self.unsaved = Some((seq, since));
        if self.last_write.is_none_or(|at| at.elapsed() >= SAVE_EVERY) {
            self.flush()?;
        }
        Ok(())
    }

    /// When the unsaved cursor must be written; `None` when there is none.
    pub(super) fn due(&self) -> Option<tokio::time::Instant> {
        let (_, since) = self.unsaved?;
        Some(tokio::time::Instant::from_std(since + SAVE_EVERY))
    }

    /// Writes the unsaved cursor, if any.
    pub(super) fn flush(&mut self) -> anyhow::Result<()> {
        if let Some((seq, _)) = self.unsaved.take() {
            self.file.save(seq)?;
            self.last_write = Some(Instant::now());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::paths::Dirs;

    fn file(root: &std::path::Path) -> CursorFile {
        let dirs = Dirs { config_dir: root.join("config"), data_dir: root.join("data") };
        let relay = "http://127.0.0.1:1/".parse().expect("url");
        CursorFile::new(&dirs, &relay, "ch")
    }

    #[test]
    fn the_first_move_is_written_at_once_and_later_ones_wait_for_a_flush() {
        let root = tempfile::tempdir().expect("dir");
        let mut cursor = LazyCursor::new(file(root.path()));
        assert!(cursor.due().is_none());
        cursor.moved(1).expect("saved");
        assert_eq!(file(root.path()).load().expect("read"), 1);
        cursor.moved(2).expect("noted");
        cursor.moved(3).expect("noted");
        assert_eq!(file(root.path()).load().expect("read"), 1, "within SAVE_EVERY");
        assert!(cursor.due().is_some());
        cursor.flush().expect("written");
        assert_eq!(file(root.path()).load().expect("read"), 3);
        assert!(cursor.due().is_none());
    }
}
