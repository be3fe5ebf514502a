//! A handful of counters for `GET /metrics`, as atomics rendered in Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The relay's counters. Relaxed atomics: each number is independent.
#[derive(Default)]
pub(crate) struct Metrics {
    /// Events stored.
    pub events_ingested: AtomicU64,
    /// Body bytes stored.
    pub bytes_ingested: AtomicU64,
    /// Ingest requests refused (unknown channel, too large, unreadable).
    pub ingest_rejected: AtomicU64,
    /// Websocket sessions open now.
    pub sessions_open: AtomicU64,
    /// Events sent to sessions (resends included).
    pub events_streamed: AtomicU64,
    /// Acknowledgements recorded.
    pub acks: AtomicU64,
}

impl Metrics {
    /// Adds one to a counter.
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Prometheus text exposition format.
    pub(crate) fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 6] = [
            ("hookrelay_events_ingested_total", "counter", "Events stored.", &self.events_ingested),
            ("hookrelay_ingest_bytes_total", "counter", "Body bytes stored.", &self.bytes_ingested),
            (
                "hookrelay_ingest_rejected_total",
                "counter",
                "Ingest requests refused.",
                &self.ingest_rejected,
            ),
            ("hookrelay_sessions_open", "gauge", "Websocket sessions open.", &self.sessions_open),
            (
                "hookrelay_events_streamed_total",
                "counter",
                "Events sent to sessions.",
                &self.events_streamed,
            ),
            ("hookrelay_acks_total", "counter", "Acknowledgements recorded.", &self.acks),
        ];
        let mut text = String::new();
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Relaxed)
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let metrics = Metrics::default();
        Metrics::inc(&metrics.acks);
        let text = metrics.render();
        assert!(
            text.contains("# TYPE hookrelay_acks_total counter\nhookrelay_acks_total 1\n"),
            "{text}"
        );
    }
}
