//! `hookrelay show ID`: one event in full (request line, headers with secrets masked, the
//! body pretty-printed, every delivery attempt), or only its raw body (`--body`), a `curl`
//! command that reproduces it (`--curl`), or its JSON (`--json`).

use std::process::ExitCode;

use hookrelay_proto::EventDetail;
use url::Url;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::deliver::outgoing::{HeaderOverride, forward_headers, target_url};
use crate::output::event_view;
use crate::output::mask::{display_value, is_secret};
use crate::output::stdout::{stdout_color, write_stdout};
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::connect;
use crate::relay::history::fetch_event;

/// What `hookrelay show` shows, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// The event id, or a unique prefix of it.
    pub id: String,

    /// Which relay and channel (as for `listen`).
    pub relay: RelaySelection,

    /// Print the event as one JSON object (headers as [name, value] pairs, body in base64,
    /// every delivery). Secret headers are masked unless --reveal.
    pub json: bool,

    /// Write only the raw body bytes to stdout, exactly as received (pipe into jq or a file).
    pub body: bool,

    /// Print a curl command that sends this request byte-exact to --forward-to (default:
    /// where `listen` last forwarded this channel), as `listen` would forward it. It carries
    /// every header as received, secrets included: that is what reproducing it takes.
    pub curl: bool,

    /// Show secret headers (Authorization, signatures, cookies, tokens) instead of masking them.
    pub reveal: bool,

    /// The local app's URL that --curl targets (the event's path is appended, as in `listen`).
    /// Default: where `hookrelay listen` last forwarded this channel.
    pub forward_to: Option<Url>,

    /// With --curl: set a header, replacing any of the same name (as `listen -H`).
    pub headers: Vec<HeaderOverride>,
}

/// Runs the command.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let conn = connect(&config.relay, &env.dirs, IfNoChannel::Fail, env.cancel.clone()).await?;
    let fetched = fetch_event(&conn, &config.id).await;
    let target = match config.curl {
        true => conn.forward_target(config.forward_to.as_ref(), &env.dirs).map(Some),
        false => Ok(None),
    };
    conn.close().await?;
    let detail = fetched?;
    let target = target?;
    if config.body {
        write_stdout(&detail.event.body)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = if let Some(target) = &target {
        let secrets: Vec<&str> = detail
            .event
            .headers
            .iter()
            .filter(|(name, _)| is_secret(name))
            .map(|(name, _)| name.as_str())
            .collect();
        if !secrets.is_empty() {
            eprintln!("note: this command includes secret headers ({})", secrets.join(", "));
        }
        format!("{}\n", curl_command(&detail, target, &config.headers))
    } else if config.json {
        format!("{}\n", json(&detail, config.reveal))
    } else {
        event_view::render(&detail, env.offset, config.reveal, stdout_color())
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The curl command for `detail` toward `target`: the same URL and headers `listen` sends,
/// minus `Host` (curl derives it from the URL) and `Content-Length` when there is a body
/// (curl computes it; an explicit `content-length: 0` on an empty body is kept).
pub(crate) fn curl_command(
    detail: &EventDetail,
    target: &Url,
    overrides: &[HeaderOverride],
) -> String {
    let event = &detail.event;
    let url = target_url(target, &event.path, event.query.as_deref());
    let headers: Vec<(String, String)> = forward_headers(event, target, overrides)
        .into_iter()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            name != "host" && (name != "content-length" || event.body.is_empty())
        })
        .collect();
    crate::output::curl::command(&event.method, &url, &headers, &event.body)
}

/// The `--json` record: the relay's event detail, secret header values masked unless `reveal`.
pub(crate) fn json(detail: &EventDetail, reveal: bool) -> serde_json::Value {
    let mut detail = detail.clone();
    for (name, value) in &mut detail.event.headers {
        *value = display_value(name, value, reveal).into_owned();
    }
    serde_json::to_value(&detail).expect("event details serialize")
}

#[cfg(test)]
mod tests {
    use hookrelay_proto::{DeliveryState, Event};

    use super::*;

    fn detail(body: &'static [u8], headers: &[(&str, &str)]) -> EventDetail {
        EventDetail {
            event: Event {
                id: "evt_abc".into(),
                query: Some("a=1".into()),
                ..crate::test_support::event("/hook", headers, body)
            },
            state: DeliveryState::Pending,
            deliveries: Vec::new(),
        }
    }

    #[test]
    fn curl_sends_what_listen_sends_minus_host_and_computed_length() {
        let target: Url = "http://localhost:3000/in".parse().expect("url");
        let headers = [("host", "relay"), ("content-length", "2"), ("x-a", "1")];
        let cmd = curl_command(&detail(b"{}", &headers), &target, &[]);
        assert_eq!(
            cmd,
            "curl --http1.1 --path-as-is --globoff -X 'POST' 'http://localhost:3000/in/hook?a=1' \
             -H 'x-a: 1' -H 'hookrelay-event-id: evt_abc' -H 'accept:' -H 'user-agent:' \
             -H 'content-type:' -H 'expect:' --data-raw '{}'"
        );
        let empty = curl_command(&detail(b"", &[("content-length", "0")]), &target, &[]);
        assert!(empty.contains("-H 'content-length: 0'"), "{empty}");
    }

    #[test]
    fn json_masks_secret_headers_unless_revealed() {
        let detail = detail(b"", &[("authorization", "Bearer s3cr3t"), ("x-a", "1")]);
        let masked = json(&detail, false).to_string();
        assert!(!masked.contains("s3cr3t") && masked.contains("\"x-a\",\"1\""), "{masked}");
        assert!(json(&detail, true).to_string().contains("Bearer s3cr3t"));
    }
}
