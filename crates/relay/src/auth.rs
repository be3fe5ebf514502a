//! Secrets and ids: random channel ids, event ids and tokens, the SHA-256 digests the store keeps instead of
//! tokens, constant-time comparison, and reading `Authorization: Bearer ...`.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::RelayError;
use crate::store::{ChannelInfo, Store};

/// SHA-256 of a token: what the store keeps, so a leaked database reveals no token.
pub type TokenHash = [u8; 32];

/// Random bytes in a channel id (128 bits: unguessable, DESIGN §2.7).
const CHANNEL_ID_BYTES: usize = 16;
/// Random bytes in a channel token (256 bits).
const TOKEN_BYTES: usize = 32;
/// Longest channel name a user may choose.
const MAX_NAME_LEN: usize = 64;

/// A fresh unguessable channel id: `ch_` and 26 lowercase base32 characters.
pub fn new_channel_id() -> anyhow::Result<String> {
    Ok(format!("ch_{}", base32(&random_bytes::<CHANNEL_ID_BYTES>()?)))
}

/// A fresh event id: `evt_` and 26 lowercase base32 characters (128 random bits). Random
/// rather than time-ordered (`seq` gives the order), so the first few characters already
/// tell events apart and work as a prefix (`hookrelay show evt_k2qza9xm`).
pub fn new_event_id() -> anyhow::Result<String> {
    Ok(format!("evt_{}", base32(&random_bytes::<CHANNEL_ID_BYTES>()?)))
}

/// A fresh channel token: `hrt_` and 52 lowercase base32 characters.
pub fn new_token() -> anyhow::Result<String> {
    Ok(format!("hrt_{}", base32(&random_bytes::<TOKEN_BYTES>()?)))
}

/// The digest stored for `token`.
pub fn hash_token(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` hashes to `expected`, in time independent of where they differ.
pub fn token_matches(token: &str, expected: &TokenHash) -> bool {
    hash_token(token).ct_eq(expected).into()
}

/// Checks a user-chosen channel name: 1 to 64 of `a-z 0-9 - _`.
pub fn validate_name(name: &str) -> Result<(), RelayError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.chars().all(allowed) {
        return Err(RelayError::BadRequest(format!(
            "invalid channel name {name:?}: use 1 to {MAX_NAME_LEN} characters of a-z, 0-9, '-' and '_'"
        )));
    }
    Ok(())
}

/// The bearer token of a request; `what` names the expected token in the error message.
pub fn bearer<'a>(headers: &'a HeaderMap, what: &'static str) -> Result<&'a str, RelayError> {
    let value = headers.get(AUTHORIZATION).ok_or(RelayError::MissingToken(what))?;
    let value = value.to_str().map_err(|_| RelayError::InvalidToken(what))?;
    let (scheme, token) = value.split_once(' ').ok_or(RelayError::MissingToken(what))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(RelayError::MissingToken(what));
    }
    Ok(token.trim())
}

/// Checks the admin token when the relay was started with one.
pub fn check_admin(headers: &HeaderMap, admin: Option<&TokenHash>) -> Result<(), RelayError> {
    let Some(expected) = admin else { return Ok(()) };
    let what = "admin token (--admin-token)";
    if token_matches(bearer(headers, what)?, expected) {
        Ok(())
    } else {
        Err(RelayError::InvalidToken(what))
    }
}

/// Checks `Authorization: Bearer <channel token>` for `channel`: missing token, unknown
/// channel and wrong token each get their own error.
pub async fn authorize(
    store: &dyn Store,
    headers: &HeaderMap,
    channel: &str,
) -> Result<ChannelInfo, RelayError> {
    let what = "channel token";
    let token = bearer(headers, what)?;
    let info = store
        .channel(channel)
        .await?
        .ok_or_else(|| RelayError::UnknownChannel(channel.to_owned()))?;
    if !token_matches(token, &info.token_hash) {
        return Err(RelayError::InvalidToken(what));
    }
    Ok(info)
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

    #[test]
    fn names_are_validated() {
        assert!(validate_name("my-app_2").is_ok());
        for bad in ["", "My", "a b", "a/b", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bearer_distinguishes_missing_from_wrong() {
        let mut headers = HeaderMap::new();
        assert!(matches!(bearer(&headers, "t"), Err(RelayError::MissingToken(_))));
        headers.insert(AUTHORIZATION, "Bearer  tok ".parse().expect("valid"));
        assert_eq!(bearer(&headers, "t").expect("present"), "tok");
        headers.insert(AUTHORIZATION, "Basic abc".parse().expect("valid"));
        assert!(matches!(bearer(&headers, "t"), Err(RelayError::MissingToken(_))));
    }
}
