//! Ids and secrets, a leaf every other module may use: random channel ids, event ids and
//! tokens (lowercase base32), the SHA-256 digests the store keeps instead of tokens, and
//! their constant-time comparison.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// SHA-256 of a token: what the store keeps, so a leaked database reveals no token.
pub(crate) type TokenHash = [u8; 32];

/// Random bytes in a channel id (128 bits: unguessable, DESIGN §2.7).
const CHANNEL_ID_BYTES: usize = 16;
/// Random bytes in a channel token (256 bits).
const TOKEN_BYTES: usize = 32;

/// A fresh unguessable channel id: `ch_` and 26 lowercase base32 characters.
pub(crate) fn new_channel_id() -> anyhow::Result<String> {
    Ok(format!("ch_{}", base32(&random_bytes::<CHANNEL_ID_BYTES>()?)))
}

/// A fresh event id: `evt_` and 26 lowercase base32 characters (128 random bits). Random
/// rather than time-ordered (`seq` gives the order), so the first few characters already
/// tell events apart and work as a prefix (`hookrelay show evt_k2qza9xm`).
pub(crate) fn new_event_id() -> anyhow::Result<String> {
    Ok(format!("evt_{}", base32(&random_bytes::<CHANNEL_ID_BYTES>()?)))
}

/// A fresh channel token: `hrt_` and 52 lowercase base32 characters.
pub(crate) fn new_token() -> anyhow::Result<String> {
    Ok(format!("hrt_{}", base32(&random_bytes::<TOKEN_BYTES>()?)))
}

/// A fresh admin token: `hra_` and 52 lowercase base32 characters.
pub(crate) fn new_admin_token() -> anyhow::Result<String> {
    Ok(format!("hra_{}", base32(&random_bytes::<TOKEN_BYTES>()?)))
}

/// The digest stored for `token`.
pub(crate) fn hash_token(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` hashes to `expected`, in time independent of where they differ.
pub(crate) fn token_matches(token: &str, expected: &TokenHash) -> bool {
    hash_token(token).ct_eq(expected).into()
}

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|err| anyhow::anyhow!("the OS random generator failed: {err}"))?;
    Ok(bytes)
}

/// RFC 4648 base32, lowercase, no padding: short, case-insensitive-safe, URL-safe.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn ids_and_tokens_have_enough_entropy_and_differ() {
        let id = new_channel_id().expect("random");
        assert_eq!(id.len(), 3 + 26);
        assert_ne!(id, new_channel_id().expect("random"));
        assert_eq!(new_token().expect("random").len(), 4 + 52);
    }

    #[test]
    fn token_matches_only_itself() {
        let hash = hash_token("hrt_abc");
        assert!(token_matches("hrt_abc", &hash));
        assert!(!token_matches("hrt_abd", &hash));
        assert!(!token_matches("", &hash));
    }
}
