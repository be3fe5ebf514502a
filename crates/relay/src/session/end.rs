//! How a session ends and talks on the socket: the `End` reasons with their close codes,
//! read errors mapped to codes, sends with a timeout, and the closing handshake.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use hookrelay_proto::ServerMessage;
use tokio::time::timeout;

use crate::store::StoreError;

/// Longest one outgoing message may take to be written; a slower client is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a closing session waits for the peer's answering Close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest close reason that fits in a control frame.
const MAX_REASON: usize = 123;

/// Why a session ends.
pub(super) enum End {
    /// Send a Close frame with this code and reason.
    Close(u16, String),
    /// The peer sent Close: flush the automatic answer, then drop.
    PeerClosed,
    /// The connection is unusable (reset, write failed): just drop it.
    Gone(String),
}

impl End {
    pub(super) fn channel_deleted() -> Self {
        End::Close(close_code::POLICY, "channel deleted".into())
    }

    pub(super) fn shutting_down() -> Self {
        End::Close(close_code::AWAY, "relay shutting down".into())
    }
}

impl From<StoreError> for End {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UnknownChannel(_) => End::channel_deleted(),
            StoreError::Closed => End::shutting_down(),
            StoreError::Unavailable(err) => {
                tracing::warn!(error = format!("{err:#}"), "store unreachable during a session");
                End::Close(close_code::AGAIN, "relay store unreachable; reconnect shortly".into())
            }
            StoreError::Backend(err) => {
                tracing::error!(error = format!("{err:#}"), "store failed during a session");
                End::Close(close_code::ERROR, "relay store error; reconnect later".into())
            }
            StoreError::ChannelExists(channel) | StoreError::ChannelFull { channel, .. } => {
                End::Close(close_code::ERROR, format!("unexpected store answer for {channel}"))
            }
        }
    }
}

/// Maps a read error to how the session ends: over-size and invalid frames get a Close.
pub(super) fn read_error(err: axum::Error) -> End {
    use tungstenite::error::{CapacityError, Error};
    match err.into_inner().downcast::<Error>().map(|err| *err) {
        Ok(Error::Capacity(CapacityError::MessageTooLong { size, max_size })) => End::Close(
            close_code::SIZE,
            format!("message of {size} bytes is over the limit of {max_size}"),
        ),
        Ok(Error::Utf8(_)) => End::Close(close_code::INVALID, "text frame is not UTF-8".into()),
        Ok(Error::Protocol(err)) => End::Close(close_code::PROTOCOL, err.to_string()),
        Ok(other) => End::Gone(other.to_string()),
        Err(other) => End::Gone(other.to_string()),
    }
}

/// A message as JSON (events go as binary frames instead: `encode_event`).
pub(super) fn json(message: &ServerMessage) -> String {
    serde_json::to_string(message).expect("server messages always serialize")
}

/// Sends one message; a failed or too slow write means the peer is gone.
pub(super) async fn send(socket: &mut WebSocket, message: Message) -> Result<(), End> {
    match timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(End::Gone(format!("write failed: {err}"))),
        Err(_) => Err(End::Gone(format!("client took over {SEND_TIMEOUT:?} to take one message"))),
    }
}

/// Sends Close with `frame` (or, with `None`, only flushes the answer to the peer's Close),
/// then waits briefly for the peer to finish so the frame is read before the socket drops.
pub(super) async fn close(socket: &mut WebSocket, frame: Option<(u16, String)>) {
    let closing = async {
        if let Some((code, mut reason)) = frame {
            while reason.len() > MAX_REASON {
                reason.pop();
            }
            socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await?;
        }
        while let Some(message) = socket.recv().await {
            message?;
        }
        Ok::<_, axum::Error>(())
    };
    if let Ok(Err(err)) = timeout(CLOSE_TIMEOUT, closing).await {
        tracing::debug!(error = %err, "close handshake ended early");
    }
}
