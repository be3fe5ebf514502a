//! The HTTP/1 accept loop (plain or TLS). Unlike `axum::serve` it bounds how long a client
//! may take to send its request headers or finish a TLS handshake (slow senders time out) and
//! how long shutdown waits for open connections, and it tracks every connection task so
//! `serve` returns only when they have ended.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::rt::{Read, Write};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// Longest a client may take to send a request's headers (and, on keep-alive connections,
/// to start the next request) before the connection is closed.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown lets in-flight requests finish before dropping their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Most HTTP connections served at once. At the limit the loop stops accepting: new ones
/// wait in the kernel's backlog until one closes. (An upgraded websocket leaves this count;
/// sessions have their own limit, `Config::max_sessions`.)
const MAX_CONNECTIONS: usize = 10_000;
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` (through `tls` when given) until `shutdown` is cancelled;
/// each connection runs as a task on `tasks`.
pub async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => return,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
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
        let connection = connection(stream, tls.clone(), router.clone(), shutdown.clone());
        let connection = async move {
            connection.await;
            drop(slot);
        };
        tasks.spawn(connection.instrument(tracing::debug_span!("connection", %peer)));
    }
}

async fn connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: CancellationToken,
) {
    let Some(tls) = tls else {
        return serve(TokioIo::new(stream), router, shutdown).await;
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
        Ok(Ok(stream)) => serve(TokioIo::new(stream), router, shutdown).await,
        Ok(Err(err)) => tracing::debug!(error = %err, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

/// Serves HTTP/1.1 (with upgrades, for websockets) on one connection.
async fn serve<I>(io: I, router: Router, shutdown: CancellationToken)
where
    I: Read + Write + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(io, TowerToHyperService::new(router)).with_upgrades();
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
}
