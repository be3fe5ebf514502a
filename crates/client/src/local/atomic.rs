//! The one way the CLI writes a file (saved channels, cursors, targets, the ready file,
//! `replay --edit`'s request): whole or not at all, readable by this user only. The bytes go
//! to a new temporary file beside the target (mode 0600 on Unix: these files hold tokens and
//! requests), which is then renamed over it, so a reader, or a `kill -9` halfway, sees the
//! old content or the new one, never half of it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, mode 0600. With `sync`, the data reaches the disk
/// before the rename. The temporary file does not outlive a failure. The directory must
/// exist.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let temp = temp_path(path);
    let written = write_new(&temp, bytes, sync).and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Creates the directory for the CLI's files (and its parents), mode 0700 on Unix; one that
/// exists is left as it is.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// `.NAME.PID.RANDOM.tmp` in the same directory (a rename across file systems is not
/// atomic).
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "file".into(), |name| name.to_string_lossy());
    path.with_file_name(format!(".{name}.{}.{:08x}.tmp", std::process::id(), fastrand::u32(..)))
}

/// Creates `path`, which must not exist yet: in a shared directory such as /tmp nobody can
/// have put a file or a link there for us to write through.
fn write_new(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    if sync {
        file.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_with_private_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, "old").expect("written");
        write_atomic(&path, b"new", false).expect("replaced");
        write_atomic(&path, b"newer", true).expect("replaced");
        assert_eq!(std::fs::read(&path).expect("read"), b"newer");
        assert_eq!(std::fs::read_dir(dir.path()).expect("listed").count(), 1);
        let made = dir.path().join("config/hookrelay");
        private_dir(&made).expect("created");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = made.metadata().expect("exists").permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("exists").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(write_atomic(&dir.path().join("no/such/dir/x"), b"x", false).is_err());
    }
}
