//! `hookrelayd`: parses flags and runs the relay.

fn main() {}
