//! How much load a benchmark run puts on the relay: [`Plan::full`] or `--quick`'s
//! [`Plan::quick`]. A leaf the measurements read their sizes from.

/// Sizes of a run. Each measurement is repeated `rounds` times and the median is reported.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
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
    pub(crate) fn full() -> Self {
        Self {
            rounds: 3,
            ack_base: 30_000,
            direct_requests: 200_000,
            e2e_events: 9_000,
            ordered_events: 5_000,
        }
    }

    /// Under a minute: the same measurements with less load.
    pub(crate) fn quick() -> Self {
        Self {
            rounds: 3,
            ack_base: 3_000,
            direct_requests: 30_000,
            e2e_events: 6_000,
            ordered_events: 2_000,
        }
    }

    /// Measured requests of an ack-latency run: enough for a stable p99 at any concurrency.
    pub(crate) fn ack_requests(&self, concurrency: usize) -> usize {
        if concurrency == 1 { self.ack_base } else { self.ack_base * 4 }
    }
}
