//! Every byte a person reads: the live log renderer (`render`) fed by its queue (`queue`),
//! its lines (`log_line`), the `events` table (`table`), the one-event view (`event_view`),
//! bodies (`body`), masked secrets (`mask`), `curl` command lines (`curl`), what `sandbox`
//! and `trigger` print, colors (`style`) and the one stdout writer (`stdout`). No network or file I/O in here: callers hand in data,
//! these modules turn it into text.

pub mod body;
pub mod curl;
pub(crate) mod event_view;
pub mod log_line;
pub mod mask;
pub mod queue;
pub mod render;
pub(crate) mod sandbox;
pub mod stdout;
pub mod style;
pub mod table;
pub(crate) mod trigger;
