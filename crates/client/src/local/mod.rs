//! Files on this machine: where the CLI keeps them (`paths`), the small state files that
//! survive restarts (`state`: saved channels, cursors, last targets) and `listen
//! --ready-file` (`ready_file`), all written with `atomic::write_atomic` (temp file +
//! rename, mode 0600). The bottom of the crate: imports nothing from the other groups.

pub(crate) mod atomic;
pub(crate) mod paths;
pub(crate) mod ready_file;
pub(crate) mod saved_relay;
pub(crate) mod state;
