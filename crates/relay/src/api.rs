//! The JSON API: create a channel, read its history, delete it; plus `/healthz`, `/metrics`
//! and the JSON 404 for every other path.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use hookrelay_proto::{ChannelCreated, CreateChannel, ErrorBody, EventDetail, EventSummary};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, authorize};
use crate::error::RelayError;
use crate::store::StoreError;

/// Summaries returned when `limit` is absent.
const DEFAULT_LIMIT: usize = 100;
/// Most summaries one request may ask for.
const MAX_LIMIT: usize = 1000;

/// `POST /v1/channels`: a random unguessable id, or the requested name when it is free.
pub async fn create_channel(
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
        None => auth::new_channel_id().map_err(RelayError::Internal)?,
    };
    let token = auth::new_token().map_err(RelayError::Internal)?;
    state.store.create_channel(&channel, auth::hash_token(&token)).await.map_err(
        |err| match err {
            StoreError::ChannelExists(name) => RelayError::NameTaken(name),
            other => other.into(),
        },
    )?;
    tracing::info!(channel, "channel created");
    let ingest_url = format!("{}/h/{channel}", state.base_url);
    Ok((StatusCode::CREATED, Json(ChannelCreated { channel, token, ingest_url })).into_response())
}

/// Query of `GET /v1/channels/{channel}/events`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/channels/{channel}/events?after=SEQ&limit=N`: summaries, oldest first.
pub async fn list_events(
    State(state): State<Arc<AppState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<EventSummary>>, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let Query(query) = query.map_err(|err| RelayError::BadRequest(err.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(RelayError::BadRequest(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    Ok(Json(state.store.summaries(&channel, query.after.unwrap_or(0), limit).await?))
}

/// `GET /v1/channels/{channel}/events/{id}`: the whole event and its deliveries.
pub async fn get_event(
    State(state): State<Arc<AppState>>,
    Path((channel, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<EventDetail>, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let detail = state.store.detail(&channel, &id).await?;
    detail.map(Json).ok_or(RelayError::UnknownEvent(id))
}

/// `DELETE /v1/channels/{channel}`: the channel, its history, and its open sessions.
pub async fn delete_channel(
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

/// `GET /healthz`.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(
        serde_json::json!({"status": "ok", "service": "hookrelay", "version": env!("CARGO_PKG_VERSION")}),
    )
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// Every unknown route.
pub async fn not_found() -> Response {
    let body = ErrorBody::new(
        "not_found",
        "no such route: webhooks go to /h/{channel}/..., the API is under /v1/channels",
    );
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
