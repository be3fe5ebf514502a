//! The thread that reads the terminal's key presses and resizes (crossterm's reads block)
//! and queues them for the inspector's loop. A [`Gate`] pauses it while `$EDITOR` owns the
//! terminal, so not one key press is taken from the editor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;

use crate::tui::draw::list_height;
use crate::tui::keys::from_crossterm;
use crate::tui::model::Input;

/// How long one wait for input lasts before the thread checks whether to stop or pause.
const POLL: Duration = Duration::from_millis(100);

/// Pauses and stops the reader.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    paused: AtomicBool,
    stopped: AtomicBool,
    /// Held by the reader while it polls and reads, and by [`Gate::pause`] until the reader
    /// is out of its read: after `pause` returns, nothing more is read.
    reading: Mutex<()>,
}

impl Gate {
    /// A gate that lets the reader read.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Stops reading; returns once the reader is not inside a read.
    pub(crate) fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let _out_of_read = self.reading.lock();
    }

    /// Reads again.
    pub(crate) fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Ends the reader thread (within [`POLL`]).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

/// Starts the reader: key presses become `Input::Key`, resizes `Input::Resized`. It ends
/// when `gate` says stop or the loop is gone.
pub(crate) fn spawn_reader(
    inputs: mpsc::Sender<Input>,
    gate: Arc<Gate>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("hookrelay-keys".into()).spawn(move || {
        while !gate.stopped.load(Ordering::SeqCst) && !inputs.is_closed() {
            if gate.paused.load(Ordering::SeqCst) {
                std::thread::sleep(POLL);
                continue;
            }
            let Ok(_reading) = gate.reading.lock() else { return };
            if gate.paused.load(Ordering::SeqCst) || !event::poll(POLL).unwrap_or(false) {
                continue;
            }
            let input = match event::read() {
                Ok(Event::Key(key)) => from_crossterm(key).map(Input::Key),
                Ok(Event::Resize(_, height)) => Some(Input::Resized(list_height(height))),
                Ok(_) => None,
                Err(_) => return,
            };
            if let Some(input) = input
                && inputs.blocking_send(input).is_err()
            {
                return;
            }
        }
    })
}
