//! Ctrl-C (SIGINT) and SIGTERM become a cancellation, for `hookrelayd` and for the
//! `hookrelay` CLI alike: whoever owns the token then shuts down cleanly.

use tokio_util::sync::CancellationToken;

/// Waits for the first SIGINT or SIGTERM, logs which one came, and cancels `cancel`. Spawn
/// it, and abort the task if the work ends first. Where SIGTERM cannot be caught (not Unix,
/// or the handler could not be installed), only Ctrl-C counts.
pub async fn cancel_on_signals(cancel: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("interrupted, shutting down"),
        () = terminate => tracing::info!("terminated, shutting down"),
    }
    cancel.cancel();
}
