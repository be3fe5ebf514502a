//! The one writer of command output to stdout, and whether it gets colors. A closed pipe
//! (`hookrelay events | head`) is a quiet success: the reader has what it wanted. Any other
//! write error is reported. (`listen`'s live renderer writes through its own sink with the
//! same rule.)

use std::io::{self, Write as _};

/// Whether stdout gets ANSI colors: a terminal, and `NO_COLOR` unset or empty. The one
/// place this is decided, for the live renderer and the history commands alike.
pub(crate) fn stdout_color() -> bool {
    use std::io::IsTerminal as _;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    io::stdout().is_terminal() && !no_color
}

/// Writes a command's data to stdout and flushes. A closed pipe (`hookrelay events | head`)
/// is not an error: the reader has what it wanted.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(err).context("could not write to stdout"))
        }
        _ => Ok(()),
    }
}
