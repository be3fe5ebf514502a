//! `--tls-cert`/`--tls-key`: HTTPS ingest and WSS streaming with a self-signed certificate
//! for 127.0.0.1 made at test time (no key material lives in the repository).

use std::path::PathBuf;
use std::sync::Arc;

use hookrelay_proto::{ChannelCreated, IngestAck};
use hookrelay_relay::TlsFiles;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::Connector;

use crate::*;

/// A fresh self-signed certificate and key for 127.0.0.1 and localhost, as PEM files.
struct TestCert {
    dir: tempfile::TempDir,
}

impl TestCert {
    fn new() -> Self {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let made = rcgen::generate_simple_self_signed(names).expect("certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cert.pem"), made.cert.pem()).expect("write cert");
        std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem())
            .expect("write key");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A client config that trusts only the test certificate.
fn client_config(test_cert: &TestCert) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let cert = CertificateDer::from_pem_file(test_cert.path("cert.pem")).expect("certificate");
    roots.add(cert).expect("usable as a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// One HTTPS request, written by hand; returns the status code and the body.
async fn https(
    relay: &TestRelay,
    cert: &TestCert,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let address = relay.url.trim_start_matches("https://");
    let tcp = within(TcpStream::connect(address)).await.expect("connect");
    let connector = tokio_rustls::TlsConnector::from(client_config(cert));
    let name = ServerName::try_from("127.0.0.1").expect("valid name");
    let mut tls = within(connector.connect(name, tcp)).await.expect("TLS handshake");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    within(tls.write_all(request.as_bytes())).await.expect("write");
    let mut response = Vec::new();
    within(tls.read_to_end(&mut response)).await.expect("read");
    let response = String::from_utf8(response).expect("utf-8 answer");
    let status = response[9..12].parse().expect("status code");
    let (_, body) = response.split_once("\r\n\r\n").expect("header end");
    (status, body.to_owned())
}

#[tokio::test]
async fn tls_relay_serves_https_ingest_and_wss_streams() {
    let cert = TestCert::new();
    let files = TlsFiles { cert: cert.path("cert.pem"), key: cert.path("key.pem") };
    let relay = TestRelay::with(|config| config.tls = Some(files)).await;
    let (status, body) = https(&relay, &cert, "POST", "/v1/channels", "").await;
    assert_eq!(status, 201, "{body}");
    let channel: ChannelCreated = serde_json::from_str(&body).expect("channel");
    assert!(channel.ingest_url.starts_with("https://"), "{}", channel.ingest_url);

    let path = format!("/h/{}/secure", channel.channel);
    let (status, body) = https(&relay, &cert, "POST", &path, "over tls").await;
    assert_eq!(status, 200, "{body}");
    let ack: IngestAck = serde_json::from_str(&body).expect("ack");

    let url =
        format!("{}/v1/channels/{}/stream", relay.url.replacen("https", "wss", 1), channel.channel);
    let mut request = url.into_client_request().expect("valid url");
    request.headers_mut().insert("sec-websocket-protocol", SUBPROTOCOL.parse().expect("valid"));
    let auth = format!("Bearer {}", channel.token).parse().expect("valid");
    request.headers_mut().insert("authorization", auth);
    let connector = Connector::Rustls(client_config(&cert));
    let connected =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector));
    let (mut ws, _) = within(connected).await.expect("wss connected");
    expect_hello(&mut ws, &channel.channel).await;
    let event = next_event(&mut ws).await;
    assert_eq!(
        (event.id, event.path.as_str(), event.body.as_ref()),
        (ack.id, "/secure", &b"over tls"[..])
    );
    drop(ws);
    relay.stop().await;
}

#[tokio::test]
async fn a_missing_certificate_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = TestCert::new();
    let config = Config {
        data_dir: dir.path().to_owned(),
        tls: Some(TlsFiles { cert: dir.path().join("nope.pem"), key: cert.path("key.pem") }),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let err = within(hookrelay_relay::serve(listener, config, CancellationToken::new()))
        .await
        .expect_err("must refuse to start");
    assert!(format!("{err:#}").contains("nope.pem"), "{err:#}");
}
