//! `hookrelay trigger EVENT_TYPE`: build simulated provider events from the sandbox's
//! catalogue and POST them, one after another, to the current channel's ingest URL (or
//! `--to URL`), printing each answer. `--list` shows the catalogue.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use hookrelay_sandbox::trigger::{
    DEFAULT_TRIGGER_TIMEOUT, TriggerReply, build_event, format_list, parse_data_arg, post_event,
};
use hookrelay_sandbox::{Catalog, Event, Faker};
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::cli::{RelayArgs, parse_http_url};
use crate::config::CommandEnv;
use crate::output::stdout::write_stdout;
use crate::relay::connect::{IfNoChannel, connect};

/// Most events one `--count` may send.
pub const MAX_COUNT: u32 = 1000;
/// Longest answer text shown per event in the human output (the `--json` output has it all).
const ANSWER_PREVIEW: usize = 200;

/// Flags of `hookrelay trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The event type to send, e.g. test or connectivity.interrupted (see --list).
    #[arg(value_name = "EVENT_TYPE", required_unless_present = "list")]
    pub event_type: Option<String>,

    /// POST straight to this URL instead of the channel's ingest URL (no relay involved).
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub to: Option<Url>,

    /// Use this JSON as the event's data instead of generated fake data; @FILE reads it from
    /// a file. Any event type name is accepted then.
    #[arg(long, value_name = "JSON|@FILE", value_parser = parse_data_flag)]
    pub data: Option<DataArg>,

    /// Send N events (each with fresh fake data), one after another.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_COUNT)))]
    pub count: u32,

    /// A catalogue file (JSON or TOML) whose event types are added to the built-in ones or
    /// replace them (docs/sandbox.md). Repeatable; later files win.
    #[arg(long = "catalog", value_name = "FILE")]
    pub catalogs: Vec<PathBuf>,

    /// List the catalogue's event types and exit.
    #[arg(long, conflicts_with_all = ["event_type", "to", "data", "count"])]
    pub list: bool,

    /// Print one JSON object per line on stdout, one per event sent.
    #[arg(long)]
    pub json: bool,

    /// Which relay and channel (ignored with --to).
    #[command(flatten)]
    pub relay: RelayArgs,
}

/// `--data`: JSON given inline (checked while parsing flags) or a file read when the
/// command runs, like `--catalog`.
#[derive(Debug, Clone)]
pub enum DataArg {
    /// Inline JSON.
    Inline(Value),
    /// `@path`, kept as typed.
    File(String),
}

fn parse_data_flag(text: &str) -> Result<DataArg, String> {
    if text.starts_with('@') {
        return Ok(DataArg::File(text.to_owned()));
    }
    serde_json::from_str(text)
        .map(DataArg::Inline)
        .map_err(|err| format!("not valid JSON ({err}); use @FILE to read a file"))
}

/// Runs the command.
pub async fn run(args: TriggerArgs, env: &CommandEnv) -> anyhow::Result<()> {
    let catalog = Catalog::load_files(&args.catalogs)?;
    if args.list {
        write_stdout(format_list(&catalog).as_bytes())?;
        return Ok(());
    }
    let event_type = args.event_type.as_deref().expect("clap requires EVENT_TYPE without --list");
    let data = match &args.data {
        None => None,
        Some(DataArg::Inline(value)) => Some(value.clone()),
        Some(DataArg::File(arg)) => Some(parse_data_arg(arg)?),
    };
    // Build every event first, so an unknown type fails before anything is sent.
    let mut faker = Faker::new();
    let events = (0..args.count)
        .map(|_| build_event(&catalog, event_type, data.as_ref(), &mut faker))
        .collect::<anyhow::Result<Vec<Event>>>()?;

    if let Some(to) = &args.to {
        return send_all(to.as_str(), &events, args.json, env).await;
    }
    let conn = connect(&args.relay, &env.dirs, IfNoChannel::Create, env.cancel.clone()).await?;
    tracing::info!(channel = %conn.channel.channel, "sending to {}", conn.channel.ingest_url);
    let sent = send_all(&conn.channel.ingest_url, &events, args.json, env).await;
    let closed = conn.close().await;
    sent.and(closed)
}

/// POSTs the events in order; a non-2xx answer is reported and the rest still go, a
/// failed connection stops the run.
async fn send_all(to: &str, events: &[Event], json: bool, env: &CommandEnv) -> anyhow::Result<()> {
    let mut refused = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let reply = tokio::select! {
            reply = post_event(to, event, DEFAULT_TRIGGER_TIMEOUT) => reply,
            () = env.cancel.cancelled() => {
                anyhow::bail!("interrupted after sending {i} of {} events", events.len())
            }
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) if i == 0 => return Err(err),
            Err(err) => return Err(err.context(format!("sent {i} of {} events", events.len()))),
        };
        write_stdout(render(to, event, &reply, json).as_bytes())?;
        if !(200..300).contains(&reply.status) {
            refused.push(format!("#{} answered {}", i + 1, reply.status));
        }
    }
    if !refused.is_empty() {
        anyhow::bail!(
            "{} of {} events were not accepted by {to}: {}",
            refused.len(),
            events.len(),
            refused.join(", ")
        );
    }
    Ok(())
}

/// The `--json` line of one sent event.
#[derive(Serialize)]
struct SentRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event_type: &'a str,
    to: &'a str,
    status: u16,
    latency_ms: u64,
    /// The answer body: its JSON when it is JSON, else its text.
    answer: Value,
    /// Exactly the bytes sent.
    request_body: Cow<'a, str>,
}

/// One output line (with its newline) for a sent event.
fn render(to: &str, event: &Event, reply: &TriggerReply, json: bool) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    if json {
        let record = SentRecord {
            kind: "sent",
            event_type: &event.event_type,
            to,
            status: reply.status,
            latency_ms: millis(reply.latency),
            answer: serde_json::from_slice(&reply.body)
                .unwrap_or_else(|_| Value::String(text.clone().into_owned())),
            request_body: String::from_utf8_lossy(&event.body),
        };
        return format!("{}\n", serde_json::to_string(&record).unwrap_or_default());
    }
    format!("sent {} → {} {}\n", event.event_type, reply.status, preview(&text))
}

/// The answer on one line, cut at [`ANSWER_PREVIEW`] characters.
fn preview(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(ANSWER_PREVIEW) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_flag_checks_inline_json_and_defers_files() {
        assert!(matches!(parse_data_flag(r#"{"x":1}"#), Ok(DataArg::Inline(v)) if v["x"] == 1));
        assert!(
            matches!(parse_data_flag("@some/file.json"), Ok(DataArg::File(f)) if f == "@some/file.json")
        );
        assert!(parse_data_flag("{x").expect_err("bad").contains("@FILE"));
    }

    #[test]
    fn previews_are_one_line_and_bounded() {
        assert_eq!(preview("{\"id\":\"evt_1\",\n \"seq\":3}\n"), "{\"id\":\"evt_1\", \"seq\":3}");
        let long = "é".repeat(ANSWER_PREVIEW + 5);
        assert_eq!(preview(&long).chars().count(), ANSWER_PREVIEW + 1);
    }
}
