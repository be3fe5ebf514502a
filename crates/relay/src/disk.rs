//! `--min-free-disk` (DESIGN §3, §9): when the data directory's file system has less free
//! space than that, every ingest answers `507 disk_full` (providers retry later) and
//! `/healthz` says `503 disk_full`, before SQLite fails mid-write. The free space is read
//! at start and then every `REFRESH` by a background task, so ingest only reads a number.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::RelayError;

/// How often the free space is read again.
const REFRESH: Duration = Duration::from_secs(1);

/// The data directory's free space against the configured minimum.
pub(crate) struct Disk {
    dir: Option<PathBuf>,
    min_free: u64,
    free: AtomicU64,
}

impl Disk {
    /// Watches `dir` (`None`: no disk store, never full) for `min_free` bytes.
    pub(crate) fn new(dir: Option<PathBuf>, min_free: u64) -> Self {
        let disk = Self { dir, min_free, free: AtomicU64::new(u64::MAX) };
        disk.refresh();
        disk
    }

    /// Reads the free space now; a failed read keeps the last value (logged).
    fn refresh(&self) {
        let Some(dir) = &self.dir else { return };
        match free_space(dir) {
            Ok(free) => self.free.store(free, Ordering::Relaxed),
            Err(err) => {
                tracing::warn!(dir = %dir.display(), "could not read free disk space: {err}")
            }
        }
    }

    /// Refreshes every `REFRESH` until `shutdown`.
    pub(crate) async fn watch(&self, shutdown: CancellationToken) {
        if self.dir.is_none() || self.min_free == 0 {
            return;
        }
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => self.refresh(),
            }
        }
    }

    /// `Err(DiskFull)` while free space is under the minimum.
    pub(crate) fn check(&self) -> Result<(), RelayError> {
        let free = self.free.load(Ordering::Relaxed);
        if free < self.min_free {
            return Err(RelayError::DiskFull { free, min_free: self.min_free });
        }
        Ok(())
    }
}

#[cfg(unix)]
fn free_space(dir: &std::path::Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(dir)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(not(unix))]
fn free_space(_dir: &std::path::Path) -> std::io::Result<u64> {
    Ok(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimum_above_the_free_space_is_full_and_none_is_never_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let free = free_space(dir.path()).expect("statvfs");
        assert!(free > 0);
        assert!(Disk::new(Some(dir.path().to_owned()), 1).check().is_ok());
        let full = Disk::new(Some(dir.path().to_owned()), u64::MAX);
        assert!(matches!(full.check(), Err(RelayError::DiskFull { .. })));
        assert!(Disk::new(None, u64::MAX).check().is_ok(), "no disk store, nothing to fill");
    }
}
