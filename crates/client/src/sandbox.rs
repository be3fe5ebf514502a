//! `hookrelay sandbox`: its flags, and running the provider emulator (`crates/sandbox`,
//! DESIGN §6) until Ctrl-C while `output::sandbox` prints, on stdout, a header saying where it
//! listens, its API key and how to register a URL, then one line per delivery attempt (or
//! `--json` records).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use hookrelay_sandbox::config::DEFAULT_LISTEN;
use hookrelay_sandbox::{
    Catalog, Mode, SandboxConfig, generate_api_key, parse_duration, parse_retry_schedule,
};
use hookrelay_signature::{Scheme, Secret};
use tokio::sync::mpsc;

use crate::config::{CommandEnv, DEFAULT_PORT};
use crate::local::state::ChannelBook;
use crate::output::sandbox::{ReadyRecord, header, print_attempts};
use crate::output::stdout::write_stdout;

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
    let catalog = Catalog::load_files(&args.catalogs)?;
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
        write_stdout(
            format!("{}\n", serde_json::to_string(&ready).unwrap_or_default()).as_bytes(),
        )?;
    } else {
        write_stdout(header(&base, &config, saved_ingest_url(env).as_deref()).as_bytes())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_shown_as_loopback() {
        assert_eq!(base_url("0.0.0.0:8788".parse().expect("addr")), "http://127.0.0.1:8788");
        assert_eq!(base_url("127.0.0.1:9".parse().expect("addr")), "http://127.0.0.1:9");
    }
}
