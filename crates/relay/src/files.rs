//! Files the relay keeps are private (DESIGN §9): the data directory is 0700 and every file
//! in it 0600, because the store holds whole requests (bodies, `Authorization` headers) and
//! tokens. A directory the user already had is not changed (it may be `/tmp` or their home);
//! the relay says so when it is open to others.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

/// Mode of the data directory.
const DIR_MODE: u32 = 0o700;
/// Mode of every file in it.
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its parents) as 0700, or warns when an existing one is open to others.
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        #[cfg(unix)]
        if dir.metadata()?.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "the data directory {} can be read by other users; it holds whole webhooks \
                 and tokens: chmod 700 it",
                dir.display()
            );
        }
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir)
}

/// Options that create a file as 0600.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options
}

/// Makes an existing file 0600 (one made by an older relay, or by SQLite from a umask);
/// a file that does not exist is fine.
pub(crate) fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE)) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    Ok(())
}

/// Creates `path` as 0600 if it is missing, and makes it 0600 if it exists.
pub(crate) fn private_file(path: &Path) -> io::Result<File> {
    let file = private_options().create(true).truncate(false).write(true).open(path)?;
    make_private(path)?;
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        path.metadata().expect("exists").permissions().mode() & 0o777
    }

    #[test]
    fn new_directories_and_files_are_private_and_old_files_are_made_private() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("a/b");
        private_dir(&dir).expect("created");
        assert_eq!(mode(&dir), 0o700);
        let new = dir.join("new");
        private_file(&new).expect("created");
        assert_eq!(mode(&new), 0o600);
        let old = dir.join("old");
        std::fs::write(&old, "x").expect("written");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        make_private(&old).expect("made private");
        assert_eq!(mode(&old), 0o600);
        make_private(&dir.join("missing")).expect("nothing to do");
        // An existing directory is left as it was.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        private_dir(root.path()).expect("exists");
        assert_eq!(mode(root.path()), 0o755);
    }
}
