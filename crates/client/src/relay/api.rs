//! Calls to the relay's HTTP API (DESIGN §3): create a channel, check that a saved one still
//! exists, recognise a hookrelay relay by its `/healthz`, and read and annotate history
//! (`events`, `show`, `replay`).

use std::time::Duration;

use bytes::Bytes;
use hookrelay_proto::{
    ChannelCreated, CreateChannel, DeliveryResult, ErrorBody, EventDetail, EventSummary, Gap, Page,
};
use http_body_util::{BodyExt as _, Full, Limited};
use url::Url;

use hookrelay_http::{HttpClient, root_cause};

/// Longest wait for one API call.
pub(crate) const API_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest answer read for small calls (channels, summaries, acks).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// Largest answer read for one full event: a 25 MiB body in base64 plus headers.
const MAX_EVENT_BYTES: usize = 40 * 1024 * 1024;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The relay could not be reached (or did not answer in time): worth retrying.
    #[error("could not reach the relay at {url}: {reason}")]
    Unreachable {
        /// The relay.
        url: String,
        /// Why.
        reason: String,
    },
    /// The relay can never answer as given (`http://` to a TLS port...): the fix, naming
    /// `--relay`. Never worth retrying.
    #[error("cannot use the relay: {0}")]
    Unusable(String),
    /// The relay answered with an error.
    #[error("the relay answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The error envelope's message, or the raw body.
        message: String,
    },
}

/// Fails with the fix when the relay at `url` can never answer (a host that does not
/// resolve, `https://` to a plain-HTTP relay, an untrusted certificate). A relay that is
/// merely down passes: `listen` waits for it, the other commands report it themselves.
pub(crate) async fn check_relay(url: &Url) -> anyhow::Result<()> {
    match hookrelay_http::probe(url).await {
        hookrelay_http::Reach::Never(broken) => {
            anyhow::bail!("cannot use the relay: {}", broken.advice(url, "--relay"))
        }
        hookrelay_http::Reach::Ok | hookrelay_http::Reach::Down(_) => Ok(()),
    }
}

/// `base` with `segments` appended as path segments (percent-encoded as needed).
pub(crate) fn relay_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// The relay's API as `listen` uses it (cheap to clone: the HTTP client is shared).
#[derive(Clone)]
pub(crate) struct RelayApi {
    client: HttpClient,
    base: Url,
    admin_token: Option<String>,
}

impl RelayApi {
    /// An API client for the relay at `base`.
    pub(crate) fn new(client: HttpClient, base: Url) -> Self {
        Self { client, base, admin_token: None }
    }

    /// Sends `token` (`--admin-token`) when creating channels on a relay that guards it.
    pub(crate) fn with_admin_token(mut self, token: Option<String>) -> Self {
        self.admin_token = token;
        self
    }

    /// `DELETE /v1/channels/{channel}`: the channel and its history go; its id stays taken.
    pub(crate) async fn delete_channel(&self, channel: &str, token: &str) -> Result<(), ApiError> {
        let path = ["v1", "channels", channel];
        let (status, body) =
            self.call(http::Method::DELETE, &path, None, Some(token), Vec::new()).await?;
        match status {
            200..=299 => Ok(()),
            _ => Err(status_error(status, &body)),
        }
    }

    /// `POST /v1/channels/{channel}/token`: a new token; the old one stops working.
    pub(crate) async fn rotate_token(
        &self,
        channel: &str,
        token: &str,
    ) -> Result<ChannelCreated, ApiError> {
        let path = ["v1", "channels", channel, "token"];
        let (status, body) =
            self.call(http::Method::POST, &path, None, Some(token), Vec::new()).await?;
        decode(status, &body)
    }

    /// `GET /v1/admin`: whether this client's admin token (or none) may create channels.
    pub(crate) async fn check_admin(&self) -> Result<(), ApiError> {
        let admin = self.admin_token.as_deref();
        let (status, body) =
            self.call(http::Method::GET, &["v1", "admin"], None, admin, Vec::new()).await?;
        match status {
            200..=299 => Ok(()),
            _ => Err(status_error(status, &body)),
        }
    }

    /// `POST /v1/channels`.
    pub(crate) async fn create_channel(&self) -> Result<ChannelCreated, ApiError> {
        let body = serde_json::to_vec(&CreateChannel::default()).expect("serializable");
        let admin = self.admin_token.as_deref();
        let (status, body) =
            self.call(http::Method::POST, &["v1", "channels"], None, admin, body).await?;
        if status == 401 || status == 403 {
            let message = error_message(&body);
            let hint = match admin {
                None => {
                    "this relay guards channel creation: pass --admin-token T (or \
                         HOOKRELAY_ADMIN_TOKEN), or --channel and --token of an existing channel"
                }
                Some(_) => "check --admin-token (or HOOKRELAY_ADMIN_TOKEN)",
            };
            return Err(ApiError::Status { status, message: format!("{message}; {hint}") });
        }
        if status != 201 && status != 200 {
            return Err(status_error(status, &body));
        }
        serde_json::from_slice(&body).map_err(|err| ApiError::Status {
            status,
            message: format!("unexpected answer to POST /v1/channels: {err}"),
        })
    }

    /// Whether `channel` exists and `token` reads it: `Ok(true)`, `Ok(false)` on 404 (or 401:
    /// a saved token the relay no longer knows), other errors as they come.
    pub(crate) async fn channel_exists(
        &self,
        channel: &str,
        token: &str,
    ) -> Result<bool, ApiError> {
        let path = ["v1", "channels", channel, "events"];
        let query = Some("limit=1");
        let (status, body) =
            self.call(http::Method::GET, &path, query, Some(token), Vec::new()).await?;
        match status {
            200..=299 => Ok(true),
            401 | 404 => Ok(false),
            _ => Err(status_error(status, &body)),
        }
    }

    /// Whether a hookrelay relay answers here (used when our port is taken): its `/healthz`
    /// says `{"service": "hookrelay", ...}`.
    pub(crate) async fn is_hookrelay(&self) -> bool {
        match self.call(http::Method::GET, &["healthz"], None, None, Vec::new()).await {
            Ok((200, body)) => serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|value| value["service"] == "hookrelay"),
            _ => false,
        }
    }

    /// `GET /v1/channels/{channel}/events`: with `Page::After` the events after a `seq`,
    /// oldest first; with `Page::Last` the newest `n`, oldest first.
    pub(crate) async fn list_events(
        &self,
        channel: &str,
        token: &str,
        page: Page,
    ) -> Result<Vec<EventSummary>, ApiError> {
        let query = match page {
            Page::After { after, limit } => format!("after={after}&limit={limit}"),
            Page::Last(n) => format!("last={n}"),
        };
        let path = ["v1", "channels", channel, "events"];
        let (status, body) =
            self.call(http::Method::GET, &path, Some(&query), Some(token), Vec::new()).await?;
        decode(status, &body)
    }

    /// `GET /v1/channels/{channel}/gaps`: the runs of events the relay's age retention
    /// removed before any client finished them, oldest first.
    pub(crate) async fn list_gaps(&self, channel: &str, token: &str) -> Result<Vec<Gap>, ApiError> {
        let path = ["v1", "channels", channel, "gaps"];
        let (status, body) =
            self.call(http::Method::GET, &path, None, Some(token), Vec::new()).await?;
        decode(status, &body)
    }

    /// `GET /v1/channels/{channel}/events/{id}`; `id` may be a unique prefix (the relay
    /// answers 409 when it is ambiguous, naming the candidates).
    pub(crate) async fn get_event(
        &self,
        channel: &str,
        token: &str,
        id: &str,
    ) -> Result<EventDetail, ApiError> {
        let path = ["v1", "channels", channel, "events", id];
        let (status, body) = self
            .call_limited(http::Method::GET, &path, None, Some(token), Vec::new(), MAX_EVENT_BYTES)
            .await?;
        decode(status, &body)
    }

    /// `POST /v1/channels/{channel}/events/{id}/deliveries`: records the result of a
    /// delivery made outside the stream (a replay), so history shows it.
    pub(crate) async fn record_delivery(
        &self,
        channel: &str,
        token: &str,
        id: &str,
        result: &DeliveryResult,
    ) -> Result<(), ApiError> {
        let path = ["v1", "channels", channel, "events", id, "deliveries"];
        let body = serde_json::to_vec(result).expect("serializable");
        let (status, body) = self.call(http::Method::POST, &path, None, Some(token), body).await?;
        match status {
            200..=299 => Ok(()),
            _ => Err(status_error(status, &body)),
        }
    }

    async fn call(
        &self,
        method: http::Method,
        segments: &[&str],
        query: Option<&str>,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), ApiError> {
        self.call_limited(method, segments, query, token, body, MAX_ANSWER_BYTES).await
    }

    async fn call_limited(
        &self,
        method: http::Method,
        segments: &[&str],
        query: Option<&str>,
        token: Option<&str>,
        body: Vec<u8>,
        max_answer: usize,
    ) -> Result<(u16, Bytes), ApiError> {
        let mut url = relay_url(&self.base, segments);
        url.set_query(query);
        let unreachable =
            |reason: String| ApiError::Unreachable { url: self.base.to_string(), reason };
        let mut request = http::Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = method;
        *request.uri_mut() = url.as_str().parse().map_err(|err| unreachable(format!("{err}")))?;
        let headers = request.headers_mut();
        headers
            .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().map_err(|_| ApiError::Status {
                status: 401,
                message: "the token contains characters a header cannot carry".into(),
            })?;
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| root_cause(&err))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), max_answer)
                .collect()
                .await
                .map_err(|err| err.to_string())?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        let reason = match tokio::time::timeout(API_TIMEOUT, exchange).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(reason)) => reason,
            Err(_) => format!("no answer within {API_TIMEOUT:?}"),
        };
        // Most failures pass (the relay is restarting); a URL that can never work, like
        // http:// to a TLS port, is said at once instead of being retried.
        match hookrelay_http::probe_after_failure(&self.base).await {
            hookrelay_http::Reach::Never(broken) => {
                Err(ApiError::Unusable(broken.advice(&self.base, "--relay")))
            }
            hookrelay_http::Reach::Ok | hookrelay_http::Reach::Down(_) => Err(unreachable(reason)),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, ApiError> {
    if !(200..=299).contains(&status) {
        return Err(status_error(status, body));
    }
    serde_json::from_slice(body).map_err(|err| ApiError::Status {
        status,
        message: format!("the relay's answer could not be read: {err}"),
    })
}

fn status_error(status: u16, body: &[u8]) -> ApiError {
    ApiError::Status { status, message: error_message(body) }
}

/// The error envelope's message, or the raw body.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|body| body.error.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_url_appends_segments_under_any_base_path() {
        let base: Url = "https://relay.example/prefix/".parse().expect("url");
        assert_eq!(
            relay_url(&base, &["v1", "channels", "ch 1"]).as_str(),
            "https://relay.example/prefix/v1/channels/ch%201"
        );
        let bare: Url = "http://127.0.0.1:8787".parse().expect("url");
        assert_eq!(relay_url(&bare, &["healthz"]).as_str(), "http://127.0.0.1:8787/healthz");
    }
}
