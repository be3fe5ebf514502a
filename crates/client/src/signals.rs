//! Ctrl-C and SIGTERM become a cancellation: `listen` then stops cleanly and exits 0.

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Cancels `cancel` on the first SIGINT or SIGTERM. The caller owns the task and aborts it
/// when done.
pub(crate) fn cancel_on_signals(cancel: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                let _ = tokio::signal::ctrl_c().await;
                return cancel.cancel();
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        cancel.cancel();
    })
}
