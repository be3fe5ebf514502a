//! `hookrelay trigger EVENT_TYPE`: build simulated provider events from the sandbox's
//! catalogue and POST them, one after another, to the current channel's ingest URL (or
//! `--to URL`), printing each answer. `--list` shows the catalogue.

use std::path::PathBuf;
use std::process::ExitCode;

use hookrelay_sandbox::{
    Catalog, DEFAULT_TRIGGER_TIMEOUT, Event, Faker, build_event, format_list, parse_data_arg,
    post_event,
};
use serde_json::Value;
use url::Url;

use crate::commands::CommandEnv;
use crate::config::RelaySelection;
use crate::output::stdout::write_stdout;
use crate::output::trigger::render;
use crate::relay::channel_choice::IfNoChannel;
use crate::relay::connect::connect;

/// What `hookrelay trigger` sends, and where, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// The event type to send, e.g. test or connectivity.interrupted (see --list).
    pub event_type: Option<String>,

    /// POST straight to this URL instead of the channel's ingest URL (no relay involved).
    pub to: Option<Url>,

    /// Use this JSON as the event's data instead of generated fake data; @FILE reads it from
    /// a file. Any event type name is accepted then.
    pub data: Option<DataArg>,

    /// Send N events (each with fresh fake data), one after another.
    pub count: u32,

    /// A catalogue file (JSON or TOML) whose event types are added to the built-in ones or
    /// replace them (docs/sandbox.md). Repeatable; later files win.
    pub catalogs: Vec<PathBuf>,

    /// List the catalogue's event types and exit.
    pub list: bool,

    /// Print one JSON object per line on stdout, one per event sent.
    pub json: bool,

    /// Which relay and channel (ignored with --to).
    pub relay: RelaySelection,
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

/// Runs the command.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load_files(&config.catalogs)?;
    if config.list {
        write_stdout(format_list(&catalog).as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let event_type = config.event_type.as_deref().expect("clap requires EVENT_TYPE without --list");
    let data = match &config.data {
        None => None,
        Some(DataArg::Inline(value)) => Some(value.clone()),
        Some(DataArg::File(arg)) => Some(parse_data_arg(arg)?),
    };
    // Build every event first, so an unknown type fails before anything is sent.
    let mut faker = Faker::new();
    let events = (0..config.count)
        .map(|_| build_event(&catalog, event_type, data.as_ref(), &mut faker))
        .collect::<anyhow::Result<Vec<Event>>>()?;

    if let Some(to) = &config.to {
        return send_all(to.as_str(), &events, config.json, env).await.map(|()| ExitCode::SUCCESS);
    }
    let conn = connect(&config.relay, &env.dirs, IfNoChannel::Create, env.cancel.clone()).await?;
    tracing::info!(channel = %conn.channel.channel, "sending to {}", conn.channel.ingest_url);
    let sent = send_all(&conn.channel.ingest_url, &events, config.json, env).await;
    let closed = conn.close().await;
    sent.and(closed).map(|()| ExitCode::SUCCESS)
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
