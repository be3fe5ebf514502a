//! What an operator of one or several relays watches on `GET /metrics`: ingest by answer,
//! append latency and errors per store, open sessions and their backlog. Kept with
//! `prometheus-client` and rendered as OpenMetrics text (which Prometheus scrapes).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// `Content-Type` of [`Metrics::render`].
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of an ingest answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct IngestLabels {
    /// The HTTP status answered.
    pub status: u16,
}

/// Labels of a store measurement.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StoreLabels {
    /// `sqlite`, `memory` or `redis`.
    pub store: &'static str,
}

/// Labels of a store error.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StoreErrorLabels {
    /// `sqlite`, `memory` or `redis`.
    pub store: &'static str,
    /// `unavailable` (could not reach the backend) or `backend` (it failed).
    pub kind: &'static str,
}

type LatencyFamily = Family<StoreLabels, Histogram, fn() -> Histogram>;

/// The relay's metrics. Cloning a metric shares it, so each is kept here and in `registry`.
pub(crate) struct Metrics {
    registry: Registry,
    /// Events stored.
    pub events_ingested: Counter,
    /// Body bytes stored.
    pub bytes_ingested: Counter,
    /// Ingest requests refused (unknown channel, too large, store down...).
    pub ingest_rejected: Counter,
    /// Ingest answers by HTTP status.
    pub ingest_requests: Family<IngestLabels, Counter>,
    /// Websocket sessions open now.
    pub sessions_open: Gauge,
    /// Events stored and not yet acknowledged, summed over the sessions open now.
    pub session_backlog: Gauge,
    /// Events sent to sessions (resends included).
    pub events_streamed: Counter,
    /// Acknowledgements recorded.
    pub acks: Counter,
    /// How long each durable append took, per store.
    pub append_seconds: LatencyFamily,
    /// Store calls that failed, per store and kind.
    pub store_errors: Family<StoreErrorLabels, Counter>,
    /// Memory reserved for webhook bodies being read or stored (set when rendered).
    pub body_memory_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            events_ingested: Counter::default(),
            bytes_ingested: Counter::default(),
            ingest_rejected: Counter::default(),
            ingest_requests: Family::default(),
            sessions_open: Gauge::default(),
            session_backlog: Gauge::default(),
            events_streamed: Counter::default(),
            acks: Counter::default(),
            // 100 µs to 3.3 s.
            append_seconds: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0001, 2.0, 16))
            }),
            store_errors: Family::default(),
            body_memory_bytes: Gauge::default(),
            registry: Registry::with_prefix("hookrelay"),
        };
        let registry = &mut metrics.registry;
        registry.register("events_ingested", "Events stored", metrics.events_ingested.clone());
        registry.register_with_unit(
            "ingest",
            "Body bytes stored",
            Unit::Bytes,
            metrics.bytes_ingested.clone(),
        );
        registry.register(
            "ingest_rejected",
            "Ingest requests refused",
            metrics.ingest_rejected.clone(),
        );
        registry.register(
            "ingest_requests",
            "Ingest requests by the HTTP status answered",
            metrics.ingest_requests.clone(),
        );
        registry.register(
            "sessions_open",
            "Websocket sessions open",
            metrics.sessions_open.clone(),
        );
        registry.register(
            "session_backlog_events",
            "Events stored and not yet acknowledged, summed over the open sessions (a session \
             with a full window counts new events at its next ack or ping)",
            metrics.session_backlog.clone(),
        );
        registry.register(
            "events_streamed",
            "Events sent to sessions",
            metrics.events_streamed.clone(),
        );
        registry.register("acks", "Acknowledgements recorded", metrics.acks.clone());
        registry.register_with_unit(
            "store_append",
            "Time to append an event durably, per store",
            Unit::Seconds,
            metrics.append_seconds.clone(),
        );
        registry.register(
            "store_errors",
            "Store calls that failed: unavailable (backend unreachable) or backend (it failed)",
            metrics.store_errors.clone(),
        );
        registry.register_with_unit(
            "body_memory",
            "Memory reserved for webhook bodies being read or stored",
            Unit::Bytes,
            metrics.body_memory_bytes.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// OpenMetrics text (see [`CONTENT_TYPE`]).
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// One session's share of [`Metrics::session_backlog`]: set as it changes, removed when
/// the session ends.
pub(crate) struct BacklogShare<'a> {
    gauge: &'a Gauge,
    counted: i64,
}

impl<'a> BacklogShare<'a> {
    pub(crate) fn new(gauge: &'a Gauge) -> Self {
        Self { gauge, counted: 0 }
    }

    /// This session's backlog is now `events`.
    pub(crate) fn set(&mut self, events: u64) {
        let events = i64::try_from(events).unwrap_or(i64::MAX);
        self.gauge.inc_by(events - self.counted);
        self.counted = events;
    }
}

impl Drop for BacklogShare<'_> {
    fn drop(&mut self) {
        self.gauge.dec_by(self.counted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openmetrics_text_with_labels_and_histograms() {
        let metrics = Metrics::default();
        metrics.acks.inc();
        metrics.ingest_requests.get_or_create(&IngestLabels { status: 503 }).inc();
        metrics.append_seconds.get_or_create(&StoreLabels { store: "redis" }).observe(0.003);
        let text = metrics.render();
        for line in [
            "# TYPE hookrelay_acks counter\n",
            "hookrelay_acks_total 1\n",
            "hookrelay_ingest_requests_total{status=\"503\"} 1\n",
            "hookrelay_store_append_seconds_count{store=\"redis\"} 1\n",
            "hookrelay_store_append_seconds_bucket{le=\"0.0032\",store=\"redis\"} 1\n",
            "hookrelay_ingest_bytes_total 0\n",
            "# EOF\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn backlog_shares_add_up_and_leave_with_their_session() {
        let gauge = Gauge::default();
        let mut one = BacklogShare::new(&gauge);
        let mut two = BacklogShare::new(&gauge);
        one.set(5);
        two.set(3);
        one.set(2);
        assert_eq!(gauge.get(), 5);
        drop(one);
        assert_eq!(gauge.get(), 3);
        two.set(0);
        assert_eq!(gauge.get(), 0);
    }
}
