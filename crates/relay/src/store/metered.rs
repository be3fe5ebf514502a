//! A [`Store`] around another that times each append and counts every failed call on
//! `/metrics`, labelled with the store's name. Answers that are not failures (unknown
//! channel, channel full, closed) are not counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hookrelay_proto::{DeliveryResult, Event, EventDetail, EventSummary, Gap, Page};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use super::{ChannelInfo, Elsewhere, IdMatch, NewEvent, Store, StoreError};
use crate::ids::TokenHash;
use crate::metrics::{Metrics, StoreErrorLabels, StoreLabels};

/// `inner`, measured.
pub(crate) struct Metered {
    inner: Arc<dyn Store>,
    append_seconds: Histogram,
    unavailable: Counter,
    failed: Counter,
}

impl Metered {
    /// Measures `inner` into `metrics` under the label `store`.
    pub(crate) fn new(inner: Arc<dyn Store>, store: &'static str, metrics: &Metrics) -> Self {
        // One statement each: `get_or_create` holds the family's lock until its guard drops.
        let errors =
            |kind| metrics.store_errors.get_or_create(&StoreErrorLabels { store, kind }).clone();
        let unavailable = errors("unavailable");
        let failed = errors("backend");
        let append_seconds = metrics.append_seconds.get_or_create(&StoreLabels { store }).clone();
        Self { inner, append_seconds, unavailable, failed }
    }

    /// Counts `result` if it is a failure, and passes it on.
    fn counted<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match &result {
            Err(StoreError::Unavailable(_)) => {
                self.unavailable.inc();
            }
            Err(StoreError::Backend(_)) => {
                self.failed.inc();
            }
            _ => {}
        }
        result
    }
}

#[async_trait]
impl Store for Metered {
    async fn create_channel(&self, id: &str, token_hash: TokenHash) -> Result<(), StoreError> {
        self.counted(self.inner.create_channel(id, token_hash).await)
    }

    async fn channel(&self, id: &str) -> Result<Option<ChannelInfo>, StoreError> {
        self.counted(self.inner.channel(id).await)
    }

    async fn set_token(&self, id: &str, token_hash: TokenHash) -> Result<bool, StoreError> {
        self.counted(self.inner.set_token(id, token_hash).await)
    }

    async fn deleted(&self, id: &str) -> Result<bool, StoreError> {
        self.counted(self.inner.deleted(id).await)
    }

    async fn delete_channel(&self, id: &str) -> Result<bool, StoreError> {
        self.counted(self.inner.delete_channel(id).await)
    }

    async fn append(&self, channel: &str, event: NewEvent) -> Result<u64, StoreError> {
        let started = Instant::now();
        let result = self.inner.append(channel, event).await;
        if result.is_ok() {
            self.append_seconds.observe(started.elapsed().as_secs_f64());
        }
        self.counted(result)
    }

    async fn summaries(&self, channel: &str, page: Page) -> Result<Vec<EventSummary>, StoreError> {
        self.counted(self.inner.summaries(channel, page).await)
    }

    async fn find_event(&self, channel: &str, prefix: &str) -> Result<IdMatch, StoreError> {
        self.counted(self.inner.find_event(channel, prefix).await)
    }

    async fn detail(&self, channel: &str, id: &str) -> Result<Option<EventDetail>, StoreError> {
        self.counted(self.inner.detail(channel, id).await)
    }

    async fn events_after(
        &self,
        channel: &str,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.counted(self.inner.events_after(channel, after, limit, max_bytes).await)
    }

    async fn resume_point(&self, channel: &str, after: u64) -> Result<u64, StoreError> {
        self.counted(self.inner.resume_point(channel, after).await)
    }

    async fn record_delivery(
        &self,
        channel: &str,
        seq: u64,
        id: &str,
        result: DeliveryResult,
    ) -> Result<bool, StoreError> {
        self.counted(self.inner.record_delivery(channel, seq, id, result).await)
    }

    async fn expire_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.counted(self.inner.expire_before(cutoff_ms).await)
    }

    async fn expired(&self, channel: &str, from: u64, to: u64) -> Result<Vec<Gap>, StoreError> {
        self.counted(self.inner.expired(channel, from, to).await)
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    async fn elsewhere(
        &self,
        cursors: &[(String, u64)],
        block: Duration,
    ) -> Result<Elsewhere, StoreError> {
        self.counted(self.inner.elsewhere(cursors, block).await)
    }

    async fn reachable(&self) -> Result<(), StoreError> {
        self.counted(self.inner.reachable().await)
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Retention;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn appends_are_timed_and_failures_counted_apart_from_answers() {
        let metrics = Metrics::default();
        let store =
            Metered::new(Arc::new(MemoryStore::new(Retention::default())), "memory", &metrics);
        store.create_channel("ch_a", crate::ids::hash_token("t")).await.expect("created");
        let event = || NewEvent {
            id: "evt_1".into(),
            received_at_ms: 0,
            method: "POST".into(),
            path: String::new(),
            query: None,
            headers: Vec::new(),
            event_type: None,
            body: bytes::Bytes::from_static(b"{}"),
        };
        store.append("ch_a", event()).await.expect("stored");
        // An unknown channel is an answer, not a store failure; a closed store neither.
        assert!(store.append("ch_nope", event()).await.is_err());
        store.close().await;
        assert!(store.append("ch_a", event()).await.is_err());
        let text = metrics.render();
        assert!(
            text.contains("hookrelay_store_append_seconds_count{store=\"memory\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("hookrelay_store_errors_total{store=\"memory\",kind=\"backend\"} 0\n"),
            "{text}"
        );
    }
}
