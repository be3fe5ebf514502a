//! `hookrelay-bench steady` (hidden): a steady ingest load against a relay someone else
//! started (under `strace` or `perf`, say), printing the slowest request of every 100 ms
//! window, so a periodic stall shows as a series and can be matched with a trace.

use std::net::SocketAddr;

use crate::http::create_channel;
use crate::load::{self, Load};
use crate::report::ms;
use crate::stalls::{STALL, Stalls, WINDOW, window_maxima};

/// Creates a channel on the relay at `relay`, POSTs `requests` 1 KiB bodies on
/// `concurrency` connections, and prints every window's slowest request and a summary.
pub(crate) async fn run(
    relay: SocketAddr,
    concurrency: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let channel = create_channel(relay).await?;
    let load = Load {
        addr: relay,
        path: channel.ingest_path(),
        concurrency,
        warmup: requests / 10,
        requests,
    };
    let (samples, elapsed) = load::samples(&load).await?;
    for (index, max) in window_maxima(&samples).into_iter().enumerate() {
        let Some(max) = max else { continue };
        let mark = if max > STALL { "  <- stall" } else { "" };
        let at = (index as u32 * WINDOW).as_secs_f64();
        println!("{at:>7.1} s  max {}{mark}", ms(max));
    }
    let stats = load::stats(samples.clone(), elapsed);
    let rps = stats.rps;
    println!("p50 {}  p99 {}  max {}", ms(stats.p50), ms(stats.p99), ms(stats.max));
    println!(
        "{} requests at c={concurrency}: {rps:.0} req/s; {}",
        samples.len(),
        Stalls::of(&samples).text()
    );
    Ok(())
}
