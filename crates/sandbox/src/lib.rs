//! hookrelay's provider emulator: a local copy of a webhook provider's webhook-management API
//! (DESIGN §6) and the catalogue of simulated events that `hookrelay sandbox` and
//! `hookrelay trigger` share.
//!
//! # Layout
//!
//! Two sides over shared leaves; imports only point down (`modcycles.py` finds no circle):
//!
//! - emulator: `api` (the routes) → `auth`, `deliver` (POSTs to the registered URL with
//!   retries) → `state`, `config`, `deliveries` (the attempt log), `error`.
//! - catalogue: `trigger` (build and send one simulated event) → `catalog` (event types,
//!   from the built-in file and `--catalog` files) → `template`, `faker` (fake data).
//! - leaves: `ids`, `mode`. Every module is private; the flat `pub use` list below is the
//!   crate's whole surface.

// Catalogue side, shared with `hookrelay trigger`.
mod catalog;
mod faker;
mod template;
mod trigger;

// Emulator side.
mod api;
mod auth;
mod config;
mod deliver;
mod deliveries;
mod error;
mod state;

// Leaves.
mod ids;
mod mode;

// The public surface is flat: every module is private and what other crates use is here.
pub use catalog::{Catalog, CatalogError, Event, EventType, Format, Trigger, UnknownEventType};
pub use config::{
    DEFAULT_LISTEN, SandboxConfig, generate_api_key, parse_retry_schedule, parse_wait,
};
pub use deliveries::DeliveryAttempt;
pub use faker::Faker;
pub use mode::Mode;
pub use trigger::{
    DEFAULT_TRIGGER_TIMEOUT, TriggerReply, build_event, format_list, parse_data_arg, post_event,
};

use api::app;
use state::AppState;

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
