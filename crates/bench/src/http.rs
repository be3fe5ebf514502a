//! Plain HTTP/1.1 over one keep-alive loopback connection: what the load generator sends its
//! requests on, and the one-off calls a run needs (create a channel, read an app's count).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// Longest any single request may take before the run is abandoned.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One HTTP/1.1 connection with keep-alive.
pub(crate) struct Conn {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Connects to `addr`; the connection task lives until the `Conn` is dropped.
    pub(crate) async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("could not connect to {addr}"))?;
        stream.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP handshake with {addr} failed"))?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes; nothing to report.
            let _ = connection.await;
        });
        Ok(Self { addr, sender })
    }

    /// Sends one request and reads the whole answer; a non-2xx status is an error.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<Bytes> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string())
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body)).context("bad request")?;
        let exchange = async {
            self.sender.ready().await.context("connection closed")?;
            let response = self.sender.send_request(request).await.context("request failed")?;
            let status = response.status();
            let body = response.into_body().collect().await.context("answer cut short")?;
            Ok::<_, anyhow::Error>((status, body.to_bytes()))
        };
        let (status, body) =
            tokio::time::timeout(REQUEST_TIMEOUT, exchange).await.with_context(|| {
                format!("no answer from {} within {REQUEST_TIMEOUT:?}", self.addr)
            })??;
        if !status.is_success() {
            bail!("{} answered {status}: {}", self.addr, String::from_utf8_lossy(&body));
        }
        Ok(body)
    }
}

/// A channel created on a relay.
pub(crate) struct Channel {
    /// `ch_...`
    pub id: String,
    /// Its bearer token.
    pub token: String,
}

impl Channel {
    /// The ingest path for POSTs, with a suffix so forwarded requests have a path too.
    pub(crate) fn ingest_path(&self) -> String {
        format!("/h/{}/bench", self.id)
    }
}

/// `POST /v1/channels` on the relay at `addr`.
pub(crate) async fn create_channel(addr: SocketAddr) -> anyhow::Result<Channel> {
    let mut conn = Conn::open(addr).await?;
    let body = conn.send(Method::POST, "/v1/channels", &[], Bytes::new()).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).context("channel answer is not JSON")?;
    let field = |name: &str| {
        value[name].as_str().map(str::to_owned).with_context(|| format!("no {name} in {value}"))
    };
    Ok(Channel { id: field("channel")?, token: field("token")? })
}
