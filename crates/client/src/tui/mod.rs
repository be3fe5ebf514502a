//! The terminal inspector of `listen --tui` (DESIGN §10): another renderer of the same
//! `output::queue` events the line log gets, drawn full-screen with ratatui. Pure parts
//! first: the event rows (`row`) and the bounded window of them (`window`), keys (`keys`),
//! text for cells (`text`), the state machine (`model`) and drawing (`draw`); then the
//! terminal itself (`terminal`, the key reader `input`, the clipboard sequence
//! `clipboard`). No network or file I/O in here: `commands::listen::inspector` runs the
//! loop and does what the model asks.

pub(crate) mod clipboard;
pub(crate) mod draw;
pub(crate) mod input;
pub(crate) mod keys;
pub(crate) mod model;
pub(crate) mod row;
pub(crate) mod terminal;
pub(crate) mod text;
pub(crate) mod window;
