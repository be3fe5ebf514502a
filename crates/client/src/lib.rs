//! The `hookrelay` CLI as a library: connect to a relay, forward events to a local app,
//! render the live log. Shaped like stripe-cli's `listen`: a transport (`tunnel`), a
//! forwarder (`forward`), an event processor (`deliver`) and a renderer (`render`), joined
//! by bounded, typed channels (`ui`).

mod backoff;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod events;
pub use hookrelay_http as http;
mod listen;
pub mod local;
pub mod output;
mod processor;
pub mod relay;
pub mod replay;
pub mod sandbox;
pub mod show;
mod signals;
#[cfg(test)]
pub(crate) mod test_support;
pub mod trigger;

pub use config::{ChannelCreds, CommandEnv, DEFAULT_PORT, ListenConfig, RelayChoice};
pub use listen::listen;
pub use local::paths::Dirs;
pub use output::render::{Mode, Renderer};
pub use signals::cancel_on_signals;
