//! The transport: one websocket to the relay's stream for our channel, kept open. Resumes
//! after the last acknowledged `seq`, reconnects with capped backoff and jitter (each retry
//! shown to the user), declares the relay dead after three silent ping intervals, and treats
//! a refused token or an unknown channel as fatal instead of retrying forever. With
//! `--exit-on-disconnect`, losing the relay after the first connection is fatal too. An
//! event that does not decode goes to the processor to be acknowledged as failed; a frame
//! that cannot even be identified ends the session (`inbound`). Tells the user about the
//! channel's other clients (`other_listeners`), and takes over the port of another
//! `listen`'s embedded relay once it has gone (`embedded::Takeover`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use hookrelay_proto::{
    ClientMessage, ErrorBody, Event, Gap, OLD_SUBPROTOCOLS, SUBPROTOCOL, ServerMessage,
};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::backoff::{Backoff, RECONNECT};
use crate::output::queue::{Ui, UiEvent};
use crate::relay::api::relay_url;
use crate::relay::embedded::{Takeover, TakeoverOutcome};
use crate::relay::inbound::{self, Inbound, Undecodable, closed, describe};
use crate::relay::other_listeners::OtherListeners;

/// Longest wait for the TCP + TLS + websocket handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest wait for the relay's `hello` after the upgrade.
pub(crate) const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// A session that lasted this long resets the reconnect backoff to its shortest delay.
pub(crate) const HEALTHY_SESSION: Duration = Duration::from_secs(30);
/// Largest websocket message accepted until the relay says otherwise: a 25 MiB body in
/// base64 plus its JSON envelope.
pub(crate) const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;
/// Room for an event's JSON beside its base64 body (headers, fields).
const ENVELOPE_BYTES: u64 = 1024 * 1024;

/// The message size that holds an event with a body of `max_body` bytes.
fn message_limit_for(max_body: u64) -> usize {
    let needed = max_body.div_ceil(3).saturating_mul(4).saturating_add(ENVELOPE_BYTES);
    usize::try_from(needed).unwrap_or(usize::MAX)
}
/// Acks go to the relay together: once this many wait, or the first has waited
/// [`ACK_BATCH_WAIT`]. In strict order that is one write (and one wake-up of the relay's
/// session) per few events instead of per event; a batch is small enough that the relay's
/// window (64 by default) keeps moving with `--concurrency 16`. An ack still waiting when
/// the process dies is like one lost in flight: the event comes again (at least once).
const ACK_BATCH_MOST: usize = 8;
/// See [`ACK_BATCH_MOST`].
const ACK_BATCH_WAIT: Duration = Duration::from_millis(1);
/// Longest wait, when stopping, for the relay's answer to our Close.
const CLOSE_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// The relay is presumed dead after this many ping intervals without any frame from it.
const DEAD_AFTER_PINGS: u32 = 3;

/// The websocket side of `listen`.
pub(crate) struct Tunnel {
    /// Relay base URL (`http(s)://...`).
    pub relay: Url,
    /// Channel id.
    pub channel: String,
    /// Channel token.
    pub token: String,
    /// Cursor to resume after, kept current by the processor.
    pub resume_after: Arc<AtomicU64>,
    /// Events (and cursor rebases) for the processor, in stream order.
    pub events: mpsc::Sender<Incoming>,
    /// Acknowledgements from the processor.
    pub acks: mpsc::Receiver<ClientMessage>,
    /// State changes for the renderer.
    pub ui: Ui,
    /// Told once, when the first session is established (for `--ready-file`).
    pub on_first_connect: Option<oneshot::Sender<()>>,
    /// `--exit-on-disconnect`: once connected, a lost connection ends `run` with an error
    /// instead of a reconnect.
    pub exit_on_disconnect: bool,
    /// Set when the relay is another `listen`'s embedded relay: once its stream is lost,
    /// this process serves the port itself if it can, rather than reconnect to nothing.
    pub takeover: Option<Takeover>,
    /// Largest websocket message taken: [`MAX_MESSAGE_BYTES`], grown to what the relay's
    /// `--max-body` needs once its `hello` says so.
    pub message_limit: usize,
}

/// What the tunnel hands the processor, in order.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// The next event of the stream.
    Event(Event),
    /// The relay's history ends before our cursor (its store was reset, or restored from an
    /// older copy): restart the cursor at this `seq` (0), or the relay's events would look
    /// already delivered and be dropped. At least once: events the client did see come again
    /// with the same `Hookrelay-Event-Id`.
    Rebase(u64),
    /// An event that arrived but could not be decoded: acknowledged as failed in its place,
    /// so the relay's window gets its slot back and the cursor moves past it.
    Undecodable(Undecodable),
    /// Events the relay no longer holds, in their place in the stream: reported to the
    /// user, then passed by the cursor.
    Gap(Gap),
    /// Every event through this `seq` is finished: the relay recorded their acks (which
    /// the cursor file, written only now and then, may not show yet), and the stream starts
    /// after it.
    FinishedThrough(u64),
}

enum End {
    Cancelled,
    Fatal(anyhow::Error),
    Retry(String),
    /// Connect again at once (with a larger message limit).
    Again,
}

impl Tunnel {
    /// Streams until `cancel` fires (Ok) or the relay refuses us for good (Err).
    pub(crate) async fn run(mut self, cancel: CancellationToken) -> anyhow::Result<()> {
        let mut backoff = RECONNECT;
        let mut connected_once = false;
        let mut others = OtherListeners::default();
        loop {
            self.ui.send(UiEvent::Connecting { relay: self.relay.to_string() }).await;
            let session = self.session(&cancel, &mut backoff, &mut connected_once, &mut others);
            let reason = match session.await {
                End::Cancelled => return Ok(()),
                End::Fatal(err) => return Err(err),
                End::Retry(reason) if self.exit_on_disconnect && connected_once => {
                    return Err(anyhow::anyhow!(
                        "lost the connection to the relay at {} ({reason}); not reconnecting \
                         because of --exit-on-disconnect",
                        self.relay
                    ));
                }
                End::Retry(reason) => reason,
                End::Again => continue,
            };
            if self.take_over().await {
                backoff.reset();
                continue;
            }
            let delay = backoff.next_delay();
            let attempt = backoff.failures();
            self.ui.send(UiEvent::Reconnecting { reason, delay, attempt }).await;
            let pause = tokio::time::sleep(delay);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return Ok(()),
                    () = &mut pause => break,
                    // No session to send them on; the saved cursor already covers them.
                    Some(_) = self.acks.recv() => {}
                }
            }
        }
    }

    async fn session(
        &mut self,
        cancel: &CancellationToken,
        backoff: &mut Backoff,
        connected_once: &mut bool,
        others: &mut OtherListeners,
    ) -> End {
        let after = self.resume_after.load(Ordering::SeqCst);
        let request = match self.request(after) {
            Ok(request) => request,
            Err(err) => return End::Fatal(err),
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.message_limit))
            .max_frame_size(Some(self.message_limit));
        let connect = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(request, Some(config), true),
        );
        let ws = tokio::select! {
            () = cancel.cancelled() => return End::Cancelled,
            result = connect => match result {
                Err(_) => return End::Retry("websocket handshake timed out".into()),
                Ok(Err(WsError::Http(response))) => return self.refused(&response),
                Ok(Err(err)) => return End::Retry(format!("could not reach the relay: {}", describe(&err))),
                Ok(Ok((ws, _))) => ws,
            },
        };
        let (mut sink, mut stream) = ws.split();
        let hello = tokio::select! {
            () = cancel.cancelled() => return End::Cancelled,
            hello = tokio::time::timeout(HELLO_TIMEOUT, stream.next()) => hello,
        };
        let ping_secs = match hello {
            Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(text.as_str()) {
                Ok(ServerMessage::Hello { max_body: Some(max_body), .. })
                    if message_limit_for(max_body) > self.message_limit =>
                {
                    // Any event the relay accepted must fit: a bigger --max-body than ours.
                    self.message_limit = message_limit_for(max_body);
                    tracing::info!(max_body, limit = self.message_limit, "larger message limit");
                    return End::Again;
                }
                Ok(ServerMessage::Hello { last_seq, .. }) if last_seq < after => {
                    let note = format!(
                        "the relay's history for this channel ends at seq {last_seq}, but \
                         this client had finished seq {after} (was the relay's data reset?); \
                         delivering the relay's history from its start"
                    );
                    self.ui.send(UiEvent::Notice(note)).await;
                    if self.events.send(Incoming::Rebase(0)).await.is_err() {
                        return End::Cancelled;
                    }
                    self.resume_after.store(0, Ordering::SeqCst);
                    return End::Retry("restarting the stream from the relay's first event".into());
                }
                Ok(ServerMessage::Hello {
                    last_seq,
                    ping_interval_secs,
                    others: now,
                    resume_after,
                    ..
                }) => {
                    let after = match resume_after {
                        Some(resume) if resume > after => {
                            if self.events.send(Incoming::FinishedThrough(resume)).await.is_err() {
                                return End::Cancelled;
                            }
                            resume
                        }
                        _ => after,
                    };
                    self.ui.send(UiEvent::Connected { last_seq, after }).await;
                    for event in others.at_hello(now) {
                        self.ui.send(event).await;
                    }
                    *connected_once = true;
                    if let Some(first) = self.on_first_connect.take() {
                        let _ = first.send(());
                    }
                    ping_interval_secs.max(1)
                }
                _ => return End::Retry("the relay did not start with hello".into()),
            },
            Ok(Some(Err(err))) => return End::Retry(describe(&err)),
            _ => return End::Retry("no hello from the relay".into()),
        };
        let connected_at = Instant::now();
        let silence = Duration::from_secs(ping_secs) * DEAD_AFTER_PINGS;
        let deadline = tokio::time::sleep(silence);
        tokio::pin!(deadline);
        // Events this session delivered and we have not acknowledged on it yet; an ack for
        // anything else would confuse the relay's window and is not sent.
        let mut unacked = BTreeSet::new();
        let mut batch = AckBatch::default();
        let end = loop {
            let flush_at = batch.due.unwrap_or_else(tokio::time::Instant::now);
            tokio::select! {
                () = cancel.cancelled() => break End::Cancelled,
                () = &mut deadline => {
                    break End::Retry(format!("nothing from the relay for {}s", silence.as_secs()));
                }
                () = tokio::time::sleep_until(flush_at), if batch.due.is_some() => {
                    batch = AckBatch::default();
                    if let Err(err) = sink.flush().await {
                        break End::Retry(describe(&err));
                    }
                }
                ack = self.acks.recv() => {
                    let Some(ack) = ack else { break End::Cancelled };
                    if !forwardable(&ack, &mut unacked) {
                        continue;
                    }
                    let text = serde_json::to_string(&ack).expect("acks always serialize");
                    if let Err(err) = sink.feed(Message::text(text)).await {
                        break End::Retry(describe(&err));
                    }
                    if batch.add_is_full() {
                        batch = AckBatch::default();
                        if let Err(err) = sink.flush().await {
                            break End::Retry(describe(&err));
                        }
                    }
                }
                message = stream.next() => {
                    deadline.as_mut().reset(tokio::time::Instant::now() + silence);
                    let decoded = match message {
                        None => break End::Retry("the relay closed the connection".into()),
                        Some(Err(err)) => break End::Retry(describe(&err)),
                        Some(Ok(Message::Close(frame))) => break End::Retry(closed(frame)),
                        Some(Ok(Message::Binary(frame))) => inbound::decode_binary(&frame),
                        Some(Ok(Message::Text(text))) => inbound::decode(text.as_str()),
                        // Pings are answered by tungstenite on the next read or write.
                        Some(Ok(_)) => continue,
                    };
                    let (seq, incoming) = match decoded {
                        Inbound::Message(ServerMessage::Event(event)) => {
                            (event.seq, Incoming::Event(event))
                        }
                        Inbound::Undecodable(bad) => (bad.event.seq, Incoming::Undecodable(bad)),
                        // Not an event: nothing to acknowledge, but it keeps its place in order.
                        Inbound::Message(ServerMessage::Gap(gap)) => {
                            tokio::select! {
                                () = cancel.cancelled() => break End::Cancelled,
                                sent = self.events.send(Incoming::Gap(gap)) => if sent.is_err() {
                                    break End::Cancelled;
                                },
                            }
                            continue;
                        }
                        Inbound::Message(ServerMessage::Listeners { others: now }) => {
                            for event in others.changed(now) {
                                self.ui.send(event).await;
                            }
                            continue;
                        }
                        Inbound::Message(_) => continue,
                        Inbound::Ignored(err) => {
                            tracing::warn!("ignoring a message the relay sent: {err}");
                            continue;
                        }
                        Inbound::Broken(reason) => {
                            // Reconnecting is the only way to get the window slot back.
                            let why = "could not decode a message".into();
                            let frame = CloseFrame { code: CloseCode::Invalid, reason: why };
                            let _ = sink.send(Message::Close(Some(frame))).await;
                            break End::Retry(reason);
                        }
                    };
                    unacked.insert(seq);
                    tokio::select! {
                        () = cancel.cancelled() => break End::Cancelled,
                        sent = self.events.send(incoming) => if sent.is_err() {
                            break End::Cancelled;
                        },
                    }
                }
            }
        };
        if matches!(end, End::Cancelled) {
            self.say_goodbye(&mut sink, &mut stream, &mut unacked).await;
        }
        if connected_at.elapsed() >= HEALTHY_SESSION {
            backoff.reset();
        }
        end
    }

    /// Ends a session we stop: sends the acks still queued or batched (for events the app
    /// has answered and the log has shown, so a restart does not repeat them), then Close,
    /// and waits briefly for the relay's answer, which it gives once it has recorded every
    /// ack it read: the history is up to date when `listen` exits. What the relay sends
    /// meanwhile was never acknowledged and comes again next time.
    async fn say_goodbye<S, R>(&mut self, sink: &mut S, stream: &mut R, unacked: &mut BTreeSet<u64>)
    where
        S: Sink<Message, Error = WsError> + Unpin,
        R: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        while let Ok(ack) = self.acks.try_recv() {
            if forwardable(&ack, unacked) {
                let text = serde_json::to_string(&ack).expect("acks always serialize");
                if sink.feed(Message::text(text)).await.is_err() {
                    return;
                }
            }
        }
        let frame = CloseFrame { code: CloseCode::Normal, reason: "client stopping".into() };
        if sink.send(Message::Close(Some(frame))).await.is_ok() {
            let answered = async { while let Some(Ok(_)) = stream.next().await {} };
            let _ = tokio::time::timeout(CLOSE_ANSWER_TIMEOUT, answered).await;
        }
    }

    /// With a [`Takeover`]: tries to serve the relay's port here, and says so when that
    /// works (true: reconnect at once) or never can (the store lacks the channel).
    async fn take_over(&mut self) -> bool {
        let Some(takeover) = &self.takeover else { return false };
        let outcome = takeover.try_start(&self.channel, &self.token).await;
        let Some(note) = outcome.note(&self.relay, &self.channel) else { return false };
        self.takeover = None;
        self.ui.send(UiEvent::Notice(note)).await;
        outcome == TakeoverOutcome::Started
    }

    fn request(
        &self,
        after: u64,
    ) -> anyhow::Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
        let mut url = relay_url(&self.relay, &["v1", "channels", &self.channel, "stream"]);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme).map_err(|()| anyhow::anyhow!("cannot use {url} as a websocket"))?;
        // The cursor file is a hint: the relay moves the start past what its acks finished.
        url.set_query(Some(&format!("after={after}&skip_finished=true")));
        let mut request = url.as_str().into_client_request()?;
        let headers = request.headers_mut();
        headers.insert(http::header::AUTHORIZATION, format!("Bearer {}", self.token).parse()?);
        headers.insert(http::header::SEC_WEBSOCKET_PROTOCOL, SUBPROTOCOL.parse()?);
        Ok(request)
    }

    fn refused(&self, response: &http::Response<Option<Vec<u8>>>) -> End {
        let status = response.status();
        let message = response
            .body()
            .as_deref()
            .and_then(|body| serde_json::from_slice::<ErrorBody>(body).ok())
            .map(|body| body.error.message)
            .unwrap_or_else(|| status.to_string());
        let channel = &self.channel;
        match status.as_u16() {
            401 | 403 => End::Fatal(anyhow::anyhow!(
                "the relay refused the token for channel {channel} ({status}): {message}; \
                 check --token / HOOKRELAY_TOKEN"
            )),
            404 => End::Fatal(anyhow::anyhow!(
                "unknown channel {channel} on {} ({message}); check --channel",
                self.relay
            )),
            // An older relay asks for the subprotocol it knows.
            400 if OLD_SUBPROTOCOLS.iter().any(|old| message.contains(old)) => {
                End::Fatal(anyhow::anyhow!(
                    "the relay at {} is older than this hookrelay (it said: {message}); this \
                     client speaks {SUBPROTOCOL}: update hookrelayd there (docs/deploy.md, \
                     \"Upgrades\")",
                    self.relay
                ))
            }
            500.. => End::Retry(format!("the relay answered {status}: {message}")),
            _ => End::Fatal(anyhow::anyhow!("the relay refused the stream ({status}): {message}")),
        }
    }
}

/// Acks fed to the sink but not flushed yet.
#[derive(Default)]
struct AckBatch {
    /// How many.
    waiting: usize,
    /// When they go at the latest (with the first of them).
    due: Option<tokio::time::Instant>,
}

impl AckBatch {
    /// Counts one more; true when the batch is full and goes now.
    fn add_is_full(&mut self) -> bool {
        self.waiting += 1;
        self.due.get_or_insert_with(|| tokio::time::Instant::now() + ACK_BATCH_WAIT);
        self.waiting >= ACK_BATCH_MOST
    }
}

/// Whether a message from the processor goes on this session: an ack or an attempt for an
/// event this session delivered (an ack also takes it off `unacked`). Anything else would
/// confuse the relay's window: an event from an earlier session is sent again on this one.
fn forwardable(message: &ClientMessage, unacked: &mut BTreeSet<u64>) -> bool {
    match message {
        ClientMessage::Ack { seq, .. } => unacked.remove(seq),
        ClientMessage::Attempt { seq, .. } => unacked.contains(seq),
        ClientMessage::Unknown => false,
    }
}
