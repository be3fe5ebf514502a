//! The JSON API (docs/api.md): create a channel, read its history (by page, by id or id
//! prefix), record out-of-stream deliveries, delete it; plus `/healthz`, `/metrics` and the
//! JSON 404 for every other path.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use hookrelay_proto::{
    ChannelCreated, CreateChannel, DeliveryResult, ErrorBody, EventSummary, Gap, MAX_PAGE, Page,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, authorize};
use crate::error::RelayError;
use crate::ids;
use crate::store::{IdMatch, id_prefix};

/// Summaries returned when `limit` is absent.
const DEFAULT_LIMIT: usize = 100;

/// `POST /v1/channels`: a random unguessable id, or the requested name when it is free.
pub(crate) async fn create_channel(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RelayError> {
    auth::check_admin(&headers, state.admin_token.as_ref())?;
    let request: CreateChannel = if body.iter().all(u8::is_ascii_whitespace) {
        CreateChannel::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| {
            RelayError::BadRequest(format!("body must be empty or {{\"name\": \"...\"}}: {err}"))
        })?
    };
    let channel = match request.name {
        Some(name) => {
            auth::validate_name(&name)?;
            name
        }
        None => ids::new_channel_id().map_err(RelayError::Internal)?,
    };
    let token = ids::new_token().map_err(RelayError::Internal)?;
    // A taken name comes back as `ChannelExists`, which is `409 name_taken`.
    state.store.create_channel(&channel, ids::hash_token(&token)).await?;
    tracing::info!(channel, "channel created");
    let ingest_url = format!("{}/h/{channel}", state.base_url);
    Ok((StatusCode::CREATED, Json(ChannelCreated { channel, token, ingest_url })).into_response())
}

/// Query of `GET /v1/channels/{channel}/events`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    after: Option<u64>,
    limit: Option<usize>,
    last: Option<usize>,
}

/// `GET /v1/channels/{channel}/events?after=SEQ&limit=N` or `?last=N`: summaries, oldest
/// first.
pub(crate) async fn list_events(
    State(state): State<Arc<AppState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<EventSummary>>, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let Query(query) = query.map_err(|err| RelayError::BadRequest(err.body_text()))?;
    let in_range = |n: usize| {
        (1..=MAX_PAGE).contains(&n).then_some(n).ok_or_else(|| {
            RelayError::BadRequest(format!("limit and last must be 1 to {MAX_PAGE}"))
        })
    };
    let page = match (query.last, query.after, query.limit) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(RelayError::BadRequest("use after/limit or last, not both".into()));
        }
        (Some(last), None, None) => Page::Last(in_range(last)?),
        (None, after, limit) => Page::After {
            after: after.unwrap_or(0),
            limit: in_range(limit.unwrap_or(DEFAULT_LIMIT))?,
        },
    };
    Ok(Json(state.store.summaries(&channel, page).await?))
}

/// `GET /v1/channels/{channel}/gaps`: every run of events age retention removed before a
/// client finished them, oldest first.
pub(crate) async fn list_gaps(
    State(state): State<Arc<AppState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<Gap>>, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    // Seqs are bound as SQLite integers, which stop at i64::MAX.
    let everything = i64::MAX as u64;
    Ok(Json(state.store.expired(&channel, 1, everything).await?))
}

/// Resolves `{id}` in a channel route: a full id or a unique prefix, `evt_` optional.
async fn resolve(
    state: &AppState,
    channel: &str,
    typed: &str,
) -> Result<(String, u64), RelayError> {
    let unknown = || RelayError::UnknownEvent(typed.to_owned());
    let prefix = id_prefix(typed).ok_or_else(unknown)?;
    match state.store.find_event(channel, &prefix).await? {
        IdMatch::One { id, seq } => Ok((id, seq)),
        IdMatch::None => Err(unknown()),
        IdMatch::Many(ids) => {
            Err(RelayError::AmbiguousId { prefix: typed.to_owned(), candidates: ids.join(", ") })
        }
    }
}

/// `GET /v1/channels/{channel}/events/{id}`: the whole event and its deliveries.
pub(crate) async fn get_event(
    State(state): State<Arc<AppState>>,
    Path((channel, typed)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let (id, _) = resolve(&state, &channel, &typed).await?;
    let detail = state.store.detail(&channel, &id).await?;
    detail.map(crate::event_answer::response).ok_or(RelayError::UnknownEvent(typed))
}

/// `POST /v1/channels/{channel}/events/{id}/deliveries`: records a delivery made outside the
/// stream (`hookrelay replay`), with a `DeliveryResult` body.
pub(crate) async fn record_delivery(
    State(state): State<Arc<AppState>>,
    Path((channel, typed)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let result: DeliveryResult = serde_json::from_slice(&body)
        .map_err(|err| RelayError::BadRequest(format!("body must be a delivery result: {err}")))?;
    let (id, seq) = resolve(&state, &channel, &typed).await?;
    if !state.store.record_delivery(&channel, seq, &id, crate::store::stamped(result)).await? {
        return Err(RelayError::UnknownEvent(typed));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/channels/{channel}/token`: a new token for the channel (needs the current one);
/// the old one stops working at once, for the API and for new streams.
pub(crate) async fn rotate_token(
    State(state): State<Arc<AppState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let token = ids::new_token().map_err(RelayError::Internal)?;
    if !state.store.set_token(&channel, ids::hash_token(&token)).await? {
        return Err(RelayError::UnknownChannel(channel));
    }
    tracing::info!(channel, "channel token rotated");
    let ingest_url = format!("{}/h/{channel}", state.base_url);
    Ok(Json(ChannelCreated { channel, token, ingest_url }).into_response())
}

/// `DELETE /v1/channels/{channel}`: the channel, its history, and its open sessions.
pub(crate) async fn delete_channel(
    State(state): State<Arc<AppState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    state.store.delete_channel(&channel).await?;
    state.hub.close(&channel);
    tracing::info!(channel, "channel deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/admin`: `200 {"create_channels": true}` when this request may create channels
/// (its admin token matches, or creation is open), else `401`. `hookrelay login` checks a
/// token with it before saving it.
pub(crate) async fn check_admin(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, RelayError> {
    auth::check_admin(&headers, state.admin_token.as_ref())?;
    Ok(Json(serde_json::json!({ "create_channels": true })))
}

/// `GET /healthz`: 200 when the relay can ingest, else 503 with the reason.
pub(crate) async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    if let Err(err) = state.disk.check() {
        let body = serde_json::json!({
            "status": "disk_full", "service": "hookrelay", "version": env!("CARGO_PKG_VERSION"),
            "error": err.to_string(),
        });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    if let Err(err) = state.store.reachable().await {
        let body = serde_json::json!({
            "status": "store_unavailable", "service": "hookrelay",
            "version": env!("CARGO_PKG_VERSION"), "error": format!("{err:#}"),
        });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    healthy().await.into_response()
}

async fn healthy() -> Json<serde_json::Value> {
    Json(
        serde_json::json!({"status": "ok", "service": "hookrelay", "version": env!("CARGO_PKG_VERSION")}),
    )
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let units = state.config.max_body_memory.div_ceil(crate::ingest::BUDGET_UNIT);
    let reserved = units.saturating_sub(state.body_budget.available_permits());
    let reserved = i64::try_from(reserved * crate::ingest::BUDGET_UNIT).unwrap_or(i64::MAX);
    state.metrics.body_memory_bytes.set(reserved);
    ([(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], state.metrics.render()).into_response()
}

/// Every unknown route.
pub(crate) async fn not_found() -> Response {
    let body = ErrorBody::new(
        "not_found",
        "no such route: webhooks go to /h/{channel}/..., the API is under /v1/channels",
    );
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
