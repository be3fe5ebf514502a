//! The load generator: `concurrency` keep-alive connections, each sending 1 KiB JSON POSTs
//! back to back. A warm-up (connections opened, caches and SQLite warm) runs first and is not
//! measured; then a fixed number of requests is shared out between the connections and each
//! request's latency (send to last body byte of the answer) is recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use hyper::Method;
use tokio::sync::Barrier;

use crate::http::Conn;
use crate::stalls::Stalls;

/// Size of every POSTed body, as DESIGN §8 states it.
pub(crate) const BODY_SIZE: usize = 1024;

/// What to send where.
#[derive(Clone)]
pub(crate) struct Load {
    /// Server to POST to.
    pub addr: SocketAddr,
    /// Request path (an ingest URL's path, or any path on a bare server).
    pub path: String,
    /// Connections, each with one request in flight.
    pub concurrency: usize,
    /// Unmeasured requests sent first.
    pub warmup: usize,
    /// Measured requests.
    pub requests: usize,
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    /// Measured requests divided by the wall time of the measured phase.
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest request (shows stalls the p99 hides).
    pub max: Duration,
    /// The slowest request of each 100 ms window.
    pub stalls: Stalls,
}

/// A 1 KiB JSON webhook body with a `type`, as a provider would send.
pub(crate) fn body() -> Bytes {
    let head = r#"{"type":"bench.event","data":""#;
    let tail = r#""}"#;
    let pad = "x".repeat(BODY_SIZE - head.len() - tail.len());
    Bytes::from(format!("{head}{pad}{tail}"))
}

/// Runs the warm-up, then the measured requests, and reports on the measured ones.
pub(crate) async fn run(load: &Load) -> anyhow::Result<Stats> {
    let (samples, elapsed) = samples(load).await?;
    Ok(stats(samples, elapsed))
}

/// Each measured request's send time (since the measured phase began) and latency, and
/// the measured phase's wall time.
pub(crate) async fn samples(load: &Load) -> anyhow::Result<(Vec<(Duration, Duration)>, Duration)> {
    let concurrency = load.concurrency.max(1);
    let warmup = Arc::new(AtomicUsize::new(load.warmup));
    let measured = Arc::new(AtomicUsize::new(load.requests));
    // Every connection plus this task: the clock starts when all have finished warming up.
    let barrier = Arc::new(Barrier::new(concurrency + 1));
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (load, warmup, measured, barrier) =
            (load.clone(), warmup.clone(), measured.clone(), barrier.clone());
        workers
            .push(tokio::spawn(async move { worker(&load, &warmup, &measured, &barrier).await }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut samples = Vec::with_capacity(load.requests);
    let mut failure = None;
    for worker in workers {
        match worker.await.context("a load worker panicked")? {
            Ok(own) => samples.extend(
                own.into_iter().map(|(sent, took)| (sent.saturating_duration_since(started), took)),
            ),
            Err(err) => failure = failure.or(Some(err)),
        }
    }
    let elapsed = started.elapsed();
    if let Some(err) = failure {
        return Err(err.context(format!("load against {} failed", load.addr)));
    }
    Ok((samples, elapsed))
}

/// The figures of a run's samples.
pub(crate) fn stats(samples: Vec<(Duration, Duration)>, elapsed: Duration) -> Stats {
    let stalls = Stalls::of(&samples);
    let mut latencies: Vec<Duration> = samples.into_iter().map(|(_, took)| took).collect();
    latencies.sort_unstable();
    Stats {
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        stalls,
    }
}

/// One connection's loop. On an error it still reaches the barrier so nobody waits forever.
async fn worker(
    load: &Load,
    warmup: &AtomicUsize,
    measured: &AtomicUsize,
    barrier: &Barrier,
) -> anyhow::Result<Vec<(Instant, Duration)>> {
    let result = async {
        let mut conn = Conn::open(load.addr).await?;
        while take(warmup) {
            conn.send(Method::POST, &load.path, &[], body()).await?;
        }
        Ok::<_, anyhow::Error>(conn)
    }
    .await;
    barrier.wait().await;
    let mut conn = result?;
    let body = body();
    let mut latencies = Vec::new();
    while take(measured) {
        let started = Instant::now();
        conn.send(Method::POST, &load.path, &[], body.clone()).await?;
        latencies.push((started, started.elapsed()));
    }
    Ok(latencies)
}

/// Takes one request from a shared budget; false once it is spent.
fn take(budget: &AtomicUsize) -> bool {
    budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok()
}

/// The `q` quantile of sorted samples (nearest rank).
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_one_kib_of_json() {
        let body = body();
        assert_eq!(body.len(), BODY_SIZE);
        let value: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(value["type"], "bench.event");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }
}
