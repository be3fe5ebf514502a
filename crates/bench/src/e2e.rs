//! Measurement 4 of DESIGN §8: end-to-end throughput. The load generator POSTs events to an
//! ingest URL while `hookrelay listen --json --concurrency N` forwards them to a `serve-200`
//! app; the rate is events from the first POST until `listen` has finished all of them. The
//! baseline is the same load generator POSTing straight to such an app at concurrency 16.
//! With a `redis-server` at hand, the `--concurrency 16` run is repeated through a relay on
//! the Redis store.
//! Every acknowledged event must be accounted for: finished, or reported in a gap record;
//! a run with a lost or unaccounted event fails instead of reporting a rate.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::http::create_channel;
use crate::ledger::SharedLedger;
use crate::load::{self, Load};
use crate::plan::Plan;
use crate::procs::{Workspace, cpu_secs};
use crate::report::{Row, Target, median};

/// Connections of the load generator, and `--concurrency` of the unordered listen.
const CONCURRENCY: usize = 16;
/// How often `listen`'s tally is read while events flow.
const POLL: Duration = Duration::from_millis(5);
/// Longest wait for `listen` to account for every event of a run.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);

/// Median rates of each round, in events per second.
pub(crate) struct E2eRuns {
    direct: Vec<f64>,
    unordered: Vec<f64>,
    ordered: Vec<f64>,
    redis: Vec<f64>,
}

/// Runs `plan.rounds` rounds of direct, `--concurrency 16` and `--concurrency 1` (and
/// `--concurrency 16` through a relay on the Redis at `redis`).
pub(crate) async fn measure(
    ws: &Workspace,
    plan: &Plan,
    redis: Option<SocketAddr>,
) -> anyhow::Result<E2eRuns> {
    let relay = ws.relay().await?;
    let redis_relay = match redis {
        Some(redis) => Some(ws.redis_relay(redis).await?),
        None => None,
    };
    let mut runs = E2eRuns {
        direct: Vec::new(),
        unordered: Vec::new(),
        ordered: Vec::new(),
        redis: Vec::new(),
    };
    for round in 1..=plan.rounds {
        let app = ws.app(0).await?;
        let requests = plan.direct_requests;
        let direct = Load {
            addr: app.addr,
            path: "/in".to_owned(),
            concurrency: CONCURRENCY,
            warmup: requests / 10,
            requests,
        };
        let rate = load::run(&direct).await?.rps;
        app.stop().await;
        progress(round, plan, "direct to app", requests, rate);
        runs.direct.push(rate);

        for (listen_concurrency, events) in [(16, plan.e2e_events), (1, plan.ordered_events)] {
            let relay = (relay.addr, relay.pid()?);
            let (rate, detail) = through_relay(ws, relay, listen_concurrency, events).await?;
            let name = format!("via relay, listen --concurrency {listen_concurrency}");
            progress(round, plan, &name, events, rate);
            eprintln!("      {detail}");
            let into =
                if listen_concurrency == 1 { &mut runs.ordered } else { &mut runs.unordered };
            into.push(rate);
        }
        if let Some(redis_relay) = &redis_relay {
            let relay = (redis_relay.addr, redis_relay.pid()?);
            let (rate, detail) = through_relay(ws, relay, 16, plan.e2e_events).await?;
            progress(round, plan, "via relay on Redis, --concurrency 16", plan.e2e_events, rate);
            eprintln!("      {detail}");
            runs.redis.push(rate);
        }
    }
    for proc in [relay].into_iter().chain(redis_relay) {
        proc.stop().await;
    }
    Ok(runs)
}

fn progress(round: usize, plan: &Plan, what: &str, events: usize, rate: f64) {
    eprintln!(
        "  e2e round {round}/{}  {what:<34}  {events} events  {rate:>7.0} events/s",
        plan.rounds
    );
}

/// One run through a fresh channel, `listen` and app: warm up with a tenth of the events,
/// then time `events` more from the first POST until the app has answered them all.
/// Returns events/s, and the ingest rate and each process's CPU share and CPU time per
/// event as text.
async fn through_relay(
    ws: &Workspace,
    (relay, relay_pid): (SocketAddr, u32),
    listen_concurrency: u16,
    events: usize,
) -> anyhow::Result<(f64, String)> {
    let app = ws.app(0).await?;
    let channel = create_channel(relay).await?;
    let (listen, ledger) = ws.listen(relay, &channel, app.addr, listen_concurrency).await?;
    let mut load = Load {
        addr: relay,
        path: channel.ingest_path(),
        concurrency: CONCURRENCY,
        warmup: 0,
        requests: events / 10,
    };
    load::run(&load).await?;
    let warm = u64::try_from(load.requests).context("count overflow")?;
    wait_for_ledger(&ledger, warm).await?;

    load.requests = events;
    let procs = [("relay", relay_pid), ("listen", listen.pid()?), ("app", app.pid()?)];
    let cpu_before = cpu(&procs)?;
    let started = Instant::now();
    let sending = tokio::spawn(async move { load::run(&load).await });
    let total = warm + u64::try_from(events).context("count overflow")?;
    wait_for_ledger(&ledger, total).await?;
    let elapsed = started.elapsed();
    let ingest = sending.await.context("the load generator panicked")??;
    let cpu_after = cpu(&procs)?;
    // Where the time goes: a process near 2 CPU-seconds per second is the bottleneck.
    let used: Vec<String> = procs
        .iter()
        .zip(cpu_before.iter().zip(&cpu_after))
        .map(|((name, _), (before, after))| {
            let share = (after - before) / elapsed.as_secs_f64() * 100.0;
            format!("{name} {share:.0}% ({:.0} µs/event)", (after - before) * 1e6 / events as f64)
        })
        .collect();
    let detail = format!(
        "ingest {:.0} req/s; CPU over the run: {} (200% = both cores)",
        ingest.rps,
        used.join(", ")
    );
    listen.stop().await;
    app.stop().await;
    Ok((events as f64 / elapsed.as_secs_f64(), detail))
}

fn cpu(procs: &[(&str, u32)]) -> anyhow::Result<Vec<f64>> {
    procs.iter().map(|(_, pid)| cpu_secs(*pid)).collect()
}

/// Polls `listen`'s ledger until it accounts for `acked` events (every load request was
/// answered 200), and fails when any of them was reported lost or never accounted for.
async fn wait_for_ledger(ledger: &SharedLedger, acked: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let accounted = {
            let ledger = ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (lost, gaps) = ledger.lost();
            if lost > 0 {
                bail!("listen reported {lost} acknowledged events lost: {}", gaps.join(", "));
            }
            ledger.accounted()
        };
        if accounted >= acked {
            return Ok(());
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            bail!(
                "{} of {acked} acknowledged events were neither delivered nor reported as a \
                 gap within {DRAIN_TIMEOUT:?}",
                acked - accounted
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

impl E2eRuns {
    /// Rows for measurement 4.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let direct = median(&self.direct);
        let row = |label: &str, rates: &[f64], target| {
            let rate = median(rates);
            Row::ratio(
                label,
                format!("relay {rate:.0} ev/s"),
                format!("direct {direct:.0}/s"),
                rate / direct,
                Target::AtLeast(target),
            )
        };
        let mut rows = vec![
            row("e2e --concurrency 16", &self.unordered, 0.4),
            row("e2e --concurrency 1", &self.ordered, 0.1),
        ];
        if !self.redis.is_empty() {
            rows.push(row("e2e --concurrency 16, Redis", &self.redis, 0.4));
        }
        rows
    }
}
