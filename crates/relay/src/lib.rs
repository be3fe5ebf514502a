//! `hookrelayd` as a library: the relay's HTTP server, store and websocket fan-out.
//! The `hookrelay` CLI embeds it for its local default.
