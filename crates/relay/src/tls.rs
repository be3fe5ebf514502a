//! TLS termination for `--tls-cert`/`--tls-key`: loads a PEM certificate chain and private
//! key into a rustls acceptor (ring provider, TLS 1.2 and 1.3, HTTP/1.1 over ALPN).

use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// Builds the acceptor, with errors that name the file at fault.
pub(crate) fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let cert_path = files.cert.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("could not read TLS certificate {cert_path}"))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("could not parse TLS certificate {cert_path}"))?;
    anyhow::ensure!(!certs.is_empty(), "no PEM certificate in {cert_path}");
    let key = PrivateKeyDer::from_pem_file(&files.key).with_context(|| {
        format!("could not read a PEM private key from {}", files.key.display())
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no usable TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
