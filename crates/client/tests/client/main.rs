//! Integration tests of `hookrelay listen`: the real relay (in-process, or the `hookrelayd`
//! binary when it must be killed), the real `hookrelay` binary, and a recording local app;
//! a scripted fake relay for frames the real one never sends.

mod app;
mod cli;
mod fake_relay;
mod relay;

mod channels;
mod errors;
mod failing;
mod forwarding;
mod help;
mod history;
mod inspector;
mod listeners;
mod login;
mod misbehaving_relay;
mod relay_choice;
mod reliability;
mod replaying;
mod retention;
mod setup;
mod show;
mod signals;
mod targets;

// The provider emulator and `trigger`.
mod sandbox;
mod trigger;
mod whole_flow;

// listen's filters, routes, signatures and scripting flags.
mod filtering;
mod raw;
mod scripting;
mod signatures;
mod terminal;

use std::time::Duration;

/// Upper bound for any awaited condition, so a bug fails fast instead of hanging.
pub const WAIT: Duration = Duration::from_secs(60);
