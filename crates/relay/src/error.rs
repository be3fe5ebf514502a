//! `RelayError`: every way an HTTP request to the relay can fail, and how each becomes a
//! status code and the JSON envelope `{"error": {"code", "message"}}` of DESIGN §3.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookrelay_proto::ErrorBody;

use crate::store::StoreError;

/// A request the relay refuses or could not serve.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RelayError {
    /// No channel with this id.
    #[error("no channel {0:?} on this relay; create one with POST /v1/channels")]
    UnknownChannel(String),
    /// The channel was deleted; its id stays taken, so its old ingest URL feeds nobody.
    #[error(
        "channel {0:?} was deleted and takes no more webhooks; remove its URL from the \
         provider's settings (or create a new channel)"
    )]
    ChannelDeleted(String),
    /// No event with this id (or id prefix) in the channel.
    #[error("no event {0:?} in this channel (it may have expired)")]
    UnknownEvent(String),
    /// An id prefix that matches several events.
    #[error("{prefix:?} matches several events: {candidates}")]
    AmbiguousId {
        /// What was asked for.
        prefix: String,
        /// Some of the matching ids, comma-separated.
        candidates: String,
    },
    /// `POST /v1/channels` asked for a name that exists.
    #[error("channel name {0:?} is taken; pick another name or omit it for a random id")]
    NameTaken(String),
    /// A malformed request: bad JSON, bad name, bad query.
    #[error("{0}")]
    BadRequest(String),
    /// No `Authorization: Bearer ...` header.
    #[error("missing token: send `Authorization: Bearer <{0}>`")]
    MissingToken(&'static str),
    /// A bearer token that does not match.
    #[error("wrong token: the {0} does not match")]
    InvalidToken(&'static str),
    /// The ingest body is larger than `--max-body`.
    #[error("body larger than this relay's limit of {limit} bytes (--max-body)")]
    BodyTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The connection broke (or the body was malformed) while the body was read.
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    /// The sender did not finish its body within `Config::body_read_timeout`.
    #[error("the request body did not arrive within {0:?}; send the whole body without pausing")]
    BodyTimeout(std::time::Duration),
    /// The channel's undelivered events fill its byte quota: nothing was stored, the
    /// provider should retry later (a 5xx, which providers retry).
    #[error(
        "channel {channel:?} is full: its undelivered events use all of its {limit} bytes \
         (--max-channel-bytes); retry later, once a client has received them"
    )]
    ChannelFull {
        /// The channel.
        channel: String,
        /// Its quota in bytes.
        limit: u64,
    },
    /// The store's disk has less free space than `--min-free-disk`: nothing was stored.
    #[error(
        "the relay's disk is nearly full ({free} bytes free, --min-free-disk {min_free}); \
         retry later"
    )]
    DiskFull {
        /// Free bytes.
        free: u64,
        /// The configured minimum.
        min_free: u64,
    },
    /// The relay is at a limit or shutting down; the reason says which.
    #[error("{0}; retry shortly")]
    Unavailable(String),
    /// The store (Redis) cannot be reached: nothing was stored, the provider should retry.
    #[error("the relay's store is unreachable; nothing was stored, retry shortly")]
    StoreUnavailable(anyhow::Error),
    /// A bug or a broken disk: logged in full, reported vaguely.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl RelayError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::UnknownChannel(_) => (StatusCode::NOT_FOUND, "unknown_channel"),
            Self::ChannelDeleted(_) => (StatusCode::GONE, "channel_deleted"),
            Self::UnknownEvent(_) => (StatusCode::NOT_FOUND, "unknown_event"),
            Self::AmbiguousId { .. } => (StatusCode::CONFLICT, "ambiguous_id"),
            Self::NameTaken(_) => (StatusCode::CONFLICT, "name_taken"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::MissingToken(_) => (StatusCode::UNAUTHORIZED, "missing_token"),
            Self::InvalidToken(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            Self::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::BodyRead(_) => (StatusCode::BAD_REQUEST, "body_read_failed"),
            Self::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            Self::ChannelFull { .. } => (StatusCode::INSUFFICIENT_STORAGE, "channel_full"),
            Self::DiskFull { .. } => (StatusCode::INSUFFICIENT_STORAGE, "disk_full"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::StoreUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for RelayError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UnknownChannel(channel) => Self::UnknownChannel(channel),
            StoreError::ChannelExists(channel) => Self::NameTaken(channel),
            StoreError::ChannelFull { channel, limit } => Self::ChannelFull { channel, limit },
            StoreError::Closed => Self::Unavailable("the relay is shutting down".into()),
            StoreError::Unavailable(err) => Self::StoreUnavailable(err),
            StoreError::Backend(err) => Self::Internal(err),
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                "internal error; see the relay's log".to_owned()
            }
            Self::StoreUnavailable(err) => {
                tracing::warn!(error = format!("{err:#}"), "store unreachable");
                self.to_string()
            }
            other => other.to_string(),
        };
        (status, Json(ErrorBody::new(code, message))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_details() {
        let response = RelayError::Internal(anyhow::anyhow!("disk /secret full")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn codes_are_snake_case_and_statuses_match() {
        let cases = [
            (RelayError::UnknownChannel("x".into()), 404, "unknown_channel"),
            (RelayError::NameTaken("x".into()), 409, "name_taken"),
            (RelayError::ChannelDeleted("x".into()), 410, "channel_deleted"),
            (RelayError::MissingToken("channel token"), 401, "missing_token"),
            (RelayError::InvalidToken("channel token"), 401, "invalid_token"),
            (RelayError::BodyTooLarge { limit: 1 }, 413, "body_too_large"),
            (RelayError::BodyTimeout(std::time::Duration::from_secs(1)), 408, "body_timeout"),
            (RelayError::ChannelFull { channel: "x".into(), limit: 1 }, 507, "channel_full"),
            (RelayError::StoreUnavailable(anyhow::anyhow!("down")), 503, "store_unavailable"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status_and_code(), (StatusCode::from_u16(status).expect("valid"), code));
        }
    }
}
