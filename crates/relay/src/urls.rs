//! The relay's two URLs, worked out in one place for `hookrelayd` and `serve`: its own on the
//! listening socket (`http://ADDRESS`, `https://` with TLS), and the base of the ingest URLs
//! it hands out (`--public-url`, else its own).

use std::net::SocketAddr;

use anyhow::Context as _;
use url::Url;

use crate::config::Config;

/// The relay's own URL on `address`: `http://ADDRESS`, or `https://ADDRESS` when it serves TLS.
pub fn local_url(address: SocketAddr, tls: bool) -> anyhow::Result<Url> {
    let scheme = if tls { "https" } else { "http" };
    Url::parse(&format!("{scheme}://{address}")).context("the listen address is not a URL")
}

/// The base of the ingest URLs handed out: `config.public_url`, else [`local_url`].
pub fn base_url(config: &Config, address: SocketAddr) -> anyhow::Result<Url> {
    match &config.public_url {
        Some(url) => Ok(url.clone()),
        None => local_url(address, config.tls.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::TlsFiles;

    #[test]
    fn the_public_url_wins_else_the_listening_socket_with_its_scheme() {
        let address: SocketAddr = "127.0.0.1:8787".parse().expect("address");
        let mut config = Config::default();
        assert_eq!(base_url(&config, address).expect("url").as_str(), "http://127.0.0.1:8787/");
        config.tls = Some(TlsFiles { cert: PathBuf::from("c"), key: PathBuf::from("k") });
        assert_eq!(base_url(&config, address).expect("url").as_str(), "https://127.0.0.1:8787/");
        config.public_url = Some("https://relay.example/x/".parse().expect("url"));
        assert_eq!(base_url(&config, address).expect("url").as_str(), "https://relay.example/x/");
    }
}
