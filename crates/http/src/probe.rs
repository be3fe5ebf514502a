//! Whether a URL can ever answer, checked once before a command relies on it: resolve the
//! host, open a TCP connection and, for `https://`, finish a TLS handshake, with the same
//! connector the client uses, without sending a request. Connection refused is a wait (the
//! app or relay is restarting); a name that does not resolve, TLS spoken to a plain-HTTP
//! port or a certificate nobody trusts never gets better by retrying.

use std::time::Duration;

use tower_service::Service as _;

/// Longest a probe takes; past it the target counts as down (a wait), not as broken.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A connection (and TLS session, for https) was made.
    Ok,
    /// Nothing answers now (refused, reset, no answer in time): worth waiting for.
    Down(String),
    /// It can never answer as written.
    Never(Broken),
}

/// Why a URL can never answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The host name does not resolve.
    UnknownHost(String),
    /// `https://` to a port that answers plain HTTP.
    PlainHttp,
    /// `http://` to a port that speaks TLS.
    SpeaksTls,
    /// The TLS handshake failed for good (an untrusted or mismatched certificate...).
    Tls(String),
}

impl Broken {
    /// What went wrong with `url` and how to fix it, naming `flag` (`-f`, `--relay`...) the
    /// way the user would type the fix: "answers plain HTTP, not TLS: use -f http://...".
    pub fn advice(&self, url: &url::Url, flag: &str) -> String {
        match self {
            Broken::PlainHttp => {
                let mut plain = url.clone();
                // Cannot fail: https and http are both special schemes.
                let _ = plain.set_scheme("http");
                format!(
                    "{url} answers plain HTTP, not TLS: use {flag} {plain} (http://, not https://)"
                )
            }
            Broken::SpeaksTls => {
                let mut tls = url.clone();
                // Cannot fail: https and http are both special schemes.
                let _ = tls.set_scheme("https");
                format!("{url} speaks TLS: use {flag} {tls} (https://, not http://)")
            }
            Broken::UnknownHost(host) => format!(
                "the host '{host}' of {url} does not resolve: check the spelling of {flag} \
                 (for this machine, use localhost or 127.0.0.1)"
            ),
            Broken::Tls(reason) => format!(
                "TLS to {url} fails ({reason}): fix the server's certificate, or use {flag} with \
                 http:// if it serves plain HTTP"
            ),
        }
    }
}

/// Connects to `url`'s host and port (and completes TLS for `https://`) without sending
/// anything, and says whether retrying can ever help.
pub async fn probe(url: &url::Url) -> Reach {
    crate::install_crypto_provider();
    let Ok(uri) = url.as_str().parse::<http::Uri>() else {
        return Reach::Never(Broken::Tls(format!("{url} is not a valid request URI")));
    };
    let mut connector = crate::connector();
    let connect = async {
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
        connector.call(uri).await.map(drop)
    };
    match tokio::time::timeout(PROBE_TIMEOUT, connect).await {
        Ok(Ok(())) => Reach::Ok,
        Ok(Err(err)) => classify(&*err, url),
        Err(_) => Reach::Down(format!("no connection within {PROBE_TIMEOUT:?}")),
    }
}

/// [`probe`], for a URL whose requests just failed: an `http://` URL that connects may be
/// a TLS port (its answers are then unreadable as HTTP), so its `https://` twin is tried
/// too. Only after a failure: the extra handshake would cost every healthy start.
pub async fn probe_after_failure(url: &url::Url) -> Reach {
    let reach = probe(url).await;
    if url.scheme() != "http" || !matches!(reach, Reach::Ok) {
        return reach;
    }
    let mut tls = url.clone();
    let _ = tls.set_scheme("https");
    match probe(&tls).await {
        // A handshake that completes, or fails only over the certificate, is TLS.
        Reach::Ok | Reach::Never(Broken::Tls(_)) => Reach::Never(Broken::SpeaksTls),
        Reach::Down(_) | Reach::Never(_) => reach,
    }
}

fn classify(err: &(dyn std::error::Error + 'static), url: &url::Url) -> Reach {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(tls) = tls_error(err) {
            return Reach::Never(match tls {
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
                    Broken::PlainHttp
                }
                other => Broken::Tls(other.to_string()),
            });
        }
        // hyper-util's connector reports a failed lookup as "dns error" over the resolver's
        // io::Error; no other failure carries that text.
        if err.to_string() == "dns error" {
            let host = url.host_str().unwrap_or_default().to_owned();
            return Reach::Never(Broken::UnknownHost(host));
        }
        cause = err.source();
    }
    Reach::Down(crate::root_cause(err))
}

/// The rustls error wrapped in `io::Error`s, where tokio-rustls and hyper-rustls put
/// handshake failures (`io::Error::source` skips the wrapped error, so unwrap by hand).
fn tls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut err = err;
    loop {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        err = err.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A host name whose 64-character label no resolver accepts: the lookup fails on this
    /// machine without a packet sent anywhere.
    pub(crate) fn unresolvable_host() -> String {
        format!("{}.invalid", "a".repeat(64))
    }

    /// A plain-HTTP server that answers anything with 400, as a web framework does when a
    /// TLS ClientHello arrives.
    async fn plain_http_port() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0; 512];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        port
    }

    fn url(text: &str) -> url::Url {
        text.parse().expect("url")
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_wait() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let reach = probe(&url(&format!("http://127.0.0.1:{port}/"))).await;
        assert!(matches!(&reach, Reach::Down(reason) if reason.contains("refused")), "{reach:?}");
    }

    #[tokio::test]
    async fn tls_to_a_plain_http_port_never_works() {
        let port = plain_http_port().await;
        assert_eq!(probe(&url(&format!("http://127.0.0.1:{port}/x"))).await, Reach::Ok);
        let target = url(&format!("https://127.0.0.1:{port}/x"));
        assert_eq!(probe(&target).await, Reach::Never(Broken::PlainHttp));
        let advice = Broken::PlainHttp.advice(&target, "-f");
        assert!(advice.contains(&format!("use -f http://127.0.0.1:{port}/x")), "{advice}");
    }

    /// A TLS server with a self-signed certificate that accepts handshakes and then waits.
    async fn tls_port() -> u16 {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
        let key = rustls::pki_types::PrivateKeyDer::try_from(made.signing_key.serialize_der())
            .expect("key");
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .expect("pair");
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(socket).await {
                        let mut buf = [0; 512];
                        let _ = tls.read(&mut buf).await;
                    }
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn plain_http_to_a_tls_port_is_found_after_a_failure() {
        let port = tls_port().await;
        let plain = url(&format!("http://127.0.0.1:{port}/"));
        assert_eq!(probe(&plain).await, Reach::Ok, "a TCP connection is all a probe sees");
        assert_eq!(probe_after_failure(&plain).await, Reach::Never(Broken::SpeaksTls));
        let advice = Broken::SpeaksTls.advice(&plain, "--relay");
        assert!(advice.contains(&format!("use --relay https://127.0.0.1:{port}/")), "{advice}");
        let untrusted = probe(&url(&format!("https://127.0.0.1:{port}/"))).await;
        assert!(matches!(untrusted, Reach::Never(Broken::Tls(_))), "{untrusted:?}");

        let http = plain_http_port().await;
        let plain = url(&format!("http://127.0.0.1:{http}/"));
        assert_eq!(probe_after_failure(&plain).await, Reach::Ok);
    }

    #[tokio::test]
    async fn a_host_that_does_not_resolve_never_works() {
        let host = unresolvable_host();
        let reach = probe(&url(&format!("http://{host}:3000/"))).await;
        assert_eq!(reach, Reach::Never(Broken::UnknownHost(host.clone())));
        let advice = Broken::UnknownHost(host.clone()).advice(&url("http://x/"), "--relay");
        assert!(advice.contains(&host) && advice.contains("--relay"), "{advice}");
    }
}
