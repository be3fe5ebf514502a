//! Terminal key presses as the inspector's model sees them: [`Key`], free of crossterm, so
//! the model is tested with plain values. Letters stay letters (`j` moves only in the list,
//! and is text in the filter prompt); the model decides what they mean.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// One key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// ↑.
    Up,
    /// ↓.
    Down,
    /// Home.
    Home,
    /// End.
    End,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// A printable character.
    Char(char),
    /// Ctrl-C (raw mode turns it into a key, not a signal).
    Interrupt,
}

/// The key for a crossterm key event; `None` for releases, repeats of modifiers and keys
/// the inspector does not use.
pub(crate) fn from_crossterm(event: KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char('c') if ctrl => Key::Interrupt,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}

/// Every key and what it does, for the help overlay and the README (one source).
pub(crate) const HELP: &[(&str, &str)] = &[
    ("↑/↓  k/j", "move in the list (scroll in the detail view)"),
    ("g/G", "oldest / newest (G follows new events again)"),
    ("PgUp/PgDn", "a page up / down; above the oldest, older events load"),
    ("Enter", "detail of the selected event"),
    ("Esc", "back to the list; clears the filter"),
    ("r", "replay the selected event to the local app"),
    ("e", "edit headers and body in $EDITOR, then replay"),
    ("s", "stop waiting on the event being retried (recorded as failed)"),
    ("/", "filter by type, path, status or state (Enter keeps it)"),
    ("c", "copy the event as a curl command (OSC 52)"),
    ("y", "copy the body (OSC 52)"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_c_interrupts_and_other_chords_are_ignored() {
        let key = |code, modifiers| from_crossterm(KeyEvent::new(code, modifiers));
        assert_eq!(key(KeyCode::Char('c'), KeyModifiers::CONTROL), Some(Key::Interrupt));
        assert_eq!(key(KeyCode::Char('c'), KeyModifiers::NONE), Some(Key::Char('c')));
        assert_eq!(key(KeyCode::Char('x'), KeyModifiers::CONTROL), None);
        assert_eq!(key(KeyCode::PageDown, KeyModifiers::NONE), Some(Key::PageDown));
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(from_crossterm(release), None);
    }
}
