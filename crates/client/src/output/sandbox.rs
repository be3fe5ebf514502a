//! What `hookrelay sandbox` prints on stdout: the start-up header (or the `--json` `ready`
//! record), then one line (or `delivery` record) per delivery attempt.

use std::time::Duration;

use hookrelay_sandbox::{DeliveryAttempt, SandboxConfig};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::output::stdout::write_stdout;

/// Where the printed example registers deliveries: the ingest URL of the channel `listen`
/// saved for the relay in use, or, with none saved yet, that relay's `/h/CHANNEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegisterTarget {
    /// The saved channel's ingest URL.
    Saved(String),
    /// `{relay}/h/CHANNEL`: no channel saved for this relay yet.
    Placeholder(String),
}

/// The start-up text: where, which mode, the key, and ready-to-paste requests.
pub(crate) fn header(base: &str, config: &SandboxConfig, register: &RegisterTarget) -> String {
    let key = &config.api_key;
    let types = config.catalog.triggerable(config.mode).join(", ");
    let signing = if config.signing_secret.is_some() { "Standard Webhooks" } else { "off" };
    let retries = match config.retry_schedule.as_slice() {
        [] => "none".to_owned(),
        waits => waits.iter().map(|d| short(*d)).collect::<Vec<_>>().join(", "),
    };
    let (target, note) = match register {
        RegisterTarget::Saved(url) => (url, "the channel `hookrelay listen` saved"),
        RegisterTarget::Placeholder(url) => (url, "use the ingest URL `hookrelay listen` prints"),
    };
    format!(
        "hookrelay sandbox: the provider's webhook API, emulated ({mode} mode)\n\
         \x20 listening on  {base}\n\
         \x20 API key       {key}\n\
         \x20 can test      {types}\n\
         \x20 signing       {signing}\n\
         \x20 retries after {retries}\n\
         \n\
         Register a webhook URL ({note}):\n\
         \x20 curl -s -X PUT -H 'Authorization: Bearer {key}' -d '{{\"webhook_url\": \"{target}\"}}' {base}/v1/webhook_url\n\
         Send a test event:\n\
         \x20 curl -s -X POST -H 'Authorization: Bearer {key}' -d '{{\"event_type\": \"test\"}}' {base}/v1/webhook_url/test\n\
         Delivery log: GET {base}/v1/webhook_deliveries. Routes: docs/sandbox.md. Ctrl-C stops.\n\n",
        mode = config.mode.as_str(),
    )
}

/// The `--json` first line.
#[derive(Serialize)]
pub(crate) struct ReadyRecord<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: &'a str,
    pub mode: &'static str,
    pub api_key: &'a str,
    /// Types `POST /v1/webhook_url/test` accepts in this mode.
    pub can_test: Vec<&'a str>,
    pub signing: bool,
}

/// The `--json` line of one delivery attempt: `type` and the delivery-log record.
#[derive(Serialize)]
struct AttemptRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    attempt: &'a DeliveryAttempt,
}

/// Prints attempts until the queue closes. Runs on a blocking thread: stdout may block. A
/// write error other than a closed pipe is reported once and ends the printing (the
/// delivery log, `GET /v1/webhook_deliveries`, still has every attempt).
pub(crate) fn print_attempts(
    mut rx: mpsc::Receiver<DeliveryAttempt>,
    json: bool,
    offset: time::UtcOffset,
) {
    while let Some(attempt) = rx.blocking_recv() {
        let line = if json {
            let record = AttemptRecord { kind: "delivery", attempt: &attempt };
            format!("{}\n", serde_json::to_string(&record).unwrap_or_default())
        } else {
            attempt_line(&attempt, offset)
        };
        if let Err(err) = write_stdout(line.as_bytes()) {
            tracing::warn!("{err:#}; no further deliveries are printed");
            return;
        }
    }
}

/// `18:02:11  connectivity.interrupted → http://...  200 delivered (3 ms)`.
fn attempt_line(a: &DeliveryAttempt, offset: time::UtcOffset) -> String {
    let time = OffsetDateTime::parse(&a.time, &Rfc3339)
        .ok()
        .and_then(|t| {
            let t = t.to_offset(offset);
            t.format(time::macros::format_description!("[hour]:[minute]:[second]")).ok()
        })
        .unwrap_or_else(|| a.time.clone());
    let attempt = if a.attempt > 1 { format!(" (attempt {})", a.attempt) } else { String::new() };
    let status = a.status.map_or_else(|| "---".to_owned(), |s| s.to_string());
    let outcome = match (&a.error, a.delivered) {
        (_, true) => "delivered".to_owned(),
        (error, false) => {
            let why = error.as_deref().unwrap_or("failed");
            let next = if a.will_retry { "will retry" } else { "giving up" };
            format!("failed: {why}; {next}")
        }
    };
    format!(
        "{time}  {}{attempt} → {}  {status} {outcome} ({} ms)\n",
        a.event_type, a.webhook_url, a.latency_ms
    )
}

fn short(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(
        n: u32,
        status: Option<u16>,
        error: Option<&str>,
        will_retry: bool,
    ) -> DeliveryAttempt {
        DeliveryAttempt {
            delivery_id: "msg_1".into(),
            attempt: n,
            time: "2026-11-26T17:43:50.683Z".into(),
            event_type: "test".into(),
            webhook_url: "http://127.0.0.1:3000/hooks".into(),
            status,
            latency_ms: 3,
            delivered: error.is_none(),
            error: error.map(str::to_owned),
            will_retry,
            request_headers: Vec::new(),
            request_body: "{}".into(),
        }
    }

    #[test]
    fn attempt_lines_say_what_happened_and_what_is_next() {
        let utc = time::UtcOffset::UTC;
        assert_eq!(
            attempt_line(&attempt(1, Some(200), None, false), utc),
            "17:43:50  test → http://127.0.0.1:3000/hooks  200 delivered (3 ms)\n"
        );
        assert_eq!(
            attempt_line(&attempt(2, Some(500), Some("answered 500, not 2xx"), true), utc),
            "17:43:50  test (attempt 2) → http://127.0.0.1:3000/hooks  500 failed: answered 500, not 2xx; will retry (3 ms)\n"
        );
        let refused = attempt_line(&attempt(4, None, Some("connection refused"), false), utc);
        assert!(refused.contains("--- failed: connection refused; giving up"), "{refused}");
    }

    #[test]
    fn the_header_has_a_paste_ready_registration_for_the_saved_channel() {
        let config = SandboxConfig::new("sk_sandbox_k");
        let saved = RegisterTarget::Saved("http://127.0.0.1:8787/h/ch_1".into());
        let text = header("http://127.0.0.1:8788", &config, &saved);
        assert!(text.contains("listening on  http://127.0.0.1:8788\n"), "{text}");
        assert!(text.contains(
            r#"curl -s -X PUT -H 'Authorization: Bearer sk_sandbox_k' -d '{"webhook_url": "http://127.0.0.1:8787/h/ch_1"}' http://127.0.0.1:8788/v1/webhook_url"#
        ), "{text}");
        assert!(text.contains("retries after 1s, 2s, 4s"), "{text}");
        let placeholder = RegisterTarget::Placeholder("http://127.0.0.1:28787/h/CHANNEL".into());
        let unsaved = header("http://127.0.0.1:8788", &config, &placeholder);
        assert!(
            unsaved.contains(r#""webhook_url": "http://127.0.0.1:28787/h/CHANNEL""#),
            "{unsaved}"
        );
    }
}
