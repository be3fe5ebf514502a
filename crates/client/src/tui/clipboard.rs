//! Copy to the clipboard through the terminal (OSC 52): works over SSH and in most modern
//! terminals, with nothing to install. The text is base64 inside the sequence, so no byte of
//! event data reaches the terminal raw.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Largest payload copied. Terminals cap OSC 52 (xterm at about 100 KB of base64); past
/// this the inspector says to use `hookrelay show ID --body` instead of sending a sequence
/// the terminal would cut or drop.
pub(crate) const MAX_COPY_BYTES: usize = 74 * 1024;

/// The OSC 52 sequence that puts `bytes` on the clipboard; `None` when they are too many.
pub(crate) fn osc52(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() > MAX_COPY_BYTES {
        return None;
    }
    Some(format!("\u{1b}]52;c;{}\u{7}", STANDARD.encode(bytes)).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_base64_and_refuses_what_terminals_would_cut() {
        let sequence = osc52(b"curl 'x'\x1b[2J").expect("small");
        assert_eq!(sequence, b"\x1b]52;c;Y3VybCAneCcbWzJK\x07");
        assert!(osc52(&vec![b'a'; MAX_COPY_BYTES + 1]).is_none());
    }
}
