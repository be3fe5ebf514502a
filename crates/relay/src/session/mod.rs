//! One websocket session of protocol `hookrelay.v2`: `Hello`, then the channel's events after
//! the client's cursor in `seq` order (each a binary frame: JSON head, raw body), at most
//! `window` unacknowledged; acks are recorded in the store beside the stream (`recorder`).
//! Where history no longer holds the next `seq` (retention removed it), a `Gap` says which
//! events are missing and why, in their place. Pings detect a dead peer; a misbehaving peer
//! gets a Close frame with a reason; relay shutdown sends every session Close 1001 (the HTTP
//! server's graceful shutdown does not reach upgraded connections, so each session holds a
//! child of the shutdown token). Each session is told which other sessions stream the same
//! channel (`listeners`): in its `Hello`, then on every change.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::extract::rejection::{ExtensionRejection, QueryRejection};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::response::Response;
use futures_util::FutureExt as _;
use hookrelay_proto::{
    ClientMessage, DeliveryResult, Listener, OLD_SUBPROTOCOLS, SUBPROTOCOL, ServerMessage,
    encode_event,
};
use prometheus_client::metrics::gauge::Gauge;
use serde::Deserialize;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::AppState;
use crate::auth::authorize;
use crate::error::RelayError;
use crate::hub::Subscription;
use crate::metrics::BacklogShare;
use end::{End, close, json, read_error, send};
pub(crate) use listeners::Listeners;
use recorder::{Ack, Recorder};

mod end;
mod listeners;
mod recorder;

/// Largest message a client may send (acks are small); a bigger one closes with 1009.
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Initial read and write buffer of each websocket (tungstenite's default is 128 KiB each).
/// Small, so that an idle client costs little memory; they grow for bigger messages.
const SOCKET_BUFFER: usize = 8 * 1024;
/// Most body bytes read from the store per batch, so a window of big events is streamed a
/// few at a time instead of loaded at once.
const READ_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// A peer silent (no message, no pong) for this many ping intervals is closed as dead.
const DEAD_AFTER_INTERVALS: u32 = 3;

/// Query of `GET /v1/channels/{channel}/stream`.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    after: Option<u64>,
    /// Start past the events right after `after` that some client has finished (a client
    /// whose own cursor is only a hint, written now and then).
    #[serde(default)]
    skip_finished: bool,
}

/// `GET /v1/channels/{channel}/stream?after=SEQ`: checks the token, then upgrades.
pub(crate) async fn upgrade(
    State(state): State<Arc<AppState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    query: Result<Query<StreamQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, RelayError> {
    authorize(state.store.as_ref(), &headers, &channel).await?;
    let Query(query) = query.map_err(|err| RelayError::BadRequest(err.body_text()))?;
    let upgrade = upgrade.map_err(|err| {
        RelayError::BadRequest(format!("{}: connect with a websocket client", err.body_text()))
    })?;
    let upgrade = upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER);
    if upgrade.selected_protocol().is_none() {
        let offered = headers.get(SEC_WEBSOCKET_PROTOCOL).and_then(|value| value.to_str().ok());
        let mut offered = offered.into_iter().flat_map(|list| list.split(',')).map(str::trim);
        if let Some(old) = offered.find(|name| OLD_SUBPROTOCOLS.contains(name)) {
            return Err(RelayError::BadRequest(format!(
                "this client speaks {old} and this relay {SUBPROTOCOL}: update hookrelay \
                 (./install.sh in its repository)"
            )));
        }
        return Err(RelayError::BadRequest(format!(
            "ask for websocket subprotocol {SUBPROTOCOL} (Sec-WebSocket-Protocol)"
        )));
    }
    let Ok(open_slot) = state.session_slots.clone().try_acquire_owned() else {
        let max = state.config.max_sessions;
        return Err(RelayError::Unavailable(format!(
            "the relay has its maximum of {max} sessions open"
        )));
    };
    let after = query.after.unwrap_or(0);
    let skip_finished = query.skip_finished;
    // Served without a socket (tests driving the router), there is no peer address.
    let peer = peer.map_or_else(|_| "unknown".to_owned(), |ConnectInfo(peer)| peer.to_string());
    let span = tracing::info_span!("session", %channel, after, %peer);
    let session = Session {
        cancel: state.shutdown.child_token(),
        state: state.clone(),
        channel,
        after,
        skip_finished,
        peer,
    };
    // Held until the session ends, so that shutdown waits for its Close frame.
    let tracked = state.tasks.token();
    Ok(upgrade.on_upgrade(move |socket| {
        async move {
            session.run(socket).await;
            drop((tracked, open_slot));
        }
        .instrument(span)
    }))
}

struct Session {
    state: Arc<AppState>,
    channel: String,
    after: u64,
    skip_finished: bool,
    /// The client's address, for the other listeners of the channel.
    peer: String,
    cancel: CancellationToken,
}

/// Counts a session in `sessions_open` for as long as it lives.
struct Open<'a>(&'a Gauge);

impl<'a> Open<'a> {
    fn count(gauge: &'a Gauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Session {
    async fn run(self, mut socket: WebSocket) {
        let _open = Open::count(&self.state.metrics.sessions_open);
        tracing::info!("client connected");
        let mut recorder = Recorder::start(self.state.clone(), self.channel.clone());
        let Err(end) = self.stream(&mut socket, &mut recorder).await;
        recorder.finish().await;
        match end {
            End::Close(code, reason) => {
                tracing::info!(code, reason, "closing session");
                close(&mut socket, Some((code, reason))).await;
            }
            End::PeerClosed => {
                tracing::info!("client closed the session");
                close(&mut socket, None).await;
            }
            End::Gone(why) => tracing::info!(why, "client disconnected"),
        }
    }

    /// Streams until the session must end, and says why.
    async fn stream(
        &self,
        socket: &mut WebSocket,
        recorder: &mut Recorder,
    ) -> Result<Infallible, End> {
        let config = &self.state.config;
        let store = self.state.store.as_ref();
        let Subscription { mut seqs, deleted } = self.state.hub.subscribe(&self.channel);
        let Some(info) = store.channel(&self.channel).await? else {
            return Err(End::channel_deleted());
        };
        let me = Listener { peer: self.peer.clone(), connected_at_ms: crate::store::now_ms() };
        let mut listeners = self.state.listeners.join(&self.channel, me);
        let others = listeners.others();
        if !others.is_empty() {
            tracing::info!(others = others.len(), "other listeners stream this channel too");
        }
        let resume_after = if self.skip_finished {
            Some(store.resume_point(&self.channel, self.after).await?)
        } else {
            None
        };
        let hello = ServerMessage::Hello {
            channel: self.channel.clone(),
            last_seq: info.last_seq,
            window: config.window,
            ping_interval_secs: config.ping_interval.as_secs().max(1),
            others,
            max_body: Some(config.max_body as u64),
            resume_after,
        };
        send(socket, Message::Text(json(&hello).into())).await?;

        let window = config.window.max(1) as usize;
        let (mut newest, mut fetched) = (info.last_seq, resume_after.unwrap_or(self.after));
        let mut unacked: BTreeMap<u64, String> = BTreeMap::new();
        let start = Instant::now() + config.ping_interval;
        let mut ping = tokio::time::interval_at(start, config.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut backlog = BacklogShare::new(&self.state.metrics.session_backlog);
        loop {
            newest = newest.max(*seqs.borrow_and_update());
            // Refill in batches (half a window, or everything left when that fits): one store
            // read per slot freed would make the stream one round trip per event.
            let batch = (window / 2).max(1);
            // Whether the session sends when `pending` events wait: a batch's worth of room,
            // or room for all of them.
            let would_send = |unacked: usize, pending: u64| {
                let room = window - unacked;
                room >= batch || pending <= room as u64
            };
            let ready = would_send(unacked.len(), newest.saturating_sub(fetched));
            while ready && unacked.len() < window && fetched < newest {
                let room = window - unacked.len();
                let events =
                    store.events_after(&self.channel, fetched, room, READ_BATCH_BYTES).await?;
                // History is contiguous, so anything between the cursor and the first stored
                // event (or the newest seq, when none is left) is gone: say so, then go on.
                let next = events.first().map_or(newest + 1, |event| event.seq);
                if next > fetched + 1 {
                    self.send_gaps(socket, fetched + 1, next - 1).await?;
                }
                fetched = events.last().map_or(newest, |event| event.seq);
                for event in events {
                    unacked.insert(event.seq, event.id.clone());
                    // The event (and its body) is dropped before the slow part, the send.
                    let frame = encode_event(event);
                    send(socket, Message::Binary(frame.into())).await?;
                    self.state.metrics.events_streamed.inc();
                }
            }
            backlog.set(newest.saturating_sub(fetched) + unacked.len() as u64);
            tokio::select! {
                () = self.cancel.cancelled() => return Err(End::shutting_down()),
                () = deleted.cancelled() => return Err(End::channel_deleted()),
                // Appends that could not make it send (its window full, or too little room
                // for a batch and more already waiting) do not wake the session: each
                // wake-up cost the relay 3-7 us per ingest beside a slow app. An ack does,
                // and the loop's top then reads the newest `seq`.
                changed = seqs.changed(),
                    if would_send(unacked.len(), newest.saturating_sub(fetched) + 1) =>
                {
                    if changed.is_err() {
                        return Err(End::channel_deleted());
                    }
                }
                end = recorder.failed() => return Err(end),
                () = listeners.changed() => {
                    let others = listeners.others();
                    let message = ServerMessage::Listeners { others };
                    send(socket, Message::Text(json(&message).into())).await?;
                }
                _ = ping.tick() => {
                    let silent = config.ping_interval * DEAD_AFTER_INTERVALS;
                    if last_heard.elapsed() >= silent {
                        let reason = format!("nothing heard for {silent:?}");
                        return Err(End::Close(close_code::POLICY, reason));
                    }
                    send(socket, Message::Ping(Default::default())).await?;
                }
                message = socket.recv() => {
                    last_heard = Instant::now();
                    let Some(message) = message else {
                        return Err(End::Gone("connection closed".into()));
                    };
                    let mut acks = Vec::new();
                    let mut end = self.handle(message, &mut unacked, &mut acks).err();
                    // Acks that arrived together are queued together (the recorder writes
                    // them in one group commit), at most a window's worth.
                    while end.is_none() && acks.len() < window {
                        match socket.recv().now_or_never() {
                            Some(Some(message)) => {
                                end = self.handle(message, &mut unacked, &mut acks).err();
                            }
                            Some(None) => end = Some(End::Gone("connection closed".into())),
                            None => break,
                        }
                    }
                    recorder.record(acks).await?;
                    if let Some(end) = end {
                        return Err(end);
                    }
                }
            }
        }
    }

    /// Tells the client that events `from..=to` are no longer stored, and why.
    async fn send_gaps(&self, socket: &mut WebSocket, from: u64, to: u64) -> Result<(), End> {
        let expired = self.state.store.expired(&self.channel, from, to).await?;
        for gap in crate::store::explain_gap(from, to, &expired) {
            tracing::warn!(
                from_seq = gap.from_seq,
                to_seq = gap.to_seq,
                reason = gap.reason.as_str(),
                "the client's cursor is behind the stored history; sending a gap notice"
            );
            send(socket, Message::Text(json(&ServerMessage::Gap(gap)).into())).await?;
        }
        Ok(())
    }

    /// Handles one incoming message, queueing acks in `acks`; `Err` ends the session.
    fn handle(
        &self,
        message: Result<Message, axum::Error>,
        unacked: &mut BTreeMap<u64, String>,
        acks: &mut Vec<Ack>,
    ) -> Result<(), End> {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(_)) => {
                let reason = "clients send JSON text frames in hookrelay.v2, not binary";
                return Err(End::Close(close_code::UNSUPPORTED, reason.into()));
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => return Ok(()),
            Ok(Message::Close(_)) => return Err(End::PeerClosed),
            Err(err) => return Err(read_error(err)),
        };
        match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(ClientMessage::Ack { seq, id, result }) => {
                // The place in the window frees now; the store write follows in `record`.
                if unacked.get(&seq) == Some(&id) {
                    unacked.remove(&seq);
                }
                acks.push((seq, id, result));
                Ok(())
            }
            Ok(ClientMessage::Attempt { seq, id, result }) => {
                // History only: the event keeps its place in the window until its ack. An
                // "attempt" that claims to be final is recorded as the attempt it says it is.
                acks.push((seq, id, DeliveryResult { will_retry: true, ..result }));
                Ok(())
            }
            Ok(ClientMessage::Unknown) => {
                tracing::debug!("ignoring a message of unknown type");
                Ok(())
            }
            Err(err) => Err(End::Close(close_code::INVALID, format!("malformed message: {err}"))),
        }
    }
}
