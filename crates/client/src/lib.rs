//! The `hookrelay` CLI as a library: connect to a relay, forward events to a local app,
//! render the live log. Shaped like stripe-cli's `listen`: a transport (`tunnel`), a
//! forwarder (`forward`), an event processor (`deliver`) and a renderer (`render`), joined
//! by bounded, typed channels (`ui`).

mod backoff;
mod channel;
pub mod cli;
pub mod config;
mod deliver;
pub mod dirs;
mod embedded;
pub mod forward;
pub mod http;
mod line;
mod listen;
pub mod outgoing;
pub mod relay_api;
pub mod render;
mod signals;
pub mod state;
mod tunnel;
pub mod ui;
mod watermark;

pub use config::{ChannelCreds, DEFAULT_PORT, ListenConfig, RelayChoice};
pub use dirs::Dirs;
pub use listen::listen;
pub use render::{Mode, Renderer};
pub use signals::cancel_on_signals;
