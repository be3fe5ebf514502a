//! Ctrl-C (SIGINT) and SIGTERM become a cancellation, for `hookrelayd` and for the
//! `hookrelay` CLI alike: whoever owns the token then shuts down cleanly.

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Catches SIGINT and SIGTERM from the moment it returns (a signal sent right after a
/// readiness line is never left to the default action), and cancels `cancel` on the first
/// one. Call it inside the runtime; abort the task if the work ends first. Where SIGTERM
/// cannot be caught (not Unix, or the handlers could not be installed), only Ctrl-C counts.
pub fn spawn_signal_watch(cancel: CancellationToken) -> JoinHandle<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                return tokio::spawn(async move {
                    let name = tokio::select! {
                        _ = interrupt.recv() => "interrupted",
                        _ = terminate.recv() => "terminated",
                    };
                    stop(&cancel, name);
                });
            }
            (Err(err), _) | (_, Err(err)) => {
                tracing::warn!(error = %err, "cannot catch SIGINT and SIGTERM; only Ctrl-C counts");
            }
        }
    }
    tokio::spawn(async move {
        match tokio::signal::ctrl_c().await {
            Ok(()) => stop(&cancel, "interrupted"),
            Err(err) => tracing::warn!(error = %err, "cannot catch Ctrl-C"),
        }
    })
}

/// Cancels first, logs second: shutting down must never depend on stderr being writable.
fn stop(cancel: &CancellationToken, name: &str) {
    cancel.cancel();
    tracing::info!("{name}, shutting down");
}
