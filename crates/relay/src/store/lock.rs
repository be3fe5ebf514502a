//! The one-process-per-database lock of the SQLite store (`relay.lock` beside the file):
//! held until the store closes, with the holder's pid and name written in it so a second
//! process says who to stop ("in use by the running hookrelay listen (pid 4242)").

use std::path::Path;

use anyhow::Context as _;

/// Takes the exclusive lock beside `path` (`hookrelay.lock`) and writes this process's pid
/// and name into it, or says which process holds it and what to do.
pub(super) fn lock_exclusively(path: &Path) -> anyhow::Result<std::fs::File> {
    let lock_path = path.with_extension("lock");
    // Not truncated on open: until the lock is ours, the holder's pid must stay readable.
    let mut file = crate::files::private_options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("could not open {}", lock_path.display()))?;
    crate::files::make_private(&lock_path)
        .with_context(|| format!("could not make {} private", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            // Best effort: the lock itself is what protects the store, the text only
            // names the holder in a second process's error.
            let _ = write_holder(&mut file);
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&lock_path).ok().and_then(|text| holder(&text));
            let who = holder.map_or_else(
                || "another process (a running hookrelayd or hookrelay listen)".to_owned(),
                |(pid, name)| format!("the running {name} (pid {pid})"),
            );
            anyhow::bail!(
                "the store {} is in use by {who}: stop it, or give this one its own data \
                 directory (hookrelayd --data-dir DIR, or HOOKRELAY_DATA_DIR for hookrelay)",
                path.display()
            )
        }
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("could not lock {}", lock_path.display()))
        }
    }
}

/// Writes `PID NAME` (e.g. `4242 hookrelay listen`) into the held lock file.
fn write_holder(file: &mut std::fs::File) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut args = std::env::args();
    let program = args.next().unwrap_or_default();
    let program = Path::new(&program)
        .file_name()
        .map_or_else(|| "hookrelay".to_owned(), |name| name.to_string_lossy().into_owned());
    let name = match args.next().filter(|arg| !arg.starts_with('-')) {
        Some(command) => format!("{program} {command}"),
        None => program,
    };
    file.set_len(0)?;
    file.write_all(format!("{} {name}\n", std::process::id()).as_bytes())?;
    file.flush()
}

/// The pid and name a lock file names, if it names one.
fn holder(text: &str) -> Option<(u32, String)> {
    let (pid, name) = text.trim().split_once(' ')?;
    Some((pid.parse().ok()?, name.chars().filter(|c| !c.is_control()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_is_read_back_with_control_characters_dropped() {
        assert_eq!(holder("4242 hookrelay listen\n"), Some((4242, "hookrelay listen".into())));
        assert_eq!(holder("7 hookrelayd\u{1b}[2J"), Some((7, "hookrelayd[2J".into())));
        assert_eq!(holder(""), None);
        assert_eq!(holder("not-a-pid x"), None);
    }
}
