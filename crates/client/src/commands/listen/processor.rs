//! The event processor: takes events from the tunnel in `seq` order, checks signatures
//! (`--verify`), skips or routes each one (`dispatch`), keeps at most `concurrency` in flight
//! toward the local app, retries each until it gets a final answer, then acknowledges it to
//! the relay, moves the cursor and reports the result. Events that will never come (a gap
//! the relay announces, or a jump in `seq` it did not) are reported, never stepped over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use hookrelay_proto::{ClientMessage, DeliveryResult, Event, Gap, GapReason, Outcome};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::cursor::LazyCursor;
use crate::deliver::dispatch::{Dispatch, Plan};
use crate::deliver::retry::{RetryPolicy, deliver};
use crate::deliver::stop::StopRequests;
use crate::deliver::verify::Verify;
use crate::deliver::watermark::{Admission, Watermark};
use crate::output::queue::{DeliveryLine, Ui, UiEvent};
use crate::relay::inbound::Undecodable;
use crate::relay::tunnel::Incoming;

/// Capacity of the tunnel → processor queue. The relay's window (64 by default) bounds what
/// arrives unacknowledged, so this rarely fills; when it does, the tunnel stops reading the
/// websocket until there is room, which pushes back on the relay instead of dropping events.
pub(super) const EVENT_QUEUE: usize = 256;

/// Capacity of the processor → tunnel acknowledgement queue. The tunnel drains it even while
/// disconnected (dropping acks then: the cursor on disk already covers them), so a full
/// queue only makes the processor wait briefly.
pub(super) const ACK_QUEUE: usize = 1024;

/// The delivery loop's state.
pub(super) struct Processor {
    /// Skips or picks the forwarder for each event.
    pub dispatch: Arc<Dispatch>,
    /// `--verify`: the signature check made on each event (skipped ones too).
    pub verify: Option<Arc<Verify>>,
    /// `--show-response`: put the response preview on the delivery line.
    pub show_response: bool,
    /// Most events in flight at once (1: strict order).
    pub concurrency: usize,
    /// How hard each event is tried (`--max-attempts`).
    pub retry: RetryPolicy,
    /// Where the cursor is persisted (now and then, and at the end).
    pub cursor: LazyCursor,
    /// Which events are done.
    pub watermark: Watermark,
    /// The cursor as the tunnel reads it when it (re)connects.
    pub resume_after: Arc<AtomicU64>,
    /// Acknowledgements for the relay.
    pub acks: mpsc::Sender<ClientMessage>,
    /// Results for the renderer.
    pub ui: Ui,
    /// Stops the inspector asks for (`s`): the event being retried is failed at once.
    pub stops: Arc<StopRequests>,
}

impl Processor {
    /// Runs until `cancel` fires or the tunnel hangs up, then writes the cursor. Events
    /// still in flight then are not acknowledged, so the relay sends them again next time
    /// (at least once).
    pub(super) async fn run(
        mut self,
        events: mpsc::Receiver<Incoming>,
        cancel: CancellationToken,
    ) -> anyhow::Result<()> {
        let delivered = self.deliver(events, cancel).await;
        let saved = self.cursor.flush();
        delivered.and(saved)
    }

    async fn deliver(
        &mut self,
        mut events: mpsc::Receiver<Incoming>,
        cancel: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut running = FuturesUnordered::new();
        loop {
            let save_due = self.cursor.due();
            tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    let (in_flight, resume_after) = (running.len(), self.watermark.acked());
                    self.ui.send(UiEvent::Stopped { in_flight, resume_after }).await;
                    return Ok(());
                }
                Some(done) = running.next(), if !running.is_empty() => {
                    self.finish(done).await?;
                }
                () = sleep_until(save_due.unwrap_or_else(Instant::now)), if save_due.is_some() => {
                    self.cursor.flush()?;
                }
                received = events.recv(), if running.len() < self.concurrency => {
                    let (event, undecodable) = match received {
                        None => return Ok(()),
                        Some(Incoming::Event(event)) => (event, None),
                        Some(Incoming::Undecodable(Undecodable { event, error })) => {
                            (event, Some(error))
                        }
                        Some(Incoming::Gap(gap)) => {
                            self.pass_gap(gap).await?;
                            continue;
                        }
                        Some(Incoming::Rebase(seq)) => {
                            // Whatever is still in flight belongs to the old numbering.
                            while let Some(done) = running.next().await {
                                self.finish(done).await?;
                            }
                            self.watermark = Watermark::new(seq);
                            self.cursor.moved(seq)?;
                            self.cursor.flush()?;
                            self.resume_after.store(seq, Ordering::SeqCst);
                            continue;
                        }
                        Some(Incoming::FinishedThrough(seq)) => {
                            // Acks the relay recorded (perhaps from a run whose cursor file
                            // was not written yet): done, without a word.
                            let moved = self.watermark.pass_gap(seq);
                            self.save_cursor(moved)?;
                            continue;
                        }
                    };
                    if let Some((from_seq, to_seq)) = self.watermark.hole_before(event.seq) {
                        let reason = GapReason::Unexplained;
                        self.pass_gap(Gap { from_seq, to_seq, reason }).await?;
                    }
                    match self.watermark.admit(event.seq) {
                        Admission::Fresh => if let Some(error) = undecodable {
                            // Nothing to forward: it fails at once, in its place, so the
                            // relay's window gets its slot back and the cursor moves on.
                            let result = unforwardable(error);
                            self.finish(Done { event, result, route: None }).await?;
                        } else {
                            let work = Work {
                                dispatch: self.dispatch.clone(),
                                verify: self.verify.clone(),
                                ui: self.ui.clone(),
                                retry: self.retry,
                                attempts: self.acks.clone(),
                                stops: self.stops.clone(),
                            };
                            running.push(work.process(event));
                        },
                        Admission::InProgress | Admission::Finished(None) => {}
                        // The relay re-sent an event we finished (its ack raced a reconnect):
                        // answer again so its window does not wait for it forever.
                        Admission::Finished(Some(result)) => {
                            let result = *result;
                            let ack = ClientMessage::Ack { seq: event.seq, id: event.id, result };
                            let _ = self.acks.send(ack).await;
                        }
                    }
                }
            }
        }
    }

    async fn finish(&mut self, done: Done) -> anyhow::Result<()> {
        let Done { event, result, route } = done;
        let ack =
            ClientMessage::Ack { seq: event.seq, id: event.id.clone(), result: result.clone() };
        // A send error means the tunnel is gone, i.e. we are shutting down.
        let _ = self.acks.send(ack).await;
        let mut line = DeliveryLine::new(&event, &result);
        line.route = route;
        if self.show_response {
            line.response = result.response.clone();
        }
        self.ui.send(UiEvent::Delivery(line)).await;
        let moved = self.watermark.finish(event.seq, result);
        self.save_cursor(moved)
    }

    /// Reports a gap (the part not reported before: a reconnect repeats the relay's
    /// notice) and moves the cursor past it.
    async fn pass_gap(&mut self, gap: Gap) -> anyhow::Result<()> {
        let from_seq = gap.from_seq.max(self.watermark.newest() + 1);
        if from_seq > gap.to_seq {
            return Ok(());
        }
        let gap = Gap { from_seq, ..gap };
        let at = time::OffsetDateTime::now_utc();
        let moved = self.watermark.pass_gap(gap.to_seq);
        self.ui.send(UiEvent::Gap { at, gap }).await;
        self.save_cursor(moved)
    }

    fn save_cursor(&mut self, moved: Option<u64>) -> anyhow::Result<()> {
        if let Some(cursor) = moved {
            self.cursor.moved(cursor)?;
            self.resume_after.store(cursor, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// One finished event, as the delivery loop reports it.
struct Done {
    event: Event,
    result: DeliveryResult,
    /// The forwarder's name (the route), if it has one.
    route: Option<String>,
}

/// What one event's delivery needs from the processor.
struct Work {
    dispatch: Arc<Dispatch>,
    verify: Option<Arc<Verify>>,
    ui: Ui,
    retry: RetryPolicy,
    /// Where attempts that will be retried go (the acknowledgement queue, to the relay).
    attempts: mpsc::Sender<ClientMessage>,
    /// Where a stop for the event (`s` in the inspector) comes from.
    stops: Arc<StopRequests>,
}

impl Work {
    /// Checks the signature (skipped events too: the check is about what arrived), then
    /// skips or delivers `event` as `dispatch` decides. A skip finishes at once and is
    /// acknowledged like a delivery, so it is logged in its place and the cursor moves past
    /// it.
    async fn process(self, event: Event) -> Done {
        let signature = match self.verify.clone() {
            Some(verify) => Some(verify.check_off_thread(&event).await),
            None => None,
        };
        let (event, mut result, route) = match self.dispatch.plan(&event) {
            Plan::Skip(reason) => (event, skipped(reason), None),
            Plan::Forward(forwarder) => {
                let route = forwarder.name().map(str::to_owned);
                let attempts = Some(self.attempts);
                let (event, result) =
                    deliver(forwarder, self.ui, event, self.retry, attempts, Some(self.stops))
                        .await;
                (event, result, route)
            }
        };
        result.signature = signature;
        Done { event, result, route }
    }
}

/// The result recorded for an event a filter (or the lack of a route) kept from the app.
fn skipped(reason: String) -> DeliveryResult {
    DeliveryResult { error: Some(reason), ..DeliveryResult::new(Outcome::Skipped, None, 0, 1) }
}

/// The result recorded for an event the client received but could not decode.
fn unforwardable(error: String) -> DeliveryResult {
    DeliveryResult { error: Some(error), ..DeliveryResult::new(Outcome::Failed, None, 0, 1) }
}
