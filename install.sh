#!/usr/bin/env bash
# Builds release binaries of `hookrelay` (the CLI) and `hookrelayd` (the relay) and puts them
# on your PATH via `cargo install` (into ~/.cargo/bin, or $CARGO_HOME/bin).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v cargo >/dev/null 2>&1; then
    cat >&2 <<'MSG'
error: cargo (the Rust toolchain) is not installed.
Install it with:  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
then open a new shell (or run: . "$HOME/.cargo/env") and run ./install.sh again.
MSG
    exit 1
fi

cargo install --locked --path crates/relay
cargo install --locked --path crates/client

bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "note: add $bin_dir to your PATH (e.g. in ~/.bashrc: export PATH=\"$bin_dir:\$PATH\")" >&2 ;;
esac
echo "installed: $bin_dir/hookrelay and $bin_dir/hookrelayd"
echo "next: hookrelay listen --forward-to http://localhost:3000/webhooks"
