//! One benchmark run: how much load (`Plan`, full or `--quick`), the measurements in order,
//! and the table at the end. Every process a measurement starts is stopped before the next.

use std::time::Instant;

use crate::procs::Workspace;
use crate::report::{Row, table};

/// Sizes of a run. Each measurement is repeated `rounds` times and the median is reported.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Repetitions of every measurement.
    pub rounds: usize,
    /// Measured requests at concurrency 1 in the ack-latency runs (more above it).
    pub ack_base: usize,
    /// Requests of the direct-to-app baseline of the end-to-end measurement.
    pub direct_requests: usize,
    /// Events per end-to-end run with `--concurrency 16` (plus a warm-up of a tenth more).
    pub e2e_events: usize,
    /// Events per end-to-end run in strict order (`--concurrency 1`).
    pub ordered_events: usize,
}

impl Plan {
    /// A few minutes on a 2-core machine.
    pub fn full() -> Self {
        Self {
            rounds: 3,
            ack_base: 30_000,
            direct_requests: 200_000,
            e2e_events: 9_000,
            ordered_events: 5_000,
        }
    }

    /// Under a minute: the same measurements with less load.
    pub fn quick() -> Self {
        Self {
            rounds: 3,
            ack_base: 3_000,
            direct_requests: 30_000,
            e2e_events: 6_000,
            ordered_events: 2_000,
        }
    }

    /// Measured requests of an ack-latency run: enough for a stable p99 at any concurrency.
    pub fn ack_requests(&self, concurrency: usize) -> usize {
        if concurrency == 1 { self.ack_base } else { self.ack_base * 4 }
    }
}

/// Runs every measurement and prints the table on stdout.
pub async fn run(plan: Plan, relay_args: Vec<String>) -> anyhow::Result<()> {
    let flags =
        if relay_args.is_empty() { "default flags".to_owned() } else { relay_args.join(" ") };
    let ws = Workspace::new(relay_args)?;
    let started = Instant::now();
    eprintln!(
        "hookrelay-bench: hookrelayd with {flags}; {} rounds per measurement, medians \
         reported; progress on stderr",
        plan.rounds
    );
    let mut rows: Vec<Row> = Vec::new();
    eprintln!("1-3. ack latency and ingest throughput (1 KiB POSTs)");
    rows.extend(crate::ack::measure(&ws, &plan).await?.rows());
    eprintln!("4. end-to-end throughput");
    rows.extend(crate::e2e::measure(&ws, &plan).await?.rows());
    eprintln!("5. relay memory");
    rows.extend(crate::memory::measure(&ws, &plan).await?.rows());
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    println!();
    println!("hookrelayd with {flags}; medians of {} rounds", plan.rounds);
    print!("{}", table(&rows));
    Ok(())
}
