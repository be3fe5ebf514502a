//! One HTTP request to the local app for one event, and what its answer means: delivered,
//! rejected (4xx, final) or worth retrying (connection refused, timeout, 5xx).

use std::time::{Duration, Instant};

use bytes::Bytes;
use hookrelay_proto::Event;
use http_body_util::{BodyExt as _, Full};
use url::Url;

use hookrelay_signature::{Scheme, Secret};

use crate::deliver::outgoing::{HeaderOverride, forward_headers, target_url};
use hookrelay_http::{HttpClient, error_chain, root_cause};

/// How much of the local app's response body is kept for `show` and the relay's history.
pub(crate) const RESPONSE_PREVIEW_BYTES: usize = 2048;
/// Most response headers kept for history, and most bytes of them: a response head is worth
/// seeing, but a record must stay far under the relay's 64 KiB message limit.
const RESPONSE_HEADERS_MAX: usize = 32;
const RESPONSE_HEADER_BYTES: usize = 4096;

/// Sends events to one target URL.
pub(crate) struct Forwarder {
    client: HttpClient,
    target: Url,
    overrides: Vec<HeaderOverride>,
    timeout: Duration,
    resign: Option<Resign>,
    name: Option<String>,
}

/// `--resign SCHEME --secret S`: sign each request afresh (new timestamp, exact body bytes)
/// so the app's signature check accepts an event older than its tolerance.
#[derive(Debug, Clone)]
pub struct Resign {
    /// The scheme.
    pub scheme: Scheme,
    /// The key.
    pub secret: Secret,
}

/// The local app answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Its status code.
    pub status: u16,
    /// Time until the response head arrived.
    pub latency: Duration,
    /// The response headers, in order (at most [`RESPONSE_HEADERS_MAX`], 4 KiB).
    pub headers: Vec<(String, String)>,
    /// The start of the response body, lossy UTF-8.
    pub preview: String,
}

/// What a status code means for the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 1xx/2xx/3xx: done.
    Delivered,
    /// 4xx: a real answer; recorded, not retried.
    Rejected,
    /// 5xx: the app is unwell; try again.
    Retry,
}

impl Verdict {
    /// Classifies a status code.
    pub(crate) fn of(status: u16) -> Self {
        match status {
            400..=499 => Verdict::Rejected,
            500.. => Verdict::Retry,
            _ => Verdict::Delivered,
        }
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ForwardError {
    /// Nothing listens (yet) or the TCP/TLS connection failed: the app is probably restarting.
    #[error("{0}")]
    Connect(String),
    /// No answer within `--timeout`.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection broke mid-request.
    #[error("{0}")]
    Io(String),
    /// The event cannot be expressed as a request (bad method or URL); retrying won't help.
    #[error("cannot forward this event: {0}")]
    Invalid(String),
}

impl ForwardError {
    /// Whether a later attempt may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        !matches!(self, ForwardError::Invalid(_))
    }

    /// Nothing answered the connection (refused, reset, DNS): the app is probably restarting,
    /// which `listen` waits out instead of counting attempts.
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, ForwardError::Connect(_))
    }
}

impl Forwarder {
    /// A forwarder to `target` with `-H` overrides and a per-request timeout.
    pub(crate) fn new(
        client: HttpClient,
        target: Url,
        overrides: Vec<HeaderOverride>,
        timeout: Duration,
    ) -> Self {
        Self { client, target, overrides, timeout, resign: None, name: None }
    }

    /// Re-signs every request with `resign` (when `Some`).
    pub(crate) fn with_resign(mut self, resign: Option<Resign>) -> Self {
        self.resign = resign;
        self
    }

    /// Names this target in the log (the route it serves, when a routes file is in use).
    pub(crate) fn with_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    /// The name given with [`Forwarder::with_name`].
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `host:port` of the target, for "waiting for localhost:3000...".
    pub(crate) fn target_label(&self) -> String {
        crate::deliver::outgoing::authority(&self.target)
    }

    /// The target as given (`-f`, a route's `to`).
    pub(crate) fn target(&self) -> &Url {
        &self.target
    }

    /// The `-H` (and route) header overrides it applies.
    pub(crate) fn overrides(&self) -> &[HeaderOverride] {
        &self.overrides
    }

    /// The URL `event` is sent to: the target with the event's path and query.
    pub(crate) fn url_for(&self, event: &Event) -> String {
        target_url(&self.target, &event.path, event.query.as_deref())
    }

    /// The scheme requests are re-signed with, if any (`--resign`).
    pub(crate) fn resign_scheme(&self) -> Option<String> {
        self.resign.as_ref().map(|resign| resign.scheme.to_string())
    }

    /// Sends `event` once.
    pub(crate) async fn send(&self, event: &Event) -> Result<Answer, ForwardError> {
        let request = self.build(event)?;
        let started = Instant::now();
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| {
                if err.is_connect() {
                    ForwardError::Connect(root_cause(&err))
                } else {
                    ForwardError::Io(error_chain(&err))
                }
            })?;
            let latency = started.elapsed();
            let status = response.status().as_u16();
            let headers = response_headers(response.headers());
            let preview = read_preview(response.into_body()).await;
            Ok(Answer { status, latency, headers, preview })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(ForwardError::Timeout(self.timeout)))
    }

    fn build(&self, event: &Event) -> Result<http::Request<Full<Bytes>>, ForwardError> {
        let invalid = |what: String| ForwardError::Invalid(what);
        let method = http::Method::from_bytes(event.method.as_bytes())
            .map_err(|_| invalid(format!("bad method {:?}", event.method)))?;
        let url = target_url(&self.target, &event.path, event.query.as_deref());
        let uri: http::Uri = url.parse().map_err(|err| invalid(format!("bad URL {url}: {err}")))?;
        let mut request = http::Request::new(Full::new(event.body.clone()));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let mut list = forward_headers(event, &self.target, &self.overrides);
        if let Some(Resign { scheme, secret }) = &self.resign {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            hookrelay_signature::sign(*scheme, secret, &mut list, &event.body, now, &event.id);
        }
        let headers = request.headers_mut();
        for (name, value) in list {
            let parsed = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value.as_bytes()),
            );
            match parsed {
                (Ok(name), Ok(value)) => {
                    headers.append(name, value);
                }
                // The relay only stores headers that were valid when received, so this is a
                // lossy-UTF-8 leftover; dropping one header beats never delivering the event.
                _ => tracing::warn!(event = %event.id, header = %name, "dropping invalid header"),
            }
        }
        Ok(request)
    }
}

/// The response's headers in order, as many as fit [`RESPONSE_HEADERS_MAX`] and
/// [`RESPONSE_HEADER_BYTES`]; values lossy UTF-8.
fn response_headers(map: &http::HeaderMap) -> Vec<(String, String)> {
    let mut bytes = 0;
    map.iter()
        .take(RESPONSE_HEADERS_MAX)
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .take_while(|(name, value)| {
            bytes += name.len() + value.len();
            bytes <= RESPONSE_HEADER_BYTES
        })
        .collect()
}

async fn read_preview(mut body: hyper::body::Incoming) -> String {
    let mut kept = Vec::new();
    // Stop reading once the preview is full; the connection is then closed, not reused,
    // which is cheaper than draining a large response we do not need.
    while kept.len() < RESPONSE_PREVIEW_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let room = RESPONSE_PREVIEW_BYTES - kept.len();
                    kept.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_verdicts() {
        assert_eq!(Verdict::of(200), Verdict::Delivered);
        assert_eq!(Verdict::of(204), Verdict::Delivered);
        assert_eq!(Verdict::of(302), Verdict::Delivered);
        assert_eq!(Verdict::of(404), Verdict::Rejected);
        assert_eq!(Verdict::of(422), Verdict::Rejected);
        assert_eq!(Verdict::of(500), Verdict::Retry);
        assert_eq!(Verdict::of(503), Verdict::Retry);
    }

    #[test]
    fn only_invalid_requests_are_final() {
        assert!(ForwardError::Connect("refused".into()).is_retryable());
        assert!(ForwardError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(ForwardError::Io("reset".into()).is_retryable());
        assert!(!ForwardError::Invalid("bad".into()).is_retryable());
    }
}
