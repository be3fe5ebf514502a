//! The HTTP/1 accept loop. Unlike `axum::serve` it bounds how long a client may take to send
//! its request headers (slow senders time out) and how long shutdown waits for open
//! connections, and it tracks every connection task so `serve` returns only when they end.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// Longest a client may take to send a request's headers (and, on keep-alive connections,
/// to start the next request) before the connection is closed.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown lets in-flight requests finish before dropping their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` is cancelled; each connection runs as a
/// task on `tasks`.
pub async fn run(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "could not accept a connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let service = TowerToHyperService::new(router.clone());
        let shutdown = shutdown.clone();
        let connection = async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            let connection =
                builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    match tokio::time::timeout(DRAIN_TIMEOUT, connection.as_mut()).await {
                        Ok(result) => result,
                        Err(_) => return tracing::debug!("dropped a connection still busy at shutdown"),
                    }
                }
            };
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        };
        tasks.spawn(connection.instrument(tracing::debug_span!("connection", %peer)));
    }
}
