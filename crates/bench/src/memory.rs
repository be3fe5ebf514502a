//! Measurement 5 of DESIGN §8: the relay's memory, from `/proc/PID/status`. `VmRSS` of a
//! fresh `hookrelayd` idle after start and again with idle websocket clients connected (the
//! difference per client); then, on another fresh relay, `VmHWM` (peak RSS) while one 25 MiB
//! body is POSTed and streamed to one connected client, counted in copies of the body.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures_util::StreamExt as _;
use hyper::Method;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::http::{Channel, Conn, create_channel};
use crate::plan::Plan;
use crate::procs::{Workspace, status_kib};
use crate::report::{Row, Target, median};

/// Idle websocket clients held open at once.
pub(crate) const IDLE_CLIENTS: usize = 200;
/// The big body: the relay's default `--max-body`.
const BIG_BODY: usize = 25 * 1024 * 1024;
/// Time for a process's memory to settle before it is read.
const SETTLE: Duration = Duration::from_millis(500);
/// Longest wait for a websocket handshake or message.
const WS_TIMEOUT: Duration = Duration::from_secs(30);
/// The websocket subprotocol the relay requires.
const SUBPROTOCOL: &str = "hookrelay.v2";

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Every round's figures, in KiB.
#[derive(Default)]
pub(crate) struct MemoryRuns {
    idle: Vec<f64>,
    per_client: Vec<f64>,
    before_big: Vec<f64>,
    peak_big: Vec<f64>,
}

/// Runs `plan.rounds` rounds, each on fresh relays.
pub(crate) async fn measure(ws: &Workspace, plan: &Plan) -> anyhow::Result<MemoryRuns> {
    let mut runs = MemoryRuns::default();
    for round in 1..=plan.rounds {
        let (idle, with_clients) = idle_clients(ws).await?;
        let per_client = (with_clients - idle) / IDLE_CLIENTS as f64;
        let (before, peak) = big_body(ws).await?;
        eprintln!(
            "  memory round {round}/{}  idle {:.1} MiB  with {IDLE_CLIENTS} clients {:.1} MiB \
             ({per_client:.1} KiB each)  25 MiB body: {:.1} -> peak {:.1} MiB",
            plan.rounds,
            idle / 1024.0,
            with_clients / 1024.0,
            before / 1024.0,
            peak / 1024.0,
        );
        runs.idle.push(idle);
        runs.per_client.push(per_client);
        runs.before_big.push(before);
        runs.peak_big.push(peak);
    }
    Ok(runs)
}

/// RSS idle after start, and with `IDLE_CLIENTS` sessions open (each past its `hello`).
async fn idle_clients(ws: &Workspace) -> anyhow::Result<(f64, f64)> {
    let relay = ws.relay().await?;
    let pid = relay.pid()?;
    tokio::time::sleep(SETTLE).await;
    let idle = status_kib(pid, "VmRSS")? as f64;
    let channel = create_channel(relay.addr).await?;
    let mut readers = Vec::with_capacity(IDLE_CLIENTS);
    for _ in 0..IDLE_CLIENTS {
        let mut client = connect(relay.addr, &channel).await?;
        // Keep reading so pings are answered; the session stays idle otherwise.
        readers.push(tokio::spawn(async move { while let Some(Ok(_)) = client.next().await {} }));
    }
    tokio::time::sleep(SETTLE).await;
    let with_clients = status_kib(pid, "VmRSS")? as f64;
    readers.iter().for_each(tokio::task::JoinHandle::abort);
    relay.stop().await;
    Ok((idle, with_clients))
}

/// RSS with one client connected, and the peak (`VmHWM`) once a 25 MiB body was POSTed and
/// that client received it.
async fn big_body(ws: &Workspace) -> anyhow::Result<(f64, f64)> {
    let relay = ws.relay().await?;
    let pid = relay.pid()?;
    let channel = create_channel(relay.addr).await?;
    let mut client = connect(relay.addr, &channel).await?;
    tokio::time::sleep(SETTLE).await;
    let before = status_kib(pid, "VmRSS")? as f64;
    let mut conn = Conn::open(relay.addr).await?;
    let body = Bytes::from(vec![b'a'; BIG_BODY]);
    conn.send(Method::POST, &channel.ingest_path(), &[], body).await?;
    let event = next_message(&mut client).await?;
    if event.len() < BIG_BODY {
        bail!("expected the 25 MiB event, got a {}-byte message", event.len());
    }
    let peak = status_kib(pid, "VmHWM")? as f64;
    relay.stop().await;
    Ok((before, peak))
}

/// Opens a stream session as `hookrelay listen` does and reads its `hello`.
async fn connect(relay: SocketAddr, channel: &Channel) -> anyhow::Result<Ws> {
    let url = format!("ws://{relay}/v1/channels/{}/stream?after=0", channel.id);
    let mut request = url.into_client_request().context("bad websocket URL")?;
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", SUBPROTOCOL.parse().context("bad header")?);
    let bearer = format!("Bearer {}", channel.token);
    headers.insert("authorization", bearer.parse().context("bad token")?);
    // The big event is a 25 MiB body in base64 inside one message.
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20)).max_frame_size(None);
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut client, _) = tokio::time::timeout(WS_TIMEOUT, connecting)
        .await
        .context("websocket handshake timed out")?
        .context("websocket handshake failed")?;
    let hello = String::from_utf8_lossy(&next_message(&mut client).await?).into_owned();
    if !hello.contains("\"hello\"") {
        bail!("expected a hello first, got {hello:.200}");
    }
    Ok(client)
}

/// The next text or binary (event) message, skipping pings and pongs.
async fn next_message(client: &mut Ws) -> anyhow::Result<Bytes> {
    loop {
        let message = tokio::time::timeout(WS_TIMEOUT, client.next())
            .await
            .context("no websocket message in time")?
            .context("the relay closed the stream")?
            .context("websocket error")?;
        match message {
            Message::Text(text) => return Ok(Bytes::copy_from_slice(text.as_bytes())),
            Message::Binary(frame) => return Ok(frame),
            Message::Ping(_) | Message::Pong(_) => {}
            other => bail!("unexpected websocket message {other:?}"),
        }
    }
}

impl MemoryRuns {
    /// Rows for measurement 5.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let idle = median(&self.idle) / 1024.0;
        let per_client = median(&self.per_client);
        let before = median(&self.before_big) / 1024.0;
        let peak = median(&self.peak_big) / 1024.0;
        let copies = (peak - before) / (BIG_BODY as f64 / 1024.0 / 1024.0);
        vec![
            Row::absolute(
                "relay RSS idle",
                format!("relay {idle:.1} MiB"),
                idle,
                "MiB",
                Target::AtMost(20.0),
            ),
            Row::absolute(
                &format!("RSS per idle client ({IDLE_CLIENTS})"),
                format!("relay {per_client:.1} KiB"),
                per_client,
                "KiB",
                Target::AtMost(64.0),
            ),
            Row::ratio(
                "25 MiB body: peak growth",
                format!("peak {peak:.1} MiB"),
                format!("before {before:.1} MiB"),
                copies,
                Target::AtMost(4.0),
            ),
        ]
    }
}
