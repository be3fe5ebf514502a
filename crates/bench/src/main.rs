//! `hookrelay-bench`: measures DESIGN §8 (ack latency, ingest and end-to-end throughput,
//! memory) against baselines from the same run and prints the figures and ratios. It never
//! fails on a target: it informs. Also `serve-200`, the bare server it runs as baseline.

mod ack;
mod e2e;
mod http;
mod ledger;
mod load;
mod memory;
mod plan;
mod procs;
mod report;
mod run;
mod serve;
mod stalls;
mod steady;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Benchmarks hookrelayd and hookrelay listen against a bare hyper server on loopback.
#[derive(Debug, Parser)]
#[command(
    name = "hookrelay-bench",
    version,
    after_help = format!("Build first: {}", procs::BUILD_COMMAND)
)]
struct Args {
    /// Less load per run (under a minute instead of a few).
    #[arg(long)]
    quick: bool,
    /// Extra flag for every hookrelayd started, for experiments (repeat it:
    /// `--relay-arg=--store --relay-arg=memory`). The DESIGN targets are for default flags.
    /// Not given to the relay of the Redis rows (measured when redis-server is installed).
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    relay_arg: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The bare server: answers 200 to everything, `GET /count` with the count.
    #[command(name = "serve-200", hide = true)]
    Serve200 {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// Milliseconds to wait before each answer.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        delay_ms: u64,
    },
    /// A steady ingest load against a running relay, printing each 100 ms window's slowest
    /// request (to match stalls with `strace -T` or `perf` output).
    #[command(hide = true)]
    Steady {
        /// The relay's address.
        #[arg(long, value_name = "ADDR")]
        relay: SocketAddr,
        /// Connections, each with one request in flight.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Measured requests.
        #[arg(long, default_value_t = 100_000)]
        requests: usize,
    },
}

/// How long an interrupted run waits for its killed children to be reaped before exiting.
const REAP_GRACE: Duration = Duration::from_millis(300);

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let work = async {
        match args.command {
            Some(Command::Serve200 { listen, delay_ms }) => {
                serve::serve(listen, Duration::from_millis(delay_ms)).await
            }
            Some(Command::Steady { relay, concurrency, requests }) => {
                steady::run(relay, concurrency, requests).await
            }
            None => {
                let plan = if args.quick { plan::Plan::quick() } else { plan::Plan::full() };
                run::run(plan, args.relay_arg).await
            }
        }
    };
    // Dropping `work` on Ctrl-C or SIGTERM kills every child and removes the scratch dir.
    tokio::select! {
        result = work => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        },
        () = interrupted() => {
            // The children were killed as `work` was dropped; let tokio reap them.
            tokio::time::sleep(REAP_GRACE).await;
            eprintln!("interrupted; stopped everything the bench started");
            ExitCode::from(130)
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn interrupted() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => Some(signal),
            Err(err) => {
                eprintln!("warning: cannot catch SIGTERM: {err}");
                None
            }
        };
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => signal.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}
