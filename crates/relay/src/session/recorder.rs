//! Records a session's acknowledgements in the store beside the stream, so the session
//! goes on sending while a write is in flight: the window frees as soon as an ack is read,
//! and a client that acks one event at a time no longer waits for one store commit per
//! event. Acks that arrive within 2 ms of each other, or queue up while a write is in
//! flight, go together in one write (one group commit in the SQLite writer).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::close_code;
use hookrelay_proto::DeliveryResult;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::end::End;
use crate::AppState;
use crate::store::StoreError;

/// One delivery result to record: `seq`, event id, result.
pub(super) type Ack = (u64, String, DeliveryResult);

/// Groups of acks waiting to be written; when full, the session waits (the store is slower
/// than the client).
const QUEUE: usize = 64;
/// How long the first ack of a group waits for others to share its write. Nothing waits
/// on the write but the history (the window freed when the ack was read), so this costs
/// no delivery time.
const COALESCE: Duration = Duration::from_millis(2);
/// Most acks written together.
const COALESCE_MAX: usize = 256;
/// How long an ending session waits for its last acks to be written.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// The recording task of one session.
pub(super) struct Recorder {
    queue: Option<mpsc::Sender<Vec<Ack>>>,
    task: JoinHandle<Result<(), StoreError>>,
}

impl Recorder {
    /// Starts recording acks for `channel`.
    pub(super) fn start(state: Arc<AppState>, channel: String) -> Self {
        let (queue, acks) = mpsc::channel(QUEUE);
        let task = tokio::spawn(record_all(state, channel, acks));
        Self { queue: Some(queue), task }
    }

    /// Queues `acks` to be written; `Err` once the recorder has failed.
    pub(super) async fn record(&mut self, acks: Vec<Ack>) -> Result<(), End> {
        if acks.is_empty() {
            return Ok(());
        }
        let queue = self.queue.as_ref().expect("queue open while the session streams");
        if queue.send(acks).await.is_err() {
            return Err(self.failed().await);
        }
        Ok(())
    }

    /// Resolves when the recorder stops while the session streams, which only a store
    /// failure makes it do; says how the session ends then.
    pub(super) async fn failed(&mut self) -> End {
        match (&mut self.task).await {
            Ok(Err(err)) => err.into(),
            Ok(Ok(())) => End::Gone("ack recorder stopped".into()),
            Err(err) => End::Close(close_code::ERROR, format!("ack recorder failed: {err}")),
        }
    }

    /// Writes what is queued (waiting at most `FINISH_TIMEOUT`), for a session that ends.
    pub(super) async fn finish(mut self) {
        self.queue = None;
        match tokio::time::timeout(FINISH_TIMEOUT, &mut self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => {
                tracing::warn!(error = format!("{err:#}"), "could not record the last acks");
            }
            Ok(Err(err)) => tracing::warn!(error = %err, "ack recorder failed"),
            Err(_) => {
                self.task.abort();
                tracing::warn!("gave up recording the last acks after {FINISH_TIMEOUT:?}");
            }
        }
    }
}

/// Writes every queued group until the queue closes; stops at the first store failure.
async fn record_all(
    state: Arc<AppState>,
    channel: String,
    mut queue: mpsc::Receiver<Vec<Ack>>,
) -> Result<(), StoreError> {
    while let Some(mut acks) = queue.recv().await {
        // A client acking one event at a time would otherwise cost one commit per event.
        let deadline = tokio::time::Instant::now() + COALESCE;
        while acks.len() < COALESCE_MAX {
            match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(more)) => acks.extend(more),
                Ok(None) | Err(_) => break,
            }
        }
        write(&state, &channel, &acks).await?;
    }
    Ok(())
}

/// Records `acks` concurrently, so that the store's writer commits them together. An ack
/// that matches no stored event (wrong id, expired) is ignored: a confused client is not
/// worth a close.
async fn write(state: &AppState, channel: &str, acks: &[Ack]) -> Result<(), StoreError> {
    let store = state.store.as_ref();
    let writes = acks.iter().map(|(seq, id, result)| {
        store.record_delivery(channel, *seq, id, crate::store::stamped(result.clone()))
    });
    let recorded = futures_util::future::join_all(writes).await;
    for ((seq, id, result), recorded) in acks.iter().zip(recorded) {
        if recorded? {
            state.metrics.acks.inc();
            tracing::debug!(seq, id, outcome = ?result.outcome, "ack recorded");
        } else {
            tracing::debug!(seq, id, "ignoring an ack for an unknown event");
        }
    }
    Ok(())
}
