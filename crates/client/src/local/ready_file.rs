//! `listen --ready-file PATH`: the ingest URL and a newline, written atomically with
//! [`write_atomic`] once the stream is connected, so a script that waits for the file never
//! reads half of it. A file left by an earlier run is removed at start, and the file is
//! removed again when `listen` exits, so its presence means "ready".

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::local::atomic::write_atomic;

/// The file and its lifecycle.
#[derive(Debug)]
pub(crate) struct ReadyFile {
    path: PathBuf,
}

impl ReadyFile {
    /// Takes charge of `path`, removing what an earlier run left there.
    pub(crate) fn claim(path: &Path) -> anyhow::Result<Self> {
        let file = Self { path: path.to_owned() };
        file.remove_existing()
            .with_context(|| format!("could not remove the old --ready-file {}", path.display()))?;
        Ok(file)
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `ingest_url` and a newline.
    pub(crate) fn write(&self, ingest_url: &str) -> anyhow::Result<()> {
        write_atomic(&self.path, format!("{ingest_url}\n").as_bytes(), true)
            .with_context(|| format!("could not write --ready-file {}", self.path.display()))
    }

    /// Removes the file (at exit); a failure is only worth a warning.
    pub(crate) fn remove(&self) {
        if let Err(err) = self.remove_existing() {
            tracing::warn!("could not remove --ready-file {}: {err}", self.path.display());
        }
    }

    fn remove_existing(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_writes_whole_lines_and_removes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ready");
        std::fs::write(&path, "stale\n").expect("written");
        let file = ReadyFile::claim(&path).expect("claimed");
        assert!(!path.exists(), "the stale file is gone");
        file.write("http://127.0.0.1:8787/h/ch_1").expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "http://127.0.0.1:8787/h/ch_1\n");
        let leftovers = std::fs::read_dir(dir.path()).expect("listed").count();
        assert_eq!(leftovers, 1, "no temp file is left behind");
        file.remove();
        assert!(!path.exists());
        let missing_dir = ReadyFile::claim(&dir.path().join("no/such/dir/ready")).expect("ok");
        let err = missing_dir.write("x").expect_err("fails");
        assert!(format!("{err:#}").contains("could not write --ready-file"), "{err:#}");
    }
}
