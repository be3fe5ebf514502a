//! Who may do what: reading `Authorization: Bearer ...`, checking the admin token and a
//! channel's token against the store, and validating user-chosen channel names.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::error::RelayError;
use crate::ids::{TokenHash, token_matches};
use crate::store::{ChannelInfo, Store};

/// Longest channel name a user may choose.
const MAX_NAME_LEN: usize = 64;

/// Checks a user-chosen channel name: 1 to 64 of `a-z 0-9 - _`.
pub(crate) fn validate_name(name: &str) -> Result<(), RelayError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.chars().all(allowed) {
        return Err(RelayError::BadRequest(format!(
            "invalid channel name {name:?}: use 1 to {MAX_NAME_LEN} characters of a-z, 0-9, '-' and '_'"
        )));
    }
    if name.starts_with("ch_") {
        return Err(RelayError::BadRequest(format!(
            "invalid channel name {name:?}: names starting with ch_ are the relay's own ids; \
             pick another name or omit it for a random id"
        )));
    }
    Ok(())
}

/// The bearer token of a request; `what` names the expected token in the error message.
pub(crate) fn bearer<'a>(
    headers: &'a HeaderMap,
    what: &'static str,
) -> Result<&'a str, RelayError> {
    let value = headers.get(AUTHORIZATION).ok_or(RelayError::MissingToken(what))?;
    let value = value.to_str().map_err(|_| RelayError::InvalidToken(what))?;
    let (scheme, token) = value.split_once(' ').ok_or(RelayError::MissingToken(what))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(RelayError::MissingToken(what));
    }
    Ok(token.trim())
}

/// Checks the admin token when the relay was started with one.
pub(crate) fn check_admin(
    headers: &HeaderMap,
    admin: Option<&TokenHash>,
) -> Result<(), RelayError> {
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
/// The channel `id`, or why there is none: `ChannelDeleted` for a deleted id (which stays
/// taken), `UnknownChannel` otherwise.
pub(crate) async fn live_channel(store: &dyn Store, id: &str) -> Result<ChannelInfo, RelayError> {
    if let Some(info) = store.channel(id).await? {
        return Ok(info);
    }
    Err(if store.deleted(id).await? {
        RelayError::ChannelDeleted(id.to_owned())
    } else {
        RelayError::UnknownChannel(id.to_owned())
    })
}

pub(crate) async fn authorize(
    store: &dyn Store,
    headers: &HeaderMap,
    channel: &str,
) -> Result<ChannelInfo, RelayError> {
    let what = "channel token";
    let token = bearer(headers, what)?;
    let info = live_channel(store, channel).await?;
    if !token_matches(token, &info.token_hash) {
        return Err(RelayError::InvalidToken(what));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_name("my-app_2").is_ok());
        for bad in ["", "My", "a b", "a/b", &"x".repeat(65), "ch_taken"] {
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
