//! `hookrelay-bench serve-200`: baseline A and the stand-in local app. A bare hyper server
//! that reads each request's body and answers `200` (after `--delay-ms`, if given). Runs in
//! its own process so it never shares a runtime with the load generator.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// First line on stdout once the server accepts connections; the bench waits for it.
pub(crate) const READY_LINE: &str = "serve-200 listening";

/// Serves until the process is killed.
pub(crate) async fn serve(listen: SocketAddr, delay: Duration) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("could not listen on {listen}"))?;
    println!("{READY_LINE} on {listen}");
    loop {
        let (stream, _) = listener.accept().await.context("accept failed")?;
        // Latency matters more than throughput for small webhook requests.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(request, delay));
            // A peer that goes away mid-request is normal at the end of a run.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    delay: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the body as a real app would (and so the connection stays reusable).
    let _ = request.into_body().collect().await;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}
