//! `ANY /h/{channel}[/{*path}]`: capture the request byte for byte (method, raw path suffix,
//! raw query, headers in order, body), append it to the store, answer `200 {"id","seq"}`
//! once it is durable, and wake the channel's sessions. Nothing here waits for a client.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header::CONTENT_LENGTH};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use hookrelay_proto::{EVENT_ID_HEADER, Header, IngestAck, event_type};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::error::RelayError;
use crate::metrics::IngestLabels;
use crate::store::{NewEvent, now_ms};

/// Largest body scanned for a JSON `type`/`event_type` (shown in history); webhook JSON is
/// small, and parsing a huge body on the ingest path is not worth a label.
const EVENT_TYPE_SCAN_MAX: usize = 256 * 1024;

/// Stores one webhook.
pub(crate) async fn ingest(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let response = match capture(&state, request).await {
        Ok(response) => response,
        Err(err) => {
            state.metrics.ingest_rejected.inc();
            err.into_response()
        }
    };
    let status = response.status().as_u16();
    state.metrics.ingest_requests.get_or_create(&IngestLabels { status }).inc();
    response
}

async fn capture(state: &AppState, request: Request) -> Result<Response, RelayError> {
    let (parts, body) = request.into_parts();
    let (channel, path) =
        split_path(parts.uri.path()).ok_or_else(|| RelayError::UnknownChannel(String::new()))?;
    crate::auth::live_channel(state.store.as_ref(), channel).await?;
    state.disk.check()?;
    let config = &state.config;
    let limits = BodyLimits {
        max_body: config.max_body,
        timeout: config.body_read_timeout,
        budget: &state.body_budget,
    };
    // Held until the event is stored and its answer built: the body is in memory till then.
    let (body, _memory) = read_body(body, &parts.headers, limits).await?;
    let size = body.len() as u64;
    let event = NewEvent {
        id: crate::ids::new_event_id().map_err(RelayError::Internal)?,
        received_at_ms: now_ms(),
        method: parts.method.as_str().to_owned(),
        path: path.to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: headers(&parts.headers),
        event_type: (body.len() <= EVENT_TYPE_SCAN_MAX).then(|| event_type(&body)).flatten(),
        body,
    };
    let id = event.id.clone();
    let seq = state.store.append(channel, event).await?;
    state.hub.notify(channel, seq);
    state.metrics.events_ingested.inc();
    state.metrics.bytes_ingested.inc_by(size);
    tracing::debug!(channel, seq, id, size, "event stored");
    Ok(([(EVENT_ID_HEADER, id.clone())], Json(IngestAck { id, seq })).into_response())
}

/// Splits `/h/{channel}{suffix}` into the channel and the raw (still percent-encoded) suffix.
fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/h/")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (channel, suffix) = rest.split_at(end);
    (!channel.is_empty()).then_some((channel, suffix))
}

/// Every header in received order; names are lowercase already (`http` normalises them).
fn headers(map: &HeaderMap) -> Vec<Header> {
    map.iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

/// What bounds one body.
struct BodyLimits<'a> {
    max_body: usize,
    timeout: Duration,
    /// Every body in memory takes permits of [`BUDGET_UNIT`] bytes from here.
    budget: &'a Arc<Semaphore>,
}

/// Bytes per permit of the body budget.
pub(crate) const BUDGET_UNIT: usize = 1024;

/// Reads the whole body, refusing it as soon as it is known to exceed `max_body` or once
/// `timeout` has passed (a slow sender gets `408` and the relay moves on). First it reserves
/// room in the relay-wide body budget, which the returned permit holds: when the budget is
/// spent, the request waits (senders slow down) and, past `timeout`, answers `503` instead of
/// the relay running out of memory.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limits: BodyLimits<'_>,
) -> Result<(Bytes, OwnedSemaphorePermit), RelayError> {
    let BodyLimits { max_body, timeout, budget } = limits;
    let too_large = RelayError::BodyTooLarge { limit: max_body };
    let declared =
        headers.get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body as u64) {
        return Err(too_large);
    }
    // Reserved, not touched: memory is only used as bytes arrive, and a body read in one
    // buffer of the right size is never copied while it grows.
    let capacity = declared.map_or(0, |length| length as usize);
    // One reservation per request, before any byte is read: the declared length, or the
    // most a body may be when it is not declared (chunked). Taking it in one go means no
    // request ever holds part of the budget while it waits for more.
    let reserve = declared.map_or(max_body, |length| length as usize).max(1);
    let units = u32::try_from(reserve.div_ceil(BUDGET_UNIT)).unwrap_or(u32::MAX);
    let reserved = tokio::time::timeout(timeout, budget.clone().acquire_many_owned(units))
        .await
        .map_err(|_| {
            RelayError::Unavailable(
                "the relay holds as many webhook bodies in memory as it may".into(),
            )
        })?
        .map_err(|_| RelayError::Unavailable("the relay is shutting down".into()))?;
    let read = async {
        let mut body = body;
        let mut buffer = BytesMut::with_capacity(capacity);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|err| RelayError::BodyRead(err.to_string()))?;
            if let Ok(data) = frame.into_data() {
                // Never more than reserved: the declared length (hyper holds a sender to it)
                // or max_body.
                if buffer.len() + data.len() > reserve {
                    return Err(RelayError::BodyTooLarge { limit: max_body });
                }
                buffer.extend_from_slice(&data);
            }
        }
        Ok(buffer.freeze())
    };
    let body = tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| RelayError::BodyTimeout(timeout))??;
    Ok((body, reserved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_suffix_is_kept_raw() {
        assert_eq!(split_path("/h/ch_1"), Some(("ch_1", "")));
        assert_eq!(split_path("/h/ch_1/"), Some(("ch_1", "/")));
        assert_eq!(split_path("/h/ch_1/a%2Fb/c"), Some(("ch_1", "/a%2Fb/c")));
        assert_eq!(split_path("/h/"), None);
        assert_eq!(split_path("/x/ch"), None);
    }
}
