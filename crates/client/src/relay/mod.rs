//! Everything that talks to the relay: its HTTP API (`api`), the websocket stream
//! (`tunnel`, with `inbound` reading its frames and `other_listeners` keeping track of the
//! channel's other clients), the embedded relay (`embedded`), choosing
//! and saving the channel (`channel_choice`), opening both for the one-shot commands
//! (`connect`) and reading history through them (`history`). Never imports `deliver`:
//! events leave the tunnel as plain values on a queue.

pub(crate) mod api;
pub(crate) mod channel_choice;
pub(crate) mod connect;
pub(crate) mod embedded;
pub(crate) mod history;
pub(crate) mod inbound;
pub(crate) mod other_listeners;
pub(crate) mod tunnel;
