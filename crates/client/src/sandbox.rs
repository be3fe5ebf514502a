//! `hookrelay sandbox`: runs the provider emulator (`crates/sandbox`, DESIGN §6) until
//! Ctrl-C, with a header saying where it listens, its API key and how to register a URL,
//! then one line per delivery attempt (or `--json` records) on stdout.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use hookrelay_sandbox::config::DEFAULT_LISTEN;
use hookrelay_sandbox::{
    DeliveryAttempt, Mode, SandboxConfig, generate_api_key, parse_duration, parse_retry_schedule,
};
use hookrelay_signature::{Scheme, Secret};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::config::{CommandEnv, DEFAULT_PORT};
use crate::state::ChannelBook;

/// Delivery attempts waiting to be printed. When the terminal (or a pipe) is this far
/// behind, further lines are dropped; `GET /v1/webhook_deliveries` still lists them.
pub const PRINT_QUEUE: usize = 256;
/// How long to wait, after the server stopped, for the last lines to be printed.
const PRINT_DRAIN: Duration = Duration::from_secs(1);

/// Flags of `hookrelay sandbox` (docs/sandbox.md).
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address the emulated API listens on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// sandbox: any triggerable event type can be tested; production: only `test`, as the
    /// provider's production environment does.
    #[arg(long, value_name = "MODE", default_value = "sandbox", value_parser = parse_mode)]
    pub mode: Mode,

    /// The key every request must send as `Authorization: Bearer KEY` (default: a new one,
    /// printed at start).
    #[arg(long, value_name = "KEY", value_parser = parse_api_key)]
    pub api_key: Option<String>,

    /// A catalogue file (JSON or TOML) whose event types are added to the built-in ones or
    /// replace them. Repeatable; later files win.
    #[arg(long = "catalog", value_name = "FILE")]
    pub catalogs: Vec<PathBuf>,

    /// Sign deliveries with Standard Webhooks headers (webhook-id, webhook-timestamp,
    /// webhook-signature) using this secret. Off by default: the provider documents none.
    #[arg(long, value_name = "whsec_...", value_parser = parse_secret)]
    pub signing_secret: Option<Secret>,

    /// Waits before each retry of a failed delivery, e.g. 1s,2s,4s or 250ms,1m; `none` for
    /// no retries.
    #[arg(long, value_name = "LIST", default_value = "1s,2s,4s", value_parser = parse_schedule)]
    pub retry_schedule: RetrySchedule,

    /// How long one delivery attempt may take (e.g. 500ms, 10s, 1m).
    #[arg(long, value_name = "D", default_value = "10s", value_parser = parse_duration)]
    pub delivery_timeout: Duration,

    /// Print one JSON object per line on stdout: a `ready` record, then one per delivery
    /// attempt.
    #[arg(long)]
    pub json: bool,
}

/// `--retry-schedule`, parsed (a newtype so clap takes it as one value, not a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

fn parse_schedule(text: &str) -> Result<RetrySchedule, String> {
    parse_retry_schedule(text).map(RetrySchedule)
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
}

fn parse_api_key(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the key must be non-empty, without spaces".to_owned());
    }
    Ok(text.to_owned())
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Secret::parse(Scheme::Standard, text).map_err(|err| err.to_string())
}

/// Runs the emulator until `env.cancel` (Ctrl-C, SIGTERM).
pub async fn run(args: SandboxArgs, env: &CommandEnv) -> anyhow::Result<()> {
    let catalog = crate::trigger::load_catalog(&args.catalogs)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| {
        format!("could not listen on {} (pick another with --listen)", args.listen)
    })?;
    let addr = listener.local_addr().context("could not read the listening address")?;
    let (tx, rx) = mpsc::channel(PRINT_QUEUE);
    let config = SandboxConfig {
        mode: args.mode,
        api_key: args.api_key.unwrap_or_else(|| generate_api_key(args.mode)),
        catalog,
        retry_schedule: args.retry_schedule.0,
        delivery_timeout: args.delivery_timeout,
        signing_secret: args.signing_secret,
        observer: Some(tx),
    };
    let base = base_url(addr);
    if args.json {
        let ready = ReadyRecord {
            kind: "ready",
            url: &base,
            mode: config.mode.as_str(),
            api_key: &config.api_key,
            can_test: config.catalog.triggerable(config.mode),
            signing: config.signing_secret.is_some(),
        };
        print(&format!("{}\n", serde_json::to_string(&ready).unwrap_or_default()));
    } else {
        print(&header(&base, &config, saved_ingest_url(env).as_deref()));
    }
    let json = args.json;
    let offset = env.offset;
    let printer = tokio::task::spawn_blocking(move || print_attempts(rx, json, offset));
    let served = hookrelay_sandbox::serve(listener, config, env.cancel.clone()).await;
    // The server and its retry tasks are gone, so the queue closes and the printer ends.
    if tokio::time::timeout(PRINT_DRAIN, printer).await.is_err() {
        tracing::debug!("the delivery log printer did not finish in time");
    }
    served
}

/// `http://ADDR`, with a wildcard address shown as loopback so the examples work as pasted.
fn base_url(addr: SocketAddr) -> String {
    let mut shown = addr;
    if addr.ip().is_unspecified() {
        shown.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{shown}")
}

/// The ingest URL of the channel `hookrelay listen` saved for the default embedded relay,
/// so the printed example registers exactly that.
fn saved_ingest_url(env: &CommandEnv) -> Option<String> {
    let relay = url::Url::parse(&format!("http://127.0.0.1:{DEFAULT_PORT}")).ok()?;
    ChannelBook::new(&env.dirs).get(&relay).ok().flatten().map(|saved| saved.ingest_url)
}

/// The start-up text: where, which mode, the key, and ready-to-paste requests.
fn header(base: &str, config: &SandboxConfig, ingest_url: Option<&str>) -> String {
    let key = &config.api_key;
    let types = config.catalog.triggerable(config.mode).join(", ");
    let signing = if config.signing_secret.is_some() { "Standard Webhooks" } else { "off" };
    let retries = match config.retry_schedule.as_slice() {
        [] => "none".to_owned(),
        waits => waits.iter().map(|d| short(*d)).collect::<Vec<_>>().join(", "),
    };
    let (target, note) = match ingest_url {
        Some(url) => (url.to_owned(), "the channel `hookrelay listen` saved"),
        None => (
            format!("http://127.0.0.1:{DEFAULT_PORT}/h/CHANNEL"),
            "use the ingest URL `hookrelay listen` prints",
        ),
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
struct ReadyRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
    mode: &'static str,
    api_key: &'a str,
    /// Types `POST /v1/webhook_url/test` accepts in this mode.
    can_test: Vec<&'a str>,
    signing: bool,
}

/// The `--json` line of one delivery attempt: `type` and the delivery-log record.
#[derive(Serialize)]
struct AttemptRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    attempt: &'a DeliveryAttempt,
}

/// Prints attempts until the queue closes. Runs on a blocking thread: stdout may block.
fn print_attempts(mut rx: mpsc::Receiver<DeliveryAttempt>, json: bool, offset: time::UtcOffset) {
    while let Some(attempt) = rx.blocking_recv() {
        let line = if json {
            let record = AttemptRecord { kind: "delivery", attempt: &attempt };
            format!("{}\n", serde_json::to_string(&record).unwrap_or_default())
        } else {
            attempt_line(&attempt, offset)
        };
        print(&line);
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

/// Writes to stdout; a closed pipe is not an error worth reporting.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
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
        let text = header("http://127.0.0.1:8788", &config, Some("http://127.0.0.1:8787/h/ch_1"));
        assert!(text.contains("listening on  http://127.0.0.1:8788\n"), "{text}");
        assert!(text.contains(
            r#"curl -s -X PUT -H 'Authorization: Bearer sk_sandbox_k' -d '{"webhook_url": "http://127.0.0.1:8787/h/ch_1"}' http://127.0.0.1:8788/v1/webhook_url"#
        ), "{text}");
        assert!(text.contains("retries after 1s, 2s, 4s"), "{text}");
        let unsaved = header("http://127.0.0.1:8788", &config, None);
        assert!(unsaved.contains("/h/CHANNEL"), "{unsaved}");
    }

    #[test]
    fn wildcard_listen_addresses_are_shown_as_loopback() {
        assert_eq!(base_url("0.0.0.0:8788".parse().expect("addr")), "http://127.0.0.1:8788");
        assert_eq!(base_url("127.0.0.1:9".parse().expect("addr")), "http://127.0.0.1:9");
    }
}
