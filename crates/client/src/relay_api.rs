//! Calls to the relay's HTTP API (DESIGN §3) that `listen` needs: create a channel, check
//! that a saved one still exists, and recognise a hookrelay relay by its `/healthz`.

use std::time::Duration;

use bytes::Bytes;
use hookrelay_proto::{ChannelCreated, CreateChannel, ErrorBody};
use http_body_util::{BodyExt as _, Full, Limited};
use url::Url;

use crate::http::{HttpClient, root_cause};

/// Longest wait for one API call.
pub const API_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest API answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The relay could not be reached (or did not answer in time): worth retrying.
    #[error("could not reach the relay at {url}: {reason}")]
    Unreachable {
        /// The relay.
        url: String,
        /// Why.
        reason: String,
    },
    /// The relay answered with an error.
    #[error("the relay answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The error envelope's message, or the raw body.
        message: String,
    },
}

/// `base` with `segments` appended as path segments (percent-encoded as needed).
pub fn relay_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// The relay's API as `listen` uses it.
pub struct RelayApi {
    client: HttpClient,
    base: Url,
}

impl RelayApi {
    /// An API client for the relay at `base`.
    pub fn new(client: HttpClient, base: Url) -> Self {
        Self { client, base }
    }

    /// `POST /v1/channels`.
    pub async fn create_channel(&self) -> Result<ChannelCreated, ApiError> {
        let body = serde_json::to_vec(&CreateChannel::default()).expect("serializable");
        let (status, body) = self.call(http::Method::POST, &["v1", "channels"], None, body).await?;
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
    pub async fn channel_exists(&self, channel: &str, token: &str) -> Result<bool, ApiError> {
        let path = ["v1", "channels", channel, "events"];
        let (status, body) = self.call(http::Method::GET, &path, Some(token), Vec::new()).await?;
        match status {
            200..=299 => Ok(true),
            401 | 404 => Ok(false),
            _ => Err(status_error(status, &body)),
        }
    }

    /// Whether a hookrelay relay answers here (used when our port is taken): `/healthz`
    /// says `{"status": "ok", ...}` and an unknown channel gets the relay's error envelope.
    pub async fn is_hookrelay(&self) -> bool {
        let healthy = match self.call(http::Method::GET, &["healthz"], None, Vec::new()).await {
            Ok((200, body)) => serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|value| value["status"] == "ok" || value["service"] == "hookrelay"),
            _ => false,
        };
        let probe = ["v1", "channels", "hookrelay-probe", "events"];
        healthy
            && match self.call(http::Method::GET, &probe, None, Vec::new()).await {
                Ok((status, body)) => {
                    (400..500).contains(&status)
                        && serde_json::from_slice::<ErrorBody>(&body).is_ok()
                }
                Err(_) => false,
            }
    }

    async fn call(
        &self,
        method: http::Method,
        segments: &[&str],
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), ApiError> {
        let url = relay_url(&self.base, segments);
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
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|err| err.to_string())?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        match tokio::time::timeout(API_TIMEOUT, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(reason)) => Err(unreachable(reason)),
            Err(_) => Err(unreachable(format!("no answer within {API_TIMEOUT:?}"))),
        }
    }
}

fn status_error(status: u16, body: &[u8]) -> ApiError {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|body| body.error.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    ApiError::Status { status, message }
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
