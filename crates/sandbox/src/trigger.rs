//! The library side of `hookrelay trigger EVENT_TYPE`: build a simulated event from the
//! catalogue (or around `--data`) and POST it to an ingest URL. It bypasses the emulated
//! provider API, so every catalogue type can be sent, `never` ones included: that is how a
//! developer simulates events the provider will not send on request.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};

use crate::catalog::{Catalog, Event};
use crate::deliver::USER_AGENT;
use crate::faker::Faker;

/// Default limit for one `trigger` POST.
pub const DEFAULT_TRIGGER_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer body kept from the relay.
pub(crate) const MAX_REPLY_BODY: usize = 1024 * 1024;
/// Largest `--data @file` read.
pub(crate) const MAX_DATA_FILE: u64 = 25 * 1024 * 1024;

/// Parses `--data`: inline JSON, or `@path` to read JSON from a file.
pub fn parse_data_arg(arg: &str) -> anyhow::Result<serde_json::Value> {
    match arg.strip_prefix('@') {
        Some(path) => {
            let path = Path::new(path);
            let len = std::fs::metadata(path)
                .with_context(|| format!("could not read {}", path.display()))?
                .len();
            if len > MAX_DATA_FILE {
                bail!("{} is larger than {MAX_DATA_FILE} bytes", path.display());
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", path.display()))
        }
        None => {
            serde_json::from_str(arg).context("--data is not valid JSON (use @FILE to read a file)")
        }
    }
}

/// Builds the event to send: `data` replaces the generated data when given (then the type
/// need not be in the catalogue); otherwise the type must be known.
pub fn build_event(
    catalog: &Catalog,
    event_type: &str,
    data: Option<&serde_json::Value>,
    faker: &mut Faker,
) -> anyhow::Result<Event> {
    match data {
        Some(data) => Ok(catalog.build_with_data(event_type, data, faker)),
        None => catalog.build(event_type, faker).map_err(|_| {
            let names: Vec<&str> = catalog.types().iter().map(|t| t.name()).collect();
            anyhow::anyhow!(
                "unknown event type {event_type:?}; known types: {} (or pass --data to send any type)",
                names.join(", ")
            )
        }),
    }
}

/// The relay's answer to one trigger POST.
#[derive(Debug)]
pub struct TriggerReply {
    /// HTTP status.
    pub status: u16,
    /// Answer headers, in order.
    pub headers: Vec<(String, String)>,
    /// Answer body (at most `MAX_REPLY_BODY` bytes).
    pub body: Bytes,
    /// From sending to the end of the answer.
    pub latency: Duration,
}

/// POSTs `event` to `to` (`http://` or `https://`) with `Content-Type: application/json`, and returns the answer whatever its status.
pub async fn post_event(
    to: &str,
    event: &Event,
    timeout: Duration,
) -> anyhow::Result<TriggerReply> {
    let uri: http::Uri = to.parse().with_context(|| format!("invalid URL {to:?}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        bail!("cannot send to {to}: only http:// and https:// URLs are supported");
    }
    let client = hookrelay_http::client();
    let req = http::Request::post(uri)
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .body(Full::new(Bytes::from(event.body.clone())))
        .context("could not build the request")?;
    let clock = Instant::now();
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| {
            anyhow::anyhow!("could not POST to {to}: {}", hookrelay_http::error_chain(&e))
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = Limited::new(resp.into_body(), MAX_REPLY_BODY)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("could not read the answer from {to}: {e}"))?
            .to_bytes();
        anyhow::Ok((status, headers, body))
    };
    let (status, headers, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("no answer from {to} within {timeout:?}"))??;
    Ok(TriggerReply { status, headers, body, latency: clock.elapsed() })
}

/// The catalogue as an aligned text table for `trigger --list`: name, where it may be
/// triggered through the emulator, origin if not built-in, and description.
pub fn format_list(catalog: &Catalog) -> String {
    let width = catalog.types().iter().map(|t| t.name().len()).max().unwrap_or(0);
    let mut out = String::new();
    for t in catalog.types() {
        let origin = if t.origin() == crate::catalog::BUILTIN_ORIGIN {
            String::new()
        } else {
            format!(" [{}]", t.origin())
        };
        let _ = writeln!(
            out,
            "{:width$}  {:10}  {}{origin}",
            t.name(),
            t.trigger().as_str(),
            t.description()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn data_argument_is_inline_json_or_a_file() {
        assert_eq!(parse_data_arg(r#"{"a":1}"#).expect("json")["a"], 1);
        assert!(parse_data_arg("{nope").is_err());
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        write!(f, "[1, 2]").expect("write");
        let arg = format!("@{}", f.path().display());
        assert_eq!(parse_data_arg(&arg).expect("file"), serde_json::json!([1, 2]));
        let err = parse_data_arg("@/nonexistent/data.json").expect_err("missing");
        assert!(format!("{err:#}").contains("/nonexistent/data.json"));
    }

    #[test]
    fn events_come_from_the_catalogue_or_around_given_data() {
        let c = Catalog::builtin();
        let mut f = Faker::new();
        let e = build_event(&c, "borrower.delinquent", None, &mut f)
            .expect("never types can be triggered locally");
        assert!(e.to_value()["data"]["borrower"].is_object());
        let err = build_event(&c, "nope", None, &mut f).expect_err("unknown");
        assert!(err.to_string().contains("connectivity.interrupted"));
        let custom =
            build_event(&c, "enrollment.updated", Some(&serde_json::json!({"id": 1})), &mut f)
                .expect("data");
        assert_eq!(custom.body, br#"{"event_type":"enrollment.updated","data":{"id":1}}"#);
    }

    #[test]
    fn list_shows_every_type_with_its_trigger() {
        let list = format_list(&Catalog::builtin());
        assert_eq!(list.lines().count(), 4);
        assert!(list.lines().any(|l| l.starts_with("borrower.delinquent") && l.contains("never")));
    }
}
