//! JSON bodies of the relay's HTTP API (DESIGN §3).

use serde::{Deserialize, Serialize};

use crate::{DeliveryResult, DeliveryState, Event};

/// `POST /v1/channels` request body (optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateChannel {
    /// A requested channel name; a random id is made when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `201` answer of `POST /v1/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCreated {
    /// The channel id (used in every other route).
    pub channel: String,
    /// The secret that reads the channel. Shown once.
    pub token: String,
    /// Where a provider should POST.
    pub ingest_url: String,
}

/// `200` answer of an ingest request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestAck {
    /// The stored event's id.
    pub id: String,
    /// Its position in the channel.
    pub seq: u64,
}

/// One row of `GET /v1/channels/{channel}/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    /// Event id.
    pub id: String,
    /// Position in the channel.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub received_at_ms: i64,
    /// HTTP method.
    pub method: String,
    /// Path after `/h/{channel}`.
    pub path: String,
    /// Raw query string, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Body size in bytes.
    pub size: u64,
    /// The JSON body's top-level `type` or `event_type` string, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// The state the last acknowledgement left it in.
    pub state: DeliveryState,
    /// The last acknowledgement, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<DeliveryResult>,
}

/// `GET /v1/channels/{channel}/events/{id}`: the full event and every acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    /// The captured request.
    #[serde(flatten)]
    pub event: Event,
    /// The state the last acknowledgement left it in.
    pub state: DeliveryState,
    /// Every acknowledgement received, oldest first.
    pub deliveries: Vec<DeliveryResult>,
}

/// The relay's error envelope: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable snake_case code (`unknown_channel`, `body_too_large`, ...).
    pub code: String,
    /// What went wrong and what to do, for a human.
    pub message: String,
}

impl ErrorBody {
    /// Builds an error body.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { error: ErrorDetail { code: code.into(), message: message.into() } }
    }
}
