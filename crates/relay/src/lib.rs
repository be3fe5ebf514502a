//! `hookrelayd` as a library: the relay's HTTP server, store and websocket fan-out.
//! The `hookrelay` CLI embeds it for its local default: `serve(listener, config, shutdown)`.
//!
//! # Layout
//!
//! From top to bottom; imports only point down the list (`modcycles.py` finds no circle):
//!
//! - this file: `Relay` (open the store, start age retention, the routes) and `serve`;
//!   `admin` (who may create channels: `Guard`), used by `hookrelayd` at start.
//! - handlers: `ingest` (`/h/{channel}`), `api` (channels, history, health, metrics;
//!   `event_answer` streams one event's JSON), `session` (one websocket stream, and
//!   `session::Listeners`: who streams each channel); they answer through
//!   `error::RelayError`.
//! - `auth` (bearer tokens, `authorize`), `error`, `hub` (per-channel wake-ups), `metrics`,
//!   `disk` (`--min-free-disk`).
//! - `follow` (a store shared by several relays: wakes this relay's sessions for appends
//!   that other relays made).
//! - `store`: the `Store` trait, its SQLite, memory and Redis implementations and
//!   retention; it knows nothing of HTTP.
//! - leaves: `config`, `ids` (ids, tokens and their hashes), `urls`, `tls`, `server` (the
//!   accept loop with its limits), `signals`, `files` (private directories and files),
//!   `logging` (the stderr log that never blocks or fails; `hookrelay` uses it too).

mod admin;
mod api;
mod auth;
mod config;
mod disk;
mod error;
mod event_answer;
mod files;
mod follow;
mod hub;
mod ids;
mod ingest;
mod logging;
mod metrics;
mod server;
mod session;
mod signals;
mod store;
mod tls;
mod urls;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;
use url::Url;

pub use admin::{ADMIN_TOKEN_FILE, Guard};
pub use config::{
    Config, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY,
    DEFAULT_MAX_BODY_MEMORY, DEFAULT_MAX_CHANNEL_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MIN_FREE_DISK, DEFAULT_WRITE_TIMEOUT, Retention, StoreKind, TlsFiles, default_data_dir,
};
pub use logging::{LOG_QUEUE_LINES, LogGuard, init_stderr_log, stderr_line, stdout_line};
pub use session::MAX_CLIENT_MESSAGE;
pub use signals::spawn_signal_watch;
pub use urls::{base_url, local_url};

/// How often age retention runs at most; a short `--retention-age` sweeps more often (a
/// quarter of it, at least every `MIN_RETENTION_SWEEP`), so events expire close to on time.
const RETENTION_SWEEP: Duration = Duration::from_secs(60);
/// The shortest pause between two age-retention sweeps.
const MIN_RETENTION_SWEEP: Duration = Duration::from_millis(100);
/// How long shutdown waits for sessions' Close handshakes and in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves until `shutdown` is cancelled; closes websocket sessions with a Close frame first.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let address = listener.local_addr().context("could not read the listen address")?;
    let base_url = base_url(&config, address)?;
    Relay::open(config, base_url, shutdown).await?.serve(listener).await
}

/// A relay with its store open and its background tasks running, not yet serving a socket.
/// `serve` is `Relay::open` then `Relay::serve`; tests may drive `router()` directly.
pub struct Relay {
    state: Arc<AppState>,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// What every handler shares.
struct AppState {
    config: Config,
    store: Arc<dyn store::Store>,
    hub: hub::Hub,
    /// Who streams each channel (so a second `listen` hears of the first).
    listeners: session::Listeners,
    metrics: metrics::Metrics,
    /// `public_url` (or the listen address) without a trailing `/`.
    base_url: String,
    admin_token: Option<ids::TokenHash>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    /// One permit per open websocket session.
    session_slots: Arc<tokio::sync::Semaphore>,
    /// Free space of the store's disk against `--min-free-disk`.
    disk: disk::Disk,
    /// Room for request bodies in memory, in `ingest::BUDGET_UNIT`s.
    body_budget: Arc<tokio::sync::Semaphore>,
}

impl Relay {
    /// Opens the store and starts age retention. `base_url` prefixes the `ingest_url`s handed
    /// out; cancelling `shutdown` ends every session and background task.
    pub async fn open(
        config: Config,
        base_url: Url,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let metrics = metrics::Metrics::default();
        let store = store::open(&config, &metrics).await?;
        let state = Arc::new(AppState {
            admin_token: config.admin_token.as_deref().map(ids::hash_token),
            base_url: base_url.as_str().trim_end_matches('/').to_owned(),
            store,
            hub: hub::Hub::default(),
            listeners: session::Listeners::default(),
            metrics,
            shutdown,
            tasks: TaskTracker::new(),
            session_slots: Arc::new(tokio::sync::Semaphore::new(config.max_sessions)),
            body_budget: Arc::new(tokio::sync::Semaphore::new(
                config.max_body_memory.div_ceil(ingest::BUDGET_UNIT),
            )),
            disk: disk::Disk::new(
                (config.store == StoreKind::Sqlite).then(|| config.data_dir.clone()),
                config.min_free_disk,
            ),
            config,
        });
        state
            .tasks
            .spawn(expire_old_events(state.clone()).instrument(tracing::info_span!("retention")));
        if state.store.shared() {
            let follower = state.clone();
            state.tasks.spawn(
                async move {
                    follow::run(follower.store.clone(), &follower.hub, follower.shutdown.clone())
                        .await;
                }
                .instrument(tracing::info_span!("follow")),
            );
        }
        let watched = state.clone();
        state.tasks.spawn(
            async move { watched.disk.watch(watched.shutdown.clone()).await }
                .instrument(tracing::info_span!("disk")),
        );
        Ok(Self { state, tls })
    }

    /// The relay's routes (DESIGN §3).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/channels", post(api::create_channel))
            .route("/v1/admin", get(api::check_admin))
            .route("/v1/channels/{channel}", axum::routing::delete(api::delete_channel))
            .route("/v1/channels/{channel}/events", get(api::list_events))
            .route("/v1/channels/{channel}/gaps", get(api::list_gaps))
            .route("/v1/channels/{channel}/token", post(api::rotate_token))
            .route("/v1/channels/{channel}/events/{id}", get(api::get_event))
            .route("/v1/channels/{channel}/events/{id}/deliveries", post(api::record_delivery))
            .route("/v1/channels/{channel}/stream", get(session::upgrade))
            .route("/h/{channel}", any(ingest::ingest))
            .route("/h/{channel}/", any(ingest::ingest))
            .route("/h/{channel}/{*path}", any(ingest::ingest))
            .route("/healthz", get(api::healthz))
            .route("/metrics", get(api::metrics))
            .fallback(api::not_found)
            .with_state(self.state.clone())
    }

    /// Serves HTTP on `listener` until the shutdown token is cancelled, then closes every
    /// session with a Close frame, waits for background tasks and closes the store.
    pub async fn serve(self, listener: TcpListener) -> anyhow::Result<()> {
        let shutdown = self.state.shutdown.clone();
        let tls = self.tls.clone();
        let limits = server::Limits::from(&self.state.config);
        server::run(listener, tls, self.router(), limits, shutdown, &self.state.tasks).await;
        self.close().await;
        Ok(())
    }

    /// Cancels sessions and tasks, waits for them (at most `SHUTDOWN_GRACE`), closes the store.
    pub async fn close(self) {
        let state = self.state;
        state.shutdown.cancel();
        state.tasks.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, state.tasks.wait()).await.is_err() {
            tracing::warn!("some sessions did not close within {SHUTDOWN_GRACE:?}");
        }
        state.store.close().await;
        tracing::info!("relay stopped");
    }
}

/// Deletes events older than `retention.max_age` until shutdown, sweeping every
/// `RETENTION_SWEEP` or a quarter of the age, whichever is shorter.
async fn expire_old_events(state: Arc<AppState>) {
    let age = state.config.retention.max_age;
    let max_age = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    let mut sweep = tokio::time::interval((age / 4).clamp(MIN_RETENTION_SWEEP, RETENTION_SWEEP));
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            _ = sweep.tick() => {}
        }
        let cutoff = store::now_ms().saturating_sub(max_age);
        match state.store.expire_before(cutoff).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "age retention removed old events"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "age retention failed"),
        }
    }
}
