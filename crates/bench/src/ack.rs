//! Measurements 1 to 3 of DESIGN §8, from the same runs: ack latency (p99) and ingest
//! throughput (req/s) of `hookrelayd` with its default SQLite store against the bare server,
//! and again while a connected `hookrelay listen` forwards to an app that takes 200 ms per
//! request; the same for a relay started with `--fsync`, and, with a `redis-server` at hand,
//! for a relay on the Redis store. Each round interleaves bare, relay, relay-with-listener,
//! relay with `--fsync` (and relay on Redis) at every concurrency, so drift on a shared
//! machine hits them all alike. Every run also yields its stalls (the slowest request per
//! 100 ms window) and the server's CPU time per request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::http::create_channel;
use crate::load::{self, Load, Stats};
use crate::plan::Plan;
use crate::procs::{Workspace, cpu_secs};
use crate::report::{Row, Target, median, ms};

/// Concurrency levels of the latency measurement.
pub(crate) const LATENCY_CONCURRENCY: [usize; 3] = [1, 16, 64];
/// Concurrency levels of the throughput measurement.
pub(crate) const THROUGHPUT_CONCURRENCY: [usize; 2] = [16, 64];
/// How long the stand-in local app takes per request in measurement 2.
const SLOW_APP_MS: u64 = 200;

/// What a run loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Server {
    Bare,
    Relay,
    RelayListening,
    RelayFsync,
    RelayRedis,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare",
            Self::Relay => "relay",
            Self::RelayListening => "relay+listen",
            Self::RelayFsync => "relay --fsync",
            Self::RelayRedis => "relay redis",
        }
    }
}

/// One measured run: the load generator's figures and the server's CPU per request.
struct Run {
    stats: Stats,
    /// Server CPU time (user + system) per request, in µs.
    cpu_us: f64,
}

/// Every run by target and concurrency.
pub(crate) struct AckRuns(BTreeMap<(Server, usize), Vec<Run>>);

/// Runs `plan.rounds` rounds of bare / relay / relay-with-listener (and a relay on the
/// Redis at `redis`) at each concurrency.
pub(crate) async fn measure(
    ws: &Workspace,
    plan: &Plan,
    redis: Option<SocketAddr>,
) -> anyhow::Result<AckRuns> {
    let bare = ws.app(0).await?;
    let slow_app = ws.app(SLOW_APP_MS).await?;
    let relay = ws.relay().await?;
    let fsync_relay = ws.fsync_relay().await?;
    let redis_relay = match redis {
        Some(redis) => Some(ws.redis_relay(redis).await?),
        None => None,
    };
    let mut pids = BTreeMap::from([(Server::Bare, bare.pid()?), (Server::Relay, relay.pid()?)]);
    pids.insert(Server::RelayListening, relay.pid()?);
    pids.insert(Server::RelayFsync, fsync_relay.pid()?);
    if let Some(redis_relay) = &redis_relay {
        pids.insert(Server::RelayRedis, redis_relay.pid()?);
    }
    let mut runs = BTreeMap::new();
    for round in 1..=plan.rounds {
        let quiet = create_channel(relay.addr).await?;
        let busy = create_channel(relay.addr).await?;
        let durable = create_channel(fsync_relay.addr).await?;
        let (listen, _) = ws.listen(relay.addr, &busy, slow_app.addr, 1).await?;
        let on_redis = match &redis_relay {
            Some(redis_relay) => {
                Some((redis_relay.addr, create_channel(redis_relay.addr).await?.ingest_path()))
            }
            None => None,
        };
        for concurrency in LATENCY_CONCURRENCY {
            let requests = plan.ack_requests(concurrency);
            let mut targets = vec![
                (Server::Bare, bare.addr, "/in".to_owned()),
                (Server::Relay, relay.addr, quiet.ingest_path()),
                (Server::RelayListening, relay.addr, busy.ingest_path()),
                (Server::RelayFsync, fsync_relay.addr, durable.ingest_path()),
            ];
            if let Some((addr, path)) = &on_redis {
                targets.push((Server::RelayRedis, *addr, path.clone()));
            }
            for (target, addr, path) in targets {
                let warmup = requests / 10;
                let pid = pids[&target];
                let cpu_before = cpu_secs(pid)?;
                let stats = load::run(&Load { addr, path, concurrency, warmup, requests }).await?;
                // Warm-up included (its requests too), and the clock is 100 Hz: good to a
                // few percent at these sizes.
                let cpu_us = (cpu_secs(pid)? - cpu_before) * 1e6 / (requests + warmup) as f64;
                eprintln!(
                    "  ack c={concurrency:<2} round {round}/{}  {:<13}  {:>7.0} req/s  p50 {}  \
                     p99 {}  max {}  server CPU {:.0}% ({cpu_us:.0} µs/req)  {}",
                    plan.rounds,
                    target.name(),
                    stats.rps,
                    ms(stats.p50),
                    ms(stats.p99),
                    ms(stats.max),
                    cpu_us * stats.rps / 1e4,
                    stats.stalls.text(),
                );
                runs.entry((target, concurrency))
                    .or_insert_with(Vec::new)
                    .push(Run { stats, cpu_us });
            }
        }
        listen.stop().await;
    }
    for proc in [bare, slow_app, relay, fsync_relay].into_iter().chain(redis_relay) {
        proc.stop().await;
    }
    Ok(AckRuns(runs))
}

impl AckRuns {
    fn runs(&self, target: Server, concurrency: usize) -> impl Iterator<Item = &Run> {
        self.0.get(&(target, concurrency)).into_iter().flatten()
    }

    fn median(&self, target: Server, concurrency: usize, pick: fn(&Run) -> f64) -> f64 {
        let samples: Vec<f64> = self.runs(target, concurrency).map(pick).collect();
        median(&samples)
    }

    fn p99(&self, target: Server, concurrency: usize) -> f64 {
        self.median(target, concurrency, |run| run.stats.p99.as_secs_f64())
    }

    fn rps(&self, target: Server, concurrency: usize) -> f64 {
        self.median(target, concurrency, |run| run.stats.rps)
    }

    /// Stalls summed over the rounds: windows over 10 ms, windows, the worst request.
    fn stall_totals(&self, target: Server, concurrency: usize) -> (usize, usize, Duration) {
        self.runs(target, concurrency).fold(
            (0, 0, Duration::ZERO),
            |(over, windows, worst), run| {
                let stalls = &run.stats.stalls;
                (over + stalls.over, windows + stalls.windows, worst.max(stalls.worst))
            },
        )
    }

    /// Stalls summed over the rounds: "over of windows, worst X ms".
    fn stalls(&self, target: Server, concurrency: usize) -> String {
        let (over, windows, worst) = self.stall_totals(target, concurrency);
        format!("{} {over}/{windows}, worst {}", target.name(), ms(worst))
    }

    /// Rows for measurements 1, 2 and 3, then the same targets for a relay started with
    /// `--fsync` (the targets are set for default flags; this shows what surviving power
    /// loss costs), the rows that explain them, and the Redis relay's when it ran.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let mut rows = self.ack_rows(Server::Relay, "");
        for concurrency in LATENCY_CONCURRENCY {
            let relay = self.p99(Server::Relay, concurrency);
            let busy = self.p99(Server::RelayListening, concurrency);
            rows.push(Row::ratio(
                &format!("ack p99 c={concurrency}, app 200 ms"),
                format!("relay+listen {}", secs(busy)),
                format!("relay {}", secs(relay)),
                busy / relay,
                Target::AtMost(1.1),
            ));
        }
        rows.extend(self.ingest_rows(Server::Relay, ""));
        rows.extend(self.ack_rows(Server::RelayFsync, ", --fsync"));
        rows.extend(self.ingest_rows(Server::RelayFsync, ", --fsync"));
        rows.extend(self.explaining_rows());
        if self.0.keys().any(|(target, _)| *target == Server::RelayRedis) {
            rows.extend(self.ack_rows(Server::RelayRedis, ", Redis"));
            rows.extend(self.ingest_rows(Server::RelayRedis, ", Redis"));
        }
        rows
    }

    /// Ack p99 of `server` against the bare server's (measurement 1's target).
    fn ack_rows(&self, server: Server, suffix: &str) -> Vec<Row> {
        let row = |concurrency| {
            let (bare, relay) =
                (self.p99(Server::Bare, concurrency), self.p99(server, concurrency));
            Row::ratio(
                &format!("ack p99 c={concurrency}{suffix}"),
                format!("relay {}", secs(relay)),
                format!("bare {}", secs(bare)),
                relay / bare,
                Target::AtMost(1.5),
            )
        };
        LATENCY_CONCURRENCY.into_iter().map(row).collect()
    }

    /// Requests/s of `server` against the bare server's (measurement 3's target).
    fn ingest_rows(&self, server: Server, suffix: &str) -> Vec<Row> {
        let row = |concurrency| {
            let (bare, relay) =
                (self.rps(Server::Bare, concurrency), self.rps(server, concurrency));
            Row::ratio(
                &format!("ingest req/s c={concurrency}{suffix}"),
                format!("relay {relay:.0}/s"),
                format!("bare {bare:.0}/s"),
                relay / bare,
                Target::AtLeast(0.6),
            )
        };
        THROUGHPUT_CONCURRENCY.into_iter().map(row).collect()
    }

    /// Rows without a target that explain the others: stalls (windows of 100 ms whose
    /// slowest request passed 10 ms, over all rounds) and server CPU per request (median).
    fn explaining_rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for concurrency in LATENCY_CONCURRENCY {
            for target in [Server::Relay, Server::RelayFsync] {
                let (over, windows, _) = self.stall_totals(target, concurrency);
                rows.push(Row::info(
                    &format!("windows > 10 ms c={concurrency}{}", fsync_suffix(target)),
                    self.stalls(target, concurrency),
                    self.stalls(Server::Bare, concurrency),
                    format!("{:.0} %", 100.0 * over as f64 / windows.max(1) as f64),
                ));
            }
        }
        for concurrency in LATENCY_CONCURRENCY {
            for target in [Server::Relay, Server::RelayFsync] {
                let cpu = |target| self.median(target, concurrency, |run| run.cpu_us);
                let (relay, bare) = (cpu(target), cpu(Server::Bare));
                rows.push(Row::info(
                    &format!("CPU µs/req c={concurrency}{}", fsync_suffix(target)),
                    format!("relay {relay:.0} µs"),
                    format!("bare {bare:.0} µs"),
                    format!("{:.2}×", relay / bare),
                ));
            }
        }
        rows
    }
}

/// A value in seconds as the table shows times.
fn secs(value: f64) -> String {
    ms(Duration::from_secs_f64(value))
}

/// How a row of the `--fsync` relay is told apart.
fn fsync_suffix(target: Server) -> &'static str {
    if target == Server::RelayFsync { ", --fsync" } else { "" }
}
