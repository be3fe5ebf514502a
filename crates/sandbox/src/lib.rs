//! hookrelay's provider emulator: a local copy of a webhook provider's webhook-management API
//! (DESIGN §6) and the catalogue of simulated events that `hookrelay sandbox` and
//! `hookrelay trigger` share.

// Catalogue side, shared with `hookrelay trigger`.
pub mod catalog;
pub mod faker;
mod template;
pub mod trigger;

// Emulator side.
mod api;
mod auth;
pub mod config;
mod deliver;
pub mod deliveries;
mod error;
mod state;

mod ids;
mod mode;

pub use api::app;
pub use auth::{INVALID_TOKEN, NO_BEARER, NO_HEADER};
pub use catalog::{Catalog, CatalogError, Event, EventType, Format, Trigger, UnknownEventType};
pub use config::{SandboxConfig, generate_api_key, parse_duration, parse_retry_schedule};
pub use deliver::USER_AGENT;
pub use deliveries::DeliveryAttempt;
pub use error::ApiError;
pub use faker::Faker;
pub use mode::Mode;
pub use state::AppState;
pub use template::PLACEHOLDERS;

use tokio_util::sync::CancellationToken;

/// Serves the emulator on `listener` until `shutdown` is cancelled, then stops pending
/// retries and waits briefly for in-flight deliveries.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SandboxConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let grace = config.delivery_timeout + std::time::Duration::from_secs(1);
    let state = AppState::new(config, shutdown.child_token());
    let addr = listener.local_addr().context("could not read the listening address")?;
    tracing::info!(%addr, mode = state.config().mode.as_str(), "sandbox listening");
    let result = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("the sandbox server failed");
    state.close(grace).await;
    result
}
