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

/// How wide a table on stdout may be: `None` when stdout is not a terminal (a pipe or a
/// file gets every cell whole), else `$COLUMNS` when set, else the terminal's width.
pub(crate) fn stdout_width() -> Option<usize> {
    use std::io::IsTerminal as _;
    let terminal = io::stdout().is_terminal();
    let columns = std::env::var("COLUMNS").ok();
    table_width(terminal, columns.as_deref(), || {
        terminal_size::terminal_size().map(|(width, _)| usize::from(width.0))
    })
}

fn table_width(
    terminal: bool,
    columns: Option<&str>,
    measured: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    if !terminal {
        return None;
    }
    let columns = columns.and_then(|text| text.trim().parse().ok()).filter(|n: &usize| *n > 0);
    columns.or_else(measured)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_cut_only_on_a_terminal_to_columns_or_its_width() {
        assert_eq!(table_width(false, Some("80"), || Some(120)), None);
        assert_eq!(table_width(true, Some("80"), || Some(120)), Some(80));
        assert_eq!(table_width(true, None, || Some(120)), Some(120));
        assert_eq!(table_width(true, Some("wide"), || Some(120)), Some(120));
        assert_eq!(table_width(true, None, || None), None);
    }
}
