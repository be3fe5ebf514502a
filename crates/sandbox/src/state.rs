//! The emulator's in-memory state: the registered webhook URL, the delivery log, the HTTP
//! client and the background retry tasks.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::SandboxConfig;
use crate::deliveries::{DeliveryAttempt, DeliveryLog};
use hookrelay_http::{HttpClient, client as http_client};

/// How many failed events may wait for retries at once. When all slots are taken a new failed
/// delivery gets no retries (its record says `"will_retry": false`) instead of spawning
/// without bound.
pub(crate) const MAX_PENDING_RETRIES: usize = 64;

/// The registered webhook URL. Its token is cancelled when the URL is removed or replaced,
/// which stops that URL's pending retries.
#[derive(Clone, Debug)]
pub(crate) struct Registration {
    pub url: String,
    pub cancel: CancellationToken,
}

/// Shared state of one emulator; cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    webhook: Mutex<Option<Registration>>,
    log: Mutex<DeliveryLog>,
    client: HttpClient,
    retry_slots: Arc<Semaphore>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent even if a holder panicked: every update is one call.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AppState {
    /// State for `config`; cancelling `shutdown` stops every retry.
    pub(crate) fn new(config: SandboxConfig, shutdown: CancellationToken) -> Self {
        let client = http_client();
        AppState {
            inner: Arc::new(Inner {
                config,
                webhook: Mutex::new(None),
                log: Mutex::new(DeliveryLog::default()),
                client,
                retry_slots: Arc::new(Semaphore::new(MAX_PENDING_RETRIES)),
                tracker: TaskTracker::new(),
                shutdown,
            }),
        }
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    pub(crate) fn client(&self) -> &HttpClient {
        &self.inner.client
    }

    pub(crate) fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    pub(crate) fn tracker(&self) -> &TaskTracker {
        &self.inner.tracker
    }

    pub(crate) fn retry_slots(&self) -> &Arc<Semaphore> {
        &self.inner.retry_slots
    }

    /// The registered URL, if any.
    pub(crate) fn webhook(&self) -> Option<Registration> {
        lock(&self.inner.webhook).clone()
    }

    /// Registers `url`; a different URL than before cancels the old one's retries.
    pub(crate) fn set_webhook(&self, url: String) {
        let mut slot = lock(&self.inner.webhook);
        if slot.as_ref().is_some_and(|r| r.url == url) {
            return;
        }
        if let Some(old) = slot.take() {
            old.cancel.cancel();
        }
        *slot = Some(Registration { url, cancel: self.inner.shutdown.child_token() });
    }

    /// Removes the URL and stops its retries.
    pub(crate) fn remove_webhook(&self) {
        if let Some(old) = lock(&self.inner.webhook).take() {
            old.cancel.cancel();
        }
    }

    pub(crate) fn record(&self, attempt: DeliveryAttempt) {
        if let Some(observer) = &self.inner.config.observer {
            // Full or closed: the observer misses this one; the log below keeps it.
            let _ = observer.try_send(attempt.clone());
        }
        lock(&self.inner.log).push(attempt);
    }

    /// Every logged attempt, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<DeliveryAttempt> {
        lock(&self.inner.log).snapshot()
    }

    /// Stops retries and waits (at most `limit`) for background tasks to end.
    pub(crate) async fn close(&self, limit: std::time::Duration) {
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        if tokio::time::timeout(limit, self.inner.tracker.wait()).await.is_err() {
            tracing::warn!("retry tasks did not stop within {limit:?}");
        }
    }
}
