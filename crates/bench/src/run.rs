//! One benchmark run: the measurements in order, sized by a [`Plan`], and the table at the
//! end. Every process a measurement starts is stopped before the next.

use std::time::Instant;

use crate::plan::Plan;
use crate::procs::Workspace;
use crate::report::{Row, table};

/// Runs every measurement and prints the table on stdout.
pub(crate) async fn run(plan: Plan, relay_args: Vec<String>) -> anyhow::Result<()> {
    let flags =
        if relay_args.is_empty() { "default flags".to_owned() } else { relay_args.join(" ") };
    let ws = Workspace::new(relay_args)?;
    let started = Instant::now();
    eprintln!(
        "hookrelay-bench: hookrelayd with {flags}; {} rounds per measurement, medians \
         reported; progress on stderr",
        plan.rounds
    );
    let redis = ws.redis().await?;
    match &redis {
        Some(redis) => eprintln!("Redis rows: redis-server on {} (AOF, fsync always)", redis.addr),
        None => eprintln!(
            "no Redis rows: redis-server is not installed (apt-get install -y redis-server)"
        ),
    }
    let redis_addr = redis.as_ref().map(|redis| redis.addr);
    let mut rows: Vec<Row> = Vec::new();
    eprintln!("1-3. ack latency and ingest throughput (1 KiB POSTs)");
    rows.extend(crate::ack::measure(&ws, &plan, redis_addr).await?.rows());
    eprintln!("4. end-to-end throughput");
    rows.extend(crate::e2e::measure(&ws, &plan, redis_addr).await?.rows());
    eprintln!("5. relay memory");
    rows.extend(crate::memory::measure(&ws, &plan).await?.rows());
    if let Some(redis) = redis {
        redis.stop().await;
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    println!();
    println!("hookrelayd with {flags}; medians of {} rounds", plan.rounds);
    print!("{}", table(&rows));
    Ok(())
}
