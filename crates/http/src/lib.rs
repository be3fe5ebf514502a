//! The one HTTP client (hyper, http/1, rustls with ring for https) of the workspace: the
//! CLI forwards events and calls the relay's API with it, the provider emulator delivers
//! webhooks with it. hyper adds no headers of its own beyond `Host` and `Content-Length`,
//! which keeps forwarding byte-exact.

use std::sync::Once;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

mod probe;

pub use probe::{Broken, PROBE_TIMEOUT, Reach, probe, probe_after_failure};

/// Longest wait for a TCP connection to the local app or the relay.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A pooled client for `http://` and `https://` URLs.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Installs ring as rustls' process-wide crypto provider (once; later calls do nothing).
/// The workspace builds rustls without a default provider, so this must run before any TLS.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds the client. Server certificates are checked against the webpki roots.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT).build(connector())
}

/// The client's connector: TCP with [`CONNECT_TIMEOUT`], then TLS for `https://`.
fn connector() -> HttpsConnector<HttpConnector> {
    install_crypto_provider();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// An error and every cause under it, joined by `: ` (hyper's own `Display` omits causes).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The innermost cause in lowercase without the `(os error N)` suffix: "connection refused"
/// reads better in a one-line status than hyper's "client error (Connect): tcp connect...".
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = err;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    let text = deepest.to_string().to_lowercase();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}
