//! The terminal while the inspector owns it: raw mode and the alternate screen on
//! [`TerminalGuard::enter`], and the user's terminal back whatever ends it: `q`, Ctrl-C,
//! SIGTERM (the guard is dropped as the inspector returns), an error, or a panic (a hook
//! restores it before the panic message prints). `suspend`/`resume` hand the terminal to
//! `$EDITOR` and take it back.

use std::io::{self, Stdout, Write as _};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    self, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::widgets::Clear;

/// The terminal the inspector draws on.
pub(crate) type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in the inspector's mode now (what the panic hook restores).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Owns the terminal's raw mode and alternate screen; restores both when dropped.
pub(crate) struct TerminalGuard {
    terminal: Term,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen (and installs the panic hook once).
    pub(crate) fn enter() -> io::Result<Self> {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        take_over()?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok(Self { terminal })
    }

    /// The terminal to draw on.
    pub(crate) fn terminal(&mut self) -> &mut Term {
        &mut self.terminal
    }

    /// Gives the terminal back (for `$EDITOR`).
    pub(crate) fn suspend(&mut self) {
        restore();
    }

    /// Takes it again; the next draw paints every cell.
    pub(crate) fn resume(&mut self) -> io::Result<()> {
        take_over()?;
        // ratatui draws what changed since its last frame: after a blank frame on a blank
        // screen, that is everything. (Its own `clear` asks the terminal where the cursor
        // is, which a terminal that never answers turns into a failure.)
        self.terminal.draw(|frame| frame.render_widget(Clear, frame.area()))?;
        Ok(())
    }

    /// Writes an escape sequence of our own (OSC 52) straight to the terminal.
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = io::stdout();
        out.write_all(bytes)?;
        out.flush()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn take_over() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, Hide, terminal::Clear(ClearType::All))
}

/// Leaves raw mode and the alternate screen, once per take-over (errors ignored: this runs
/// while things are ending, when there is nobody left to tell).
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
    }
}
