#!/usr/bin/env bash
# Builds release binaries of `hookrelay` (the CLI) and `hookrelayd` (the relay) once, and
# copies both into cargo's bin directory (~/.cargo/bin, or $CARGO_HOME/bin), which rustup
# puts on your PATH. Set INSTALL_DIR to install somewhere else.
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

bin_dir="${INSTALL_DIR:-${CARGO_HOME:-$HOME/.cargo}/bin}"
echo "building release binaries (a few minutes the first time)..."
cargo build --release --locked -p hookrelay-relay -p hookrelay-client
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
mkdir -p "$bin_dir"
install -m 755 "$target_dir/release/hookrelay" "$target_dir/release/hookrelayd" "$bin_dir/"

echo "installed: $bin_dir/hookrelay and $bin_dir/hookrelayd"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "note: $bin_dir is not on your PATH; add it (e.g. in ~/.bashrc: export PATH=\"$bin_dir:\$PATH\")" >&2 ;;
esac
echo "next: hookrelay listen --forward-to http://localhost:3000/webhooks"
