//! Plain values that several groups share, a leaf: which relay and channel a command uses
//! ([`RelaySelection`]), the embedded relay's default port, URLs as people type them
//! ([`parse_app_url`], [`parse_relay_url`]), and [`UsageError`], the mistake in a command
//! line that `main` reports with exit code 2.

use url::Url;

/// The port of the embedded relay when `--port` is not given.
pub(crate) const DEFAULT_PORT: u16 = 8787;

/// Which relay to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayChoice {
    /// A relay somewhere else (`--relay`).
    Remote(Url),
    /// Start one in this process on `127.0.0.1:port`, or use a hookrelay relay already there.
    Embedded {
        /// The port.
        port: u16,
    },
}

/// A channel given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCreds {
    /// Channel id.
    pub channel: String,
    /// Its token.
    pub token: String,
}

/// The relay and channel a command uses (`--relay`/`--port`, `--channel`/`--token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySelection {
    /// The relay; `None` when neither `--relay` nor `--port` (nor their variables) is given:
    /// then `listen` uses the embedded relay on [`DEFAULT_PORT`] and the other commands the
    /// relay `listen` last ran with, so `listen --port 28787` is found by `events`.
    pub relay: Option<RelayChoice>,
    /// `--admin-token`: sent when a channel is created (`listen`, `trigger`), for a relay
    /// that guards creation.
    pub admin_token: Option<String>,
    /// The channel; `None`: the one saved for this relay (or a new one, where the command
    /// creates one).
    pub channel: Option<ChannelCreds>,
}

/// A mistake in the command line that clap cannot see (a routes file with an error, a
/// `--verify` without a secret...): `main` reports it like clap does, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The local app's URL as people type it (`-f`, `trigger --to`, a route's `to`): a full
/// `http(s)://` URL, `host:port/path` (http assumed, as Stripe CLI does) or a bare port
/// (`3000` is `http://localhost:3000/`).
pub(crate) fn parse_app_url(text: &str) -> Result<Url, String> {
    const EXAMPLES: &str = "http://localhost:3000/webhooks, localhost:3000/webhooks or 3000";
    if let Some(port) = bare_port(text) {
        let port = port.map_err(|()| format!("'{text}' is not a port (1-65535)"))?;
        return Ok(format!("http://localhost:{port}/").parse().expect("valid URL"));
    }
    lenient_url(text, EXAMPLES)
}

/// A relay's URL as people type it (`--relay`): a full `http(s)://` URL or `host:port`
/// (http assumed). A bare port is refused with the flag that means it: `--port`.
pub(crate) fn parse_relay_url(text: &str) -> Result<Url, String> {
    if let Some(port) = bare_port(text) {
        let port = port.map_err(|()| format!("'{text}' is not a port (1-65535)"))?;
        return Err(format!(
            "'{text}' is a port, not a relay URL: use --port {port} for the embedded relay \
             on this machine, or --relay http://127.0.0.1:{port}"
        ));
    }
    lenient_url(text, "https://relay.example.com or 127.0.0.1:8787")
}

/// `Some` when `text` is only digits (or `:` and digits): a port, valid or not.
fn bare_port(text: &str) -> Option<Result<u16, ()>> {
    let digits = text.trim().strip_prefix(':').unwrap_or(text.trim());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u16>().ok().filter(|port| *port != 0).ok_or(()))
}

/// An absolute `http(s)://` URL with a host; without a scheme, `http://` is assumed.
fn lenient_url(text: &str, examples: &str) -> Result<Url, String> {
    let trimmed = text.trim();
    let full = if trimmed.contains("://") || trimmed.is_empty() || trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let url = Url::parse(&full)
        .map_err(|err| format!("'{text}' is not a URL ({err}); expected e.g. {examples}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "'{text}' must be an http:// or https:// URL with a host, e.g. {examples}"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_urls_are_taken_as_people_type_them() {
        let cases = [
            ("http://localhost:3000/webhooks", "http://localhost:3000/webhooks"),
            ("https://app.test", "https://app.test/"),
            ("localhost:3000/webhooks", "http://localhost:3000/webhooks"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("3000", "http://localhost:3000/"),
            (":4242", "http://localhost:4242/"),
            (" 3000 ", "http://localhost:3000/"),
        ];
        for (typed, meant) in cases {
            assert_eq!(parse_app_url(typed).map(String::from), Ok(meant.to_owned()), "{typed}");
        }
        for bad in ["", "/webhooks", "ftp://host/x", "not a url", "70000", "0", "localhost:99999"] {
            let err = parse_app_url(bad).expect_err(bad);
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
        assert!(parse_app_url("/x").expect_err("path").contains("localhost:3000/webhooks"));
    }

    #[test]
    fn relay_urls_take_host_and_port_but_send_a_bare_port_to_port() {
        let relay = parse_relay_url("127.0.0.1:8790").map(String::from);
        assert_eq!(relay, Ok("http://127.0.0.1:8790/".to_owned()));
        let relay = parse_relay_url("https://relay.example.com").map(String::from);
        assert_eq!(relay, Ok("https://relay.example.com/".to_owned()));
        let err = parse_relay_url("8790").expect_err("a port");
        assert!(
            err.contains("--port 8790") && err.contains("--relay http://127.0.0.1:8790"),
            "{err}"
        );
        let err = parse_relay_url("ftp://relay").expect_err("not http");
        assert!(err.contains("relay.example.com") && !err.contains("webhooks"), "{err}");
    }
}
