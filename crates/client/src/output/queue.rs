//! The live log's queue: [`Ui`], the bounded sender through which the transport, the relay
//! setup and the delivery loop send their typed events ([`UiEvent`]) to the renderer.
//! Nothing but the renderer turns them into text.

use std::time::Duration;

use hookrelay_proto::{DeliveryResult, Event, Gap, Outcome, SignatureCheck};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Capacity of the renderer's queue. When it is full (a stalled terminal or pipe), senders
/// wait: output is never dropped, and delivery slows to what the terminal can show.
pub(crate) const RENDER_QUEUE: usize = 1024;

/// Largest body whose JSON event type is looked up for the log line; bigger bodies are
/// not parsed just to decorate a line (the relay uses the same bound for summaries).
const EVENT_TYPE_DISPLAY_MAX: usize = 256 * 1024;

/// Where producers send [`UiEvent`]s.
#[derive(Debug, Clone)]
pub(crate) struct Ui(mpsc::Sender<UiEvent>);

impl Ui {
    /// A sender and the receiving end for the renderer.
    pub(crate) fn channel() -> (Self, mpsc::Receiver<UiEvent>) {
        let (tx, rx) = mpsc::channel(RENDER_QUEUE);
        (Self(tx), rx)
    }

    /// Sends one event. If the renderer is gone (stdout closed) the event is dropped: the
    /// renderer has already asked everything to shut down.
    pub(crate) async fn send(&self, event: UiEvent) {
        let _ = self.0.send(event).await;
    }
}

/// Something the user should see.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum UiEvent {
    /// An informational remark (e.g. "using the relay already running on port 8787").
    Notice(String),
    /// Channel known, ingest URL ready to paste.
    Ready {
        /// Channel id.
        channel: String,
        /// Where providers POST.
        ingest_url: String,
        /// The local target (`None`: only the routes file's targets).
        forward_to: Option<String>,
        /// The routes file's rules as `(name, target)`, in order; empty without one.
        routes: Vec<(String, String)>,
        /// The relay, described for humans.
        relay: String,
    },
    /// Opening the websocket (attempt counts reconnects since the last healthy session).
    Connecting {
        /// The relay base URL.
        relay: String,
    },
    /// Streaming; the relay holds events up to `last_seq`.
    Connected {
        /// Highest seq the channel holds.
        last_seq: u64,
        /// Where this session resumes from.
        after: u64,
    },
    /// The relay could not be reached or the session ended; trying again after `delay`.
    Reconnecting {
        /// Why.
        reason: String,
        /// How long until the next try.
        delay: Duration,
        /// Failures in a row.
        attempt: u32,
    },
    /// Nothing listens at the local app; waiting (without counting attempts) to try the
    /// same event again.
    Waiting {
        /// `host:port` of the local app.
        target: String,
        /// The event that waits.
        event: EventRef,
        /// Tries in a row that found nothing listening, from 1.
        waits: u32,
        /// Why it failed (e.g. "connection refused").
        reason: String,
        /// Until the next try.
        delay: Duration,
    },
    /// An attempt failed (5xx, timeout, broken connection); the same event is tried again
    /// after `delay`.
    Retrying {
        /// This attempt.
        line: DeliveryLine,
        /// Until the next attempt.
        delay: Duration,
    },
    /// An event is done (final result, as acknowledged to the relay).
    Delivery(DeliveryLine),
    /// `listen` is stopping (Ctrl-C): the summary line's last facts.
    Stopped {
        /// Events received and not finished (they come again next run).
        in_flight: usize,
        /// The cursor the next run resumes after.
        resume_after: u64,
    },
    /// Another client streams this channel (so each event is delivered by both), or one
    /// that did has gone. Printed as a warning; with `--json`, on stderr only.
    OtherListener {
        /// Already there when this one connected, connected since, or gone.
        change: ListenerChange,
        /// Where it connected from, as the relay saw it.
        peer: String,
        /// When it connected.
        since: OffsetDateTime,
        /// How many other clients stream the channel now.
        others: usize,
    },
    /// Events this client will never receive (the relay said why, or `seq` jumped).
    Gap {
        /// When it was noticed.
        at: OffsetDateTime,
        /// Which events, and why.
        gap: Gap,
    },
}

/// Which event a state is about, for the spinner (`seq 9 POST /stripe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventRef {
    /// Its id (the inspector looks the event up by it).
    pub id: String,
    /// Its seq.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path suffix as received.
    pub path: String,
}

impl EventRef {
    /// The reference to `event`.
    pub(crate) fn of(event: &Event) -> Self {
        Self {
            id: event.id.clone(),
            seq: event.seq,
            method: event.method.clone(),
            path: event.path.clone(),
        }
    }
}

/// What happened to another client of the same channel ([`UiEvent::OtherListener`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListenerChange {
    /// It was streaming the channel when this client connected.
    AlreadyConnected,
    /// It connected after this client.
    Connected,
    /// It disconnected.
    Left,
}

/// One finished delivery, for the log line and the `--json` record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeliveryLine {
    /// When it finished.
    pub at: OffsetDateTime,
    /// Event id.
    pub id: String,
    /// Event seq.
    pub seq: u64,
    /// When the relay received the event, in milliseconds since the Unix epoch (the
    /// inspector's time column; the log shows `at`).
    pub received_at_ms: i64,
    /// HTTP method.
    pub method: String,
    /// Path suffix as received.
    pub path: String,
    /// Raw query, if any.
    pub query: Option<String>,
    /// The JSON body's `type`/`event_type` (`invoice.paid`), when it has one.
    pub event_type: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The local app's status, if it answered.
    pub status: Option<u16>,
    /// Latency of the last attempt.
    pub latency_ms: u64,
    /// Which attempt finished it.
    pub attempt: u32,
    /// The attempt bound in force (`--max-attempts`), if any.
    pub max_attempts: Option<u32>,
    /// Where the request went (the forward target with the event's path).
    pub target: Option<String>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// A `hookrelay replay`, not the live delivery (marked in the log and the JSON record).
    pub replay: bool,
    /// The `--verify` result for the event as it arrived.
    pub signature: Option<SignatureCheck>,
    /// The route that took it, when a routes file is in use.
    pub route: Option<String>,
    /// The start of the app's response body, when it should be shown (`--show-response`).
    pub response: Option<String>,
}

impl DeliveryLine {
    /// The line for `event` after an attempt that ended with `result` (its signature check
    /// included; no route and no response preview: callers add those when wanted).
    pub(crate) fn new(event: &Event, result: &DeliveryResult) -> Self {
        Self {
            at: OffsetDateTime::now_utc(),
            id: event.id.clone(),
            seq: event.seq,
            received_at_ms: event.received_at_ms,
            method: event.method.clone(),
            path: event.path.clone(),
            query: event.query.clone(),
            event_type: (event.body.len() <= EVENT_TYPE_DISPLAY_MAX)
                .then(|| hookrelay_proto::event_type(&event.body))
                .flatten(),
            outcome: result.outcome,
            status: result.status,
            latency_ms: result.latency_ms,
            attempt: result.attempt,
            max_attempts: result.max_attempts,
            target: result.target.clone(),
            error: result.error.clone(),
            replay: result.replay,
            signature: result.signature.clone(),
            route: None,
            response: None,
        }
    }
}
