//! The webhook-management routes of DESIGN §6 and the router that serves them.

use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::auth::require_api_key;
use crate::catalog::Trigger;
use crate::deliver::deliver;
use crate::deliveries::DeliveryAttempt;
use crate::error::ApiError;
use crate::faker::Faker;
use crate::mode::Mode;
use crate::state::AppState;

/// Largest request body the API accepts; larger ones get 413.
pub(crate) const MAX_API_BODY: usize = 64 * 1024;
/// Longest webhook URL accepted.
pub(crate) const MAX_URL_LEN: usize = 2_048;

/// The emulator's routes over `state`. Unknown routes and methods get the error envelope.
pub(crate) fn app(state: AppState) -> Router {
    Router::new()
        .route("/v1/webhook_url", get(get_url).put(set_url).post(set_url).delete(remove_url))
        .route("/v1/webhook_url/test", post(test_url))
        .route("/v1/webhook_deliveries", get(list_deliveries))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_api_key))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_API_BODY))
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("No route for {method} {}. See docs/sandbox.md for the routes.", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept {method}.", uri.path()),
    )
}

/// Parses a JSON object body; empty means `{}`.
fn json_body(
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "The body must be a JSON object.")),
        Err(e) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, format!("The body is not valid JSON: {e}.")))
        }
    }
}

async fn set_url(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(body)?;
    let raw = body.get("webhook_url").and_then(Value::as_str).ok_or_else(|| {
        ApiError::unprocessable(
            r#"webhook_url is required, as in {"webhook_url": "https://myapp.com/webhooks"}."#,
        )
    })?;
    let url = validate_url(raw)?;
    state.set_webhook(url.clone());
    tracing::info!(%url, "webhook URL set");
    Ok(Json(json!({"webhook_url": url})))
}

/// An absolute http(s) URL with a host, normalized by the `url` crate.
fn validate_url(raw: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::unprocessable(format!(
            "webhook_url must be an absolute http or https URL such as https://myapp.com/webhooks; got {raw:?}."
        ))
    };
    if raw.len() > MAX_URL_LEN {
        return Err(ApiError::unprocessable(format!(
            "webhook_url is longer than {MAX_URL_LEN} characters."
        )));
    }
    let url = url::Url::parse(raw.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(url.to_string())
}

async fn get_url(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.webhook() {
        Some(reg) => Ok(Json(json!({"webhook_url": reg.url}))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "No webhook URL is set. Set one with PUT /v1/webhook_url.",
        )),
    }
}

async fn remove_url(State(state): State<AppState>) -> StatusCode {
    state.remove_webhook();
    tracing::info!("webhook URL removed");
    StatusCode::NO_CONTENT
}

async fn test_url(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let name = match body.get("event_type") {
        None => "test",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(ApiError::unprocessable("event_type must be a string.")),
    };
    let config = state.config();
    let mode = config.mode;
    let supported = config.catalog.triggerable(mode).join(", ");
    let event_type = config.catalog.get(name).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "Unknown event type {name:?}. Supported event types: {supported}."
        ))
    })?;
    match event_type.trigger() {
        Trigger::Never => {
            return Err(ApiError::unprocessable(format!(
                "The {name} event type cannot be triggered manually at this time."
            )));
        }
        t if !t.allows(mode) => {
            debug_assert_eq!(mode, Mode::Production);
            return Err(ApiError::unprocessable(format!(
                "In production, testing any event type other than {supported} returns an error, to protect production systems from events with side effects. Use the sandbox to simulate {name}."
            )));
        }
        _ => {}
    }
    let reg = state.webhook().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "No webhook URL is set, so there is nowhere to send the test event. Set one with PUT /v1/webhook_url first.",
        )
    })?;
    let event = config
        .catalog
        .build(name, &mut Faker::new())
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let outcome = deliver(&state, reg, event).await;
    Ok(Json(outcome).into_response())
}

/// The answer of `GET /v1/webhook_deliveries`.
#[derive(serde::Serialize)]
struct Deliveries {
    deliveries: Vec<DeliveryAttempt>,
}

async fn list_deliveries(State(state): State<AppState>) -> Json<Deliveries> {
    Json(Deliveries { deliveries: state.deliveries() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_with_a_host_are_accepted() {
        for ok in ["https://myapp.com/webhooks", "http://127.0.0.1:3000/h/abc?x=1"] {
            assert!(validate_url(ok).is_ok(), "{ok}");
        }
        for bad in
            ["/webhooks", "myapp.com/webhooks", "ftp://myapp.com/x", "mailto:a@b.c", "http://", ""]
        {
            assert_eq!(
                validate_url(bad).map_err(|e| e.status),
                Err(StatusCode::UNPROCESSABLE_ENTITY),
                "{bad}"
            );
        }
    }
}
