//! `hookrelay`: parses flags and runs a command.

fn main() {}
