//! A scripted stand-in for the relay's stream, for frames the real relay never sends: it
//! accepts `hookrelay.v1` websockets at `/v1/channels/{channel}/stream`, sends each session
//! a `hello` and then the text frames scripted for that session, and records every
//! connection (its query and the close code the client sent, if any) and every ack.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt as _, StreamExt as _};
use hookrelay_proto::{ClientMessage, DeliveryResult, Event, SUBPROTOCOL, ServerMessage};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

use crate::WAIT;

/// One websocket session the fake accepted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    /// The upgrade request's query (`after=N`).
    pub query: String,
    /// The code of the Close frame the client sent, if it sent one.
    pub close_code: Option<u16>,
}

#[derive(Default)]
struct Shared {
    sessions: Mutex<Vec<Session>>,
    acks: Mutex<Vec<(u64, String, DeliveryResult)>>,
    changed: Notify,
}

impl Shared {
    fn update(&self, change: impl FnOnce(&Self)) {
        change(self);
        self.changed.notify_waiters();
    }
}

/// The fake relay and its accept loop (stopped when dropped).
pub(crate) struct FakeRelay {
    pub url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRelay {
    /// Starts on a free port for `channel`. Session `i` (from 0) gets `scripts[i]` after its
    /// hello; sessions beyond the scripts get only the hello.
    pub(crate) async fn start(channel: &str, scripts: Vec<Vec<String>>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let shared = Arc::new(Shared::default());
        let path = format!("/v1/channels/{channel}/stream");
        let hello = serde_json::to_string(&ServerMessage::Hello {
            channel: channel.to_owned(),
            last_seq: 100,
            window: 64,
            ping_interval_secs: 10,
            others: Vec::new(),
            max_body: None,
            resume_after: None,
        })
        .expect("hello serializes");
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                let mut sessions = JoinSet::new();
                let scripts = Arc::new(Mutex::new(scripts.into_iter()));
                while let Ok((tcp, _)) = listener.accept().await {
                    let (scripts, hello) = (scripts.clone(), hello.clone());
                    let (path, shared) = (path.clone(), shared.clone());
                    sessions.spawn(async move {
                        // A connection that closes without a byte (the client's reachability
                        // probe) is not a session and takes no script.
                        if !matches!(tcp.peek(&mut [0; 1]).await, Ok(1..)) {
                            return;
                        }
                        // listen's check that a given channel exists: the history API answers,
                        // as a real relay's would, and the connection is not a session.
                        if history_request(&tcp).await {
                            answer_empty_history(tcp).await;
                            return;
                        }
                        let mut frames = vec![hello];
                        frames.extend(scripts.lock().expect("scripts").next().unwrap_or_default());
                        session(tcp, path, frames, shared).await;
                    });
                }
            }
        });
        Self { url, shared, task }
    }

    /// The sessions accepted so far.
    pub(crate) fn sessions(&self) -> Vec<Session> {
        self.shared.sessions.lock().expect("sessions").clone()
    }

    /// Waits until at least `n` sessions were accepted.
    pub(crate) async fn wait_for_sessions(&self, n: usize) -> Vec<Session> {
        self.wait(|shared| {
            let sessions = shared.sessions.lock().expect("sessions");
            (sessions.len() >= n).then(|| sessions.clone())
        })
        .await
        .unwrap_or_else(|| panic!("fewer than {n} sessions: {:?}", self.sessions()))
    }

    /// Waits until at least `n` acks arrived; returns them as `(seq, id, result)`.
    pub(crate) async fn wait_for_acks(&self, n: usize) -> Vec<(u64, String, DeliveryResult)> {
        self.wait(|shared| {
            let acks = shared.acks.lock().expect("acks");
            (acks.len() >= n).then(|| acks.clone())
        })
        .await
        .unwrap_or_else(|| panic!("fewer than {n} acks: {:?}", self.shared.acks.lock()))
    }

    async fn wait<T>(&self, ready: impl Fn(&Shared) -> Option<T>) -> Option<T> {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                if let Some(value) = ready(&self.shared) {
                    return value;
                }
                changed.await;
            }
        };
        tokio::time::timeout(WAIT, wait).await.ok()
    }
}

/// Whether the request waiting on `tcp` is `GET /v1/channels/.../events` (not a stream).
async fn history_request(tcp: &TcpStream) -> bool {
    let mut head = [0u8; 256];
    let Ok(read) = tcp.peek(&mut head).await else { return false };
    let line = String::from_utf8_lossy(&head[..read]);
    line.lines().next().is_some_and(|line| line.starts_with("GET ") && line.contains("/events"))
}

/// Answers a history request with an empty page and closes the connection.
async fn answer_empty_history(mut tcp: TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&chunk[..read]),
        }
    }
    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                  connection: close\r\n\r\n[]";
    let _ = tcp.write_all(answer.as_bytes()).await;
}

/// One session: upgrade (checking the route and the subprotocol), send `frames`, record
/// what comes back until the client goes away.
async fn session(tcp: TcpStream, path: String, frames: Vec<String>, shared: Arc<Shared>) {
    let mut query = String::new();
    #[expect(clippy::result_large_err, reason = "tungstenite's callback type, not ours")]
    let accept = |request: &Request, mut response: Response| {
        let offered = request.headers().get("sec-websocket-protocol");
        if request.uri().path() != path || offered.is_none_or(|v| v != SUBPROTOCOL) {
            let mut refusal = ErrorResponse::new(Some("not a hookrelay.v1 stream".into()));
            *refusal.status_mut() = http::StatusCode::BAD_REQUEST;
            return Err(refusal);
        }
        query = request.uri().query().unwrap_or_default().to_owned();
        let protocol = http::HeaderValue::from_static(SUBPROTOCOL);
        response.headers_mut().insert("sec-websocket-protocol", protocol);
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, accept).await else { return };
    let index = {
        let mut sessions = shared.sessions.lock().expect("sessions");
        sessions.push(Session { query, close_code: None });
        sessions.len() - 1
    };
    shared.changed.notify_waiters();
    let (mut sink, mut stream) = ws.split();
    let send = async move {
        for frame in frames {
            // An error means the client went away (or refused a frame): stop sending.
            if sink.send(Message::text(frame)).await.is_err() {
                break;
            }
        }
        sink
    };
    let receive = async {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Text(text) => {
                    if let Ok(ClientMessage::Ack { seq, id, result }) =
                        serde_json::from_str(text.as_str())
                    {
                        shared.update(|s| s.acks.lock().expect("acks").push((seq, id, result)));
                    }
                }
                Message::Close(frame) => {
                    let code = frame.map(|frame| u16::from(frame.code));
                    shared
                        .update(|s| s.sessions.lock().expect("sessions")[index].close_code = code);
                }
                _ => {}
            }
        }
    };
    // The sink is kept until the client is gone, so the session stays open after the script.
    let (_sink, ()) = tokio::join!(send, receive);
}

/// An `event` frame with a JSON body `{"n": n}`.
pub(crate) fn event_frame(seq: u64, id: &str, n: usize) -> String {
    let event = Event {
        id: id.to_owned(),
        seq,
        received_at_ms: 1_700_000_000_000,
        method: "POST".into(),
        path: "/hooks".into(),
        query: None,
        headers: vec![("content-type".into(), "application/json".into())],
        body: format!("{{\"n\":{n}}}").into(),
    };
    serde_json::to_string(&ServerMessage::Event(event)).expect("event serializes")
}
