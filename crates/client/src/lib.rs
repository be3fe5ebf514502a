//! The `hookrelay` CLI as a library: connect to a relay, forward events to a local app,
//! render the live log.
