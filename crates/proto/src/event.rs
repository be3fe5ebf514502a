//! The captured request (`Event`) and what a client reports after delivering it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One header as `[name, value]`. A list of these keeps order and duplicates, which a map
/// would lose. Names are lowercase (HTTP/1 names are case-insensitive and HTTP/2 lowercases
/// them); values that are not UTF-8 are carried lossily.
pub type Header = (String, String);

/// A request captured by the relay at `/h/{channel}/{path}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id, `evt_` followed by 26 lowercase base32 characters (128 random bits).
    pub id: String,
    /// Position in the channel: 1, 2, 3... in the order the relay acknowledged them.
    pub seq: u64,
    /// When the relay received it, in milliseconds since the Unix epoch.
    pub received_at_ms: i64,
    /// The HTTP method, as sent (`POST`, `PUT`, ...).
    pub method: String,
    /// The path after `/h/{channel}`, still percent-encoded as sent: `""` or `"/..."`.
    pub path: String,
    /// The raw query string without the `?`, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Every header in the order received, duplicates kept.
    pub headers: Vec<Header>,
    /// The body bytes, exactly as received (base64 in JSON).
    #[serde(with = "crate::body")]
    pub body: Bytes,
}

/// The event type a JSON body names in a top-level `type` or `event_type` string field
/// (`invoice.paid`, `connectivity.interrupted`), used for display and `--events` filters.
pub fn event_type(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: Option<serde_json::Value>,
        event_type: Option<serde_json::Value>,
    }
    let typed: Typed = serde_json::from_slice(body).ok()?;
    [typed.kind, typed.event_type].into_iter().flatten().find_map(|value| match value {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    })
}

impl Event {
    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path with its query, as it should be appended to a forward target.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{}", self.path, query),
            None => self.path.clone(),
        }
    }
}

/// How a delivery attempt ended, as the client reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The local app answered 2xx (or 1xx/3xx: anything that is not an error).
    Delivered,
    /// The local app answered 4xx: a real answer, recorded, not retried.
    Rejected,
    /// The client gave up (only when told to stop retrying, e.g. on shutdown).
    Failed,
    /// A filter chose not to forward it.
    Skipped,
}

/// The result a client acknowledges for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryResult {
    /// How it ended.
    pub outcome: Outcome,
    /// The local app's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Time of the last attempt, in milliseconds.
    pub latency_ms: u64,
    /// Which attempt this was, from 1.
    pub attempt: u32,
    /// What went wrong, when something did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first bytes of the local app's response body (lossy UTF-8), for `show`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// True when this was a `hookrelay replay`, not the live delivery.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replay: bool,
    /// The signature check `listen --verify` made on the event as it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureCheck>,
    /// When the relay recorded this result, in milliseconds since the Unix epoch. Set by the
    /// relay (whatever a client sends is replaced), so history has one clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at_ms: Option<i64>,
    /// Where the request went: the forward target with the event's path and query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The headers of the local app's response, in order (a bounded prefix of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_headers: Vec<Header>,
    /// This attempt failed and another one follows: it is history, not the event's outcome
    /// (the relay records it without changing the event's state).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub will_retry: bool,
    /// The attempt bound in force (`--max-attempts`); absent when unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// The request was edited (`replay --edit`) before it was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edited: bool,
    /// The request was signed afresh with this scheme (`--resign`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resigned: Option<String>,
}

/// The result of checking an event's signature as it arrived at the relay (diagnosis only:
/// it never blocks a delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureCheck {
    /// The scheme checked: `standard`, `stripe` or `github`.
    pub scheme: String,
    /// Whether it verified.
    pub valid: bool,
    /// Why not, when it did not (`timestamp too old: ...`, `header ... missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DeliveryResult {
    /// A result with its essentials and every optional part empty; set the rest with
    /// struct-update syntax (`DeliveryResult { error: Some(..), ..DeliveryResult::new(..) }`).
    pub fn new(outcome: Outcome, status: Option<u16>, latency_ms: u64, attempt: u32) -> Self {
        Self {
            outcome,
            status,
            latency_ms,
            attempt,
            error: None,
            response: None,
            replay: false,
            signature: None,
            recorded_at_ms: None,
            target: None,
            response_headers: Vec::new(),
            will_retry: false,
            max_attempts: None,
            edited: false,
            resigned: None,
        }
    }

    /// Whether this is an event's outcome (as opposed to an attempt that will be retried).
    pub fn is_final(&self) -> bool {
        !self.will_retry
    }
}

/// An event's delivery state as the history API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// No client has acknowledged it yet.
    Pending,
    /// The last acknowledgement was a 2xx (or other non-error) answer.
    Delivered,
    /// The last acknowledgement was a 4xx.
    Rejected,
    /// The last acknowledgement was a give-up.
    Failed,
    /// The last acknowledgement was a filter skip.
    Skipped,
}

impl From<Outcome> for DeliveryState {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Delivered => DeliveryState::Delivered,
            Outcome::Rejected => DeliveryState::Rejected,
            Outcome::Failed => DeliveryState::Failed,
            Outcome::Skipped => DeliveryState::Skipped,
        }
    }
}
