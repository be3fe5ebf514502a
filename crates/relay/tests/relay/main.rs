//! Integration tests of `hookrelayd`: a real relay on `127.0.0.1:0` (in process, or the real
//! binary for crash tests), driven over HTTP and websockets like providers and clients do.

mod channels;
mod files;
mod flags;
mod guard;
mod history;
mod ingest;
mod limits;
mod listeners;
mod process;
mod redis;
mod redis_cluster;
mod stream;
mod tls;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use hookrelay_proto::{
    ChannelCreated, ClientMessage, DeliveryResult, Outcome, SUBPROTOCOL, ServerMessage,
};
use hookrelay_relay::Config;
use http_body_util::{BodyExt as _, Full};
use hyper::StatusCode;
use hyper::http::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// Upper bound for any single awaited step: a bug fails fast instead of hanging.
const STEP: Duration = Duration::from_secs(20);

/// Awaits `future` or panics after `STEP`.
async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, future).await.expect("step timed out")
}

/// A relay served in this process on an ephemeral port, over a temporary data directory.
struct TestRelay {
    url: String,
    shutdown: CancellationToken,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestRelay {
    async fn start() -> Self {
        Self::with(|_| {}).await
    }

    /// Starts a relay with the default config changed by `change`.
    async fn with(change: impl FnOnce(&mut Config)) -> Self {
        // RUST_LOG=debug shows the relay's log for a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
        change(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let served = tokio::spawn(hookrelay_relay::serve(listener, config, shutdown.clone()));
        Self { url, shutdown, served, _dir: dir }
    }

    async fn channel(&self) -> ChannelCreated {
        create_channel(&self.url, None).await
    }

    async fn stop(self) {
        self.shutdown.cancel();
        within(self.served).await.expect("serve task").expect("serve ends cleanly");
    }
}

/// The answer of one HTTP request.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error.code` of a JSON error answer.
    fn error_code(&self) -> String {
        let value: serde_json::Value = self.json();
        value["error"]["code"].as_str().expect("error envelope").to_owned()
    }
}

/// Sends one request; `headers` are appended in order (duplicates kept).
async fn http(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    try_http(method, url, headers, body).await.expect("request sent")
}

/// [`http`] for a server that may be gone: a failed connection or exchange is an `Err`.
async fn try_http(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Answer, Box<dyn std::error::Error + Send + Sync>> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body.into())).expect("valid request");
    let response = within(client.request(request)).await?;
    let (parts, body) = response.into_parts();
    let body = within(body.collect()).await?.to_bytes();
    Ok(Answer { status: parts.status, headers: parts.headers, body })
}

/// The value of one sample on the relay's `/metrics` (`name` with its labels, as printed),
/// or `None` when it is not there.
async fn metric(relay_url: &str, name: &str) -> Option<f64> {
    let answer = http(Method::GET, &format!("{relay_url}/metrics"), &[], "").await;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Waits (at most `STEP`) until `metric` reads `value`; the relay updates some after it
/// answers.
async fn until_metric(relay_url: &str, name: &str, value: f64) {
    let reached = tokio::time::timeout(STEP, async {
        while metric(relay_url, name).await != Some(value) {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let now = metric(relay_url, name).await;
    assert!(reached.is_ok(), "{name} is {now:?}, waited for {value}");
}

async fn post(url: &str, body: impl Into<Bytes>) -> Answer {
    http(Method::POST, url, &[], body).await
}

/// `GET` with the channel token.
async fn get_with_token(url: &str, token: &str) -> Answer {
    http(Method::GET, url, &[("authorization", &format!("Bearer {token}"))], Bytes::new()).await
}

async fn create_channel(relay_url: &str, name: Option<&str>) -> ChannelCreated {
    let body = name.map(|name| serde_json::json!({ "name": name }).to_string()).unwrap_or_default();
    let answer = post(&format!("{relay_url}/v1/channels"), body).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    answer.json()
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `DELETE /v1/channels/{channel}` with the channel's token.
async fn delete_channel(relay_url: &str, channel: &ChannelCreated) -> Answer {
    let url = format!("{relay_url}/v1/channels/{}", channel.channel);
    let auth = format!("Bearer {}", channel.token);
    http(Method::DELETE, &url, &[("authorization", &auth)], "").await
}

/// Opens a stream session the way `hookrelay listen` does.
async fn connect(relay_url: &str, channel: &ChannelCreated, after: u64) -> Ws {
    try_connect(relay_url, &channel.channel, Some(&channel.token), after).await.expect("connected")
}

async fn try_connect(
    relay_url: &str,
    channel: &str,
    token: Option<&str>,
    after: u64,
) -> Result<Ws, tungstenite::Error> {
    try_connect_query(relay_url, channel, token, &format!("after={after}")).await
}

/// [`try_connect`] with the stream's whole query string.
async fn try_connect_query(
    relay_url: &str,
    channel: &str,
    token: Option<&str>,
    query: &str,
) -> Result<Ws, tungstenite::Error> {
    let url =
        format!("{}/v1/channels/{channel}/stream?{query}", relay_url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("valid url");
    request.headers_mut().insert("sec-websocket-protocol", SUBPROTOCOL.parse().expect("valid"));
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("valid");
        request.headers_mut().insert("authorization", value);
    }
    // Events carry bodies up to 25 MiB base64-encoded: far over tungstenite's default frame limit.
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20)).max_frame_size(None);
    let (ws, _) =
        within(tokio_tungstenite::connect_async_with_config(request, Some(config), true)).await?;
    Ok(ws)
}

/// The next relay message that is neither a ping/pong nor a `listeners` notice (tests of
/// several sessions get those whenever one comes or goes); panics on close.
async fn next_message(ws: &mut Ws) -> ServerMessage {
    loop {
        match next_message_of_any_kind(ws).await {
            ServerMessage::Listeners { .. } => {}
            message => return message,
        }
    }
}

/// The next relay message that is not a ping/pong; panics on close.
async fn next_message_of_any_kind(ws: &mut Ws) -> ServerMessage {
    loop {
        match within(ws.next()).await.expect("stream open").expect("no error") {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str()).expect("valid message");
            }
            Message::Binary(frame) => {
                let event = hookrelay_proto::decode_event(&frame).expect("an event frame");
                return ServerMessage::Event(event);
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// Reads the hello, checking its channel.
async fn expect_hello(ws: &mut Ws, channel: &str) -> u64 {
    match next_message(ws).await {
        ServerMessage::Hello { channel: got, last_seq, .. } => {
            assert_eq!(got, channel);
            last_seq
        }
        other => panic!("expected hello, got {other:?}"),
    }
}

async fn next_event(ws: &mut Ws) -> hookrelay_proto::Event {
    match next_message(ws).await {
        ServerMessage::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Reads until the relay's Close frame and returns its code and reason.
async fn expect_close(ws: &mut Ws) -> (u16, String) {
    loop {
        match within(ws.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => {
                // Reading on flushes our answering Close, so the relay need not wait for it.
                while let Some(Ok(_)) = within(ws.next()).await {}
                return (frame.code.into(), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) => panic!("close frame without a code"),
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("connection failed before a close frame: {err}"),
            None => panic!("connection ended without a close frame"),
        }
    }
}

async fn ack(ws: &mut Ws, event: &hookrelay_proto::Event, outcome: Outcome, status: u16) {
    let result = DeliveryResult::new(outcome, Some(status), 1, 1);
    let ack = ClientMessage::Ack { seq: event.seq, id: event.id.clone(), result };
    let text = serde_json::to_string(&ack).expect("serializable");
    within(ws.send(Message::text(text))).await.expect("ack sent");
}
