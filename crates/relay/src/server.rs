//! The HTTP/1 accept loop (plain or TLS). Unlike `axum::serve` it bounds how many connections
//! are served, how long a client may take to send its request headers or finish a TLS
//! handshake (slow senders time out), how long a write may wait for a peer that stopped
//! reading (slow readers are cut off, freeing the answer's memory and the connection's slot),
//! how large a request head may be, and how long shutdown waits for open connections; it tracks every connection task so `serve` returns only when
//! they have ended.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper::rt::{Read, Write};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// Longest a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown lets in-flight requests finish before dropping their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Most header lines in a request head; one more gets hyper's bare `431` and a closed
/// connection. (hyper's default, stated so the limit is ours.)
const MAX_HEADERS: usize = 100;
/// Largest request head (request line and headers) in bytes; a bigger one gets hyper's bare
/// `431` and a closed connection. Webhook heads are a few KiB (Node refuses past 16 KiB);
/// this also caps what a stalled connection can make the relay buffer before its body.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The configured limits the loop enforces (see `Config`'s fields of the same names).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// See `Config::header_read_timeout`.
    pub header_read_timeout: Duration,
    /// See `Config::max_connections`.
    pub max_connections: usize,
    /// See `Config::write_timeout`.
    pub write_timeout: Duration,
}

impl From<&crate::Config> for Limits {
    fn from(config: &crate::Config) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections,
            write_timeout: config.write_timeout,
        }
    }
}

/// Serves `router` on `listener` (through `tls` when given) until `shutdown` is cancelled;
/// each connection runs as a task on `tasks`. At `limits.max_connections` the loop stops
/// accepting, so new connections wait in the kernel's backlog until one closes.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
        // A write that makes no progress for `write_timeout` fails, which ends the connection.
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let stream = Box::pin(stream);
        let timeout = limits.header_read_timeout;
        let connection =
            connection(stream, peer, tls.clone(), router.clone(), timeout, shutdown.clone());
        let connection = async move {
            connection.await;
            drop(slot);
        };
        tasks.spawn(connection.instrument(tracing::debug_span!("connection", %peer)));
    }
}

/// A TCP stream whose writes time out.
type Stream = std::pin::Pin<Box<tokio_io_timeout::TimeoutStream<TcpStream>>>;

async fn connection(
    stream: Stream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let Some(tls) = tls else {
        return serve(TokioIo::new(stream), peer, router, header_read_timeout, shutdown).await;
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
        Ok(Ok(stream)) => {
            serve(TokioIo::new(stream), peer, router, header_read_timeout, shutdown).await;
        }
        Ok(Err(err)) => tracing::debug!(error = %err, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

/// Serves HTTP/1.1 (with upgrades, for websockets) on one connection; a client slower than
/// `header_read_timeout` to send a request head is disconnected (hyper sends no answer).
/// Each request carries the peer's address as axum's `ConnectInfo` (stream sessions tell
/// other listeners where one connected from).
async fn serve<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) where
    I: Read + Write + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEAD_BYTES);
    let service = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        hyper::service::Service::call(&service, request)
    });
    let connection = builder.serve_connection(io, service).with_upgrades();
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
