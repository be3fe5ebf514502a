//! `Authorization: Bearer <api key>` with the provider's three 401 details.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use crate::error::ApiError;
use crate::state::AppState;

/// No `Authorization` header.
pub(crate) const NO_HEADER: &str = "Please include an authorization header.";
/// A header that does not carry a bearer token.
pub(crate) const NO_BEARER: &str = "Please include a Bearer token in your header.";
/// A bearer token that is not the API key.
pub(crate) const INVALID_TOKEN: &str = "Invalid token. Please check and try again.";

/// Middleware for every API route: passes the request on only with the right key.
pub(crate) async fn require_api_key(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match check(req.headers().get(AUTHORIZATION), &state.config().api_key) {
        Ok(()) => next.run(req).await,
        Err(detail) => ApiError::unauthorized(detail).into_response(),
    }
}

fn check(header: Option<&axum::http::HeaderValue>, key: &str) -> Result<(), &'static str> {
    let header = header.ok_or(NO_HEADER)?;
    let value = header.to_str().map_err(|_| NO_BEARER)?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(NO_BEARER),
    };
    if token.is_empty() {
        return Err(NO_BEARER);
    }
    if bool::from(token.as_bytes().ct_eq(key.as_bytes())) { Ok(()) } else { Err(INVALID_TOKEN) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn each_kind_of_bad_header_gets_its_own_detail() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(check(None, "k"), Err(NO_HEADER));
        assert_eq!(check(Some(&v("Basic abc")), "k"), Err(NO_BEARER));
        assert_eq!(check(Some(&v("Bearer")), "k"), Err(NO_BEARER));
        assert_eq!(check(Some(&v("Bearer ")), "k"), Err(NO_BEARER));
        assert_eq!(check(Some(&v("k")), "k"), Err(NO_BEARER));
        assert_eq!(check(Some(&v("Bearer nope")), "k"), Err(INVALID_TOKEN));
        assert_eq!(check(Some(&v("Bearer k")), "k"), Ok(()));
        assert_eq!(check(Some(&v("bearer k")), "k"), Ok(()));
    }
}
