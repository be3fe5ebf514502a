//! What goes into the inspector's model ([`Input`]) and what comes out ([`Command`]).

use hookrelay_proto::{EventDetail, EventSummary};

use crate::output::queue::UiEvent;
use crate::tui::keys::Key;

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    /// From the forwarding pipeline (the same events the line log gets).
    Ui(UiEvent),
    /// A key press.
    Key(Key),
    /// The channel's newest events.
    Latest(Vec<EventSummary>),
    /// Events older than the oldest row.
    Older(Vec<EventSummary>),
    /// Events newer than the newest row, and the page size asked.
    Newer(Vec<EventSummary>, usize),
    /// A page of history could not be read.
    PageFailed(String),
    /// An event fetched for the detail view (by id), or why not.
    Detail(String, Result<EventDetail, String>),
    /// What an action did (`copied ...`, `replay failed: ...`).
    Status(String),
    /// The list's height in rows changed (the terminal was resized).
    Resized(usize),
}

/// Something the model wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Read the newest page of history.
    LoadLatest,
    /// Read the page before `before`.
    LoadOlder {
        /// Oldest seq held.
        before: u64,
    },
    /// Read the page after `after`.
    LoadNewer {
        /// Newest seq held.
        after: u64,
    },
    /// Fetch one event in full.
    LoadDetail {
        /// Its id.
        id: String,
    },
    /// Stop waiting on the event being retried.
    Stop {
        /// Its seq.
        seq: u64,
    },
    /// Replay an event to the local app.
    Replay {
        /// Its id.
        id: String,
    },
    /// Edit an event in `$EDITOR`, then replay it.
    Edit {
        /// Its id.
        id: String,
    },
    /// Copy an event as a curl command.
    CopyCurl {
        /// Its id.
        id: String,
    },
    /// Copy an event's body.
    CopyBody {
        /// Its id.
        id: String,
    },
    /// Leave (terminal restored, `listen` stops).
    Quit,
}
