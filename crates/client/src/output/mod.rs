//! Every byte a person reads: the live log renderer (`render`) fed by its queue (`queue`),
//! its lines (`log_line`, and `listener_line` for other clients of the channel), the `events` table (`table`), the one-event view (`event_view`),
//! bodies (`body`), masked secrets (`mask`), `curl` command lines (`curl`), what `sandbox`
//! and `trigger` print, colors (`style`) and the one stdout writer (`stdout`). No network or
//! file I/O in here: callers hand in data, these modules turn it into text.

pub(crate) mod body;
pub(crate) mod curl;
pub(crate) mod event_view;
pub(crate) mod listener_line;
pub(crate) mod log_line;
pub(crate) mod mask;
pub(crate) mod queue;
pub(crate) mod records;
pub(crate) mod render;
pub(crate) mod sandbox;
pub(crate) mod stdout;
pub(crate) mod style;
pub(crate) mod table;
pub(crate) mod trigger;
