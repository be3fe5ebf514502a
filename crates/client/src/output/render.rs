//! The live-log renderer of `listen` and `replay`: it alone turns their queued events into
//! output. Human mode prints a header block and one colored line per delivery, with a
//! spinner on stderr while connecting or waiting for the local app; `--json` prints NDJSON
//! records (DESIGN §4) and sends everything else to stderr.

use std::io::{self, Write};
use std::time::Duration;

use hookrelay_proto::Gap;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use time::UtcOffset;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::output::listener_line::listener_text;
use crate::output::log_line::{delivery_line, gap_line, gap_text, response_lines};
use crate::output::queue::{DeliveryLine, UiEvent};
use crate::output::stdout::stdout_color;
use crate::output::style::{Tone, paint};

/// How often the spinner redraws.
const SPINNER_TICK: Duration = Duration::from_millis(100);

/// Width that `--show-response` lines are cut to when `$COLUMNS` does not say.
pub(crate) const DEFAULT_WIDTH: usize = 120;

/// Output style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Lines for people; `color` also enables the spinner.
    Human {
        /// ANSI colors and a spinner (stdout is a terminal and `NO_COLOR` is unset).
        color: bool,
    },
    /// NDJSON records on stdout.
    Json,
}

/// Turns [`UiEvent`]s into output.
pub(crate) struct Renderer {
    mode: Mode,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    offset: UtcOffset,
    spinner: Option<ProgressBar>,
    connected_once: bool,
    width: usize,
}

impl Renderer {
    /// Writes to the process's stdout/stderr; colors only for a terminal without `NO_COLOR`.
    pub(crate) fn terminal(json: bool, offset: UtcOffset) -> Self {
        let mode = if json { Mode::Json } else { Mode::Human { color: stdout_color() } };
        let width = std::env::var("COLUMNS").ok().and_then(|cols| cols.trim().parse().ok());
        let mut renderer = Self::new(mode, Box::new(io::stdout()), Box::new(io::stderr()), offset);
        renderer.width = width.filter(|&cols| cols > 0).unwrap_or(DEFAULT_WIDTH);
        renderer
    }

    /// Writes to the given sinks (tests capture them).
    pub(crate) fn new(
        mode: Mode,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        offset: UtcOffset,
    ) -> Self {
        Self { mode, out, err, offset, spinner: None, connected_once: false, width: DEFAULT_WIDTH }
    }

    /// Renders until every sender is gone. Runs on a blocking thread so a slow terminal
    /// never stalls the runtime. When stdout is closed (`| head`) it cancels `on_closed`
    /// and stops quietly: the whole command then exits 0.
    pub(crate) fn run_blocking(
        mut self,
        mut events: mpsc::Receiver<UiEvent>,
        on_closed: CancellationToken,
    ) {
        while let Some(event) = events.blocking_recv() {
            if let Err(err) = self.render(&event) {
                if err.kind() != io::ErrorKind::BrokenPipe {
                    tracing::warn!("could not write output: {err}");
                }
                on_closed.cancel();
                break;
            }
        }
        self.stop_spinner();
    }

    /// Renders one event.
    pub(crate) fn render(&mut self, event: &UiEvent) -> io::Result<()> {
        let written = match self.mode {
            Mode::Json => self.render_json(event),
            Mode::Human { color } => self.render_human(event, color),
        };
        if matches!(event, UiEvent::Connected { .. }) {
            self.connected_once = true;
        }
        written
    }

    fn render_json(&mut self, event: &UiEvent) -> io::Result<()> {
        let record = match event {
            UiEvent::Ready { channel, ingest_url, forward_to, routes, .. } => {
                let mut record = json!({
                    "type": "ready", "channel": channel, "ingest_url": ingest_url,
                    "forward_to": forward_to,
                });
                if !routes.is_empty() {
                    let routes: Vec<_> =
                        routes.iter().map(|(name, to)| json!({"name": name, "to": to})).collect();
                    record["routes"] = routes.into();
                }
                record
            }
            UiEvent::Delivery(line) => delivery_json(line),
            UiEvent::OtherListener { change, peer, since, others } => {
                let now = time::OffsetDateTime::now_utc();
                let (_, text) = listener_text(*change, peer, *since, *others, now, self.offset);
                return writeln!(self.err, "hookrelay: {text}");
            }
            UiEvent::Gap { gap, .. } => {
                let level = if gap.reason.is_loss() { "error" } else { "warning" };
                writeln!(self.err, "hookrelay: {level}: {}", gap_text(gap))?;
                gap_json(gap)
            }
            other => {
                return match describe(other, self.connected_once) {
                    Some((_, text)) if worth_a_line(other) => {
                        writeln!(self.err, "hookrelay: {text}")
                    }
                    _ => Ok(()),
                };
            }
        };
        writeln!(self.out, "{record}")?;
        self.out.flush()
    }

    fn render_human(&mut self, event: &UiEvent, color: bool) -> io::Result<()> {
        let text = match event {
            UiEvent::Ready { channel, ingest_url, forward_to, routes, relay } => {
                let bold = |text: &str| paint(text, Tone::Bold, color);
                let mut text = format!(
                    "{}  channel {channel}\n  {}  {}   ← paste into your provider\n",
                    bold("hookrelay"),
                    bold("ingest URL"),
                    paint(ingest_url, Tone::Cyan, color),
                );
                for (name, to) in routes {
                    text.push_str(&format!("  {}  {name} → {to}\n", bold("route     ")));
                }
                let fallback = match (forward_to, routes.is_empty()) {
                    (Some(to), true) => to.clone(),
                    (Some(to), false) => format!("{to} (events no route matches)"),
                    (None, _) => "none: events no route matches are skipped".to_owned(),
                };
                text.push_str(&format!("  {}  {fallback}\n", bold("forwarding")));
                text.push_str(&format!("  {}       {relay}\n", bold("relay")));
                text
            }
            UiEvent::Delivery(line) => {
                let mut text = delivery_line(line, self.offset, color);
                for preview in
                    response_lines(line.response.as_deref().unwrap_or(""), self.width, color)
                {
                    text.push('\n');
                    text.push_str(&preview);
                }
                text
            }
            UiEvent::Gap { at, gap } => gap_line(gap, *at, self.offset, color),
            UiEvent::OtherListener { change, peer, since, others } => {
                let now = time::OffsetDateTime::now_utc();
                let (tone, text) = listener_text(*change, peer, *since, *others, now, self.offset);
                paint(&text, tone, color)
            }
            UiEvent::Retrying { line, delay } => {
                let retry = format!("retrying in {:.1}s", delay.as_secs_f64());
                format!(
                    "{}  {}",
                    delivery_line(line, self.offset, color),
                    paint(&retry, Tone::Yellow, color)
                )
            }
            other => {
                let Some((tone, text)) = describe(other, self.connected_once) else {
                    return Ok(());
                };
                if color {
                    return self.spin(other, &text, tone);
                }
                if !worth_a_line(other) {
                    return Ok(());
                }
                paint(&text, tone, color)
            }
        };
        self.stop_spinner();
        writeln!(self.out, "{text}")?;
        self.out.flush()
    }

    /// With colors on, transient states live in the spinner; lasting ones also get a line.
    fn spin(&mut self, event: &UiEvent, text: &str, tone: Tone) -> io::Result<()> {
        match event {
            UiEvent::Connected { .. } => {
                self.stop_spinner();
                writeln!(self.out, "{}", paint(text, tone, true))?;
                self.out.flush()
            }
            UiEvent::Notice(_) | UiEvent::Reconnecting { .. } => {
                let line = paint(text, tone, true);
                match &self.spinner {
                    Some(spinner) => spinner.suspend(|| writeln!(self.out, "{line}")),
                    None => writeln!(self.out, "{line}"),
                }?;
                if matches!(event, UiEvent::Reconnecting { .. }) {
                    self.spinner().set_message(text.to_owned());
                }
                Ok(())
            }
            _ => {
                self.spinner().set_message(text.to_owned());
                Ok(())
            }
        }
    }

    fn spinner(&mut self) -> &ProgressBar {
        self.spinner.get_or_insert_with(|| {
            let spinner = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner:.cyan} {msg}") {
                spinner.set_style(style);
            }
            spinner.enable_steady_tick(SPINNER_TICK);
            spinner
        })
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }
}

/// The `--json` record of one delivery.
pub(crate) fn delivery_json(line: &DeliveryLine) -> serde_json::Value {
    let mut record = json!({
        "type": "delivery",
        "id": line.id,
        "seq": line.seq,
        "method": line.method,
        "path": line.path,
        "query": line.query,
        "event_type": line.event_type,
        "status": line.status,
        "outcome": line.outcome,
        "attempt": line.attempt,
        "latency_ms": line.latency_ms,
        "error": line.error,
        "replay": line.replay,
        "at": line.at.format(&time::format_description::well_known::Rfc3339).ok(),
    });
    if let Some(check) = &line.signature {
        record["signature"] = json!(check);
    }
    if let Some(route) = &line.route {
        record["route"] = json!(route);
    }
    if let Some(response) = &line.response {
        record["response"] = json!(response);
    }
    record
}

/// The `--json` record of a gap (`listen` and `events`).
pub(crate) fn gap_json(gap: &Gap) -> serde_json::Value {
    json!({
        "type": "gap", "from_seq": gap.from_seq, "to_seq": gap.to_seq,
        "count": gap.count(), "reason": gap.reason,
    })
}

/// Without a spinner, retries toward the local app print a line on attempts 1, 2, 4, 8...
/// only, so a long outage does not flood the log.
fn worth_a_line(event: &UiEvent) -> bool {
    !matches!(event, UiEvent::Waiting { attempt, .. } if !attempt.is_power_of_two())
}

/// Text and tone for state changes; `None` for those not worth a line.
fn describe(event: &UiEvent, connected_once: bool) -> Option<(Tone, String)> {
    Some(match event {
        UiEvent::Notice(text) => (Tone::Dim, text.clone()),
        UiEvent::Connecting { relay } if !connected_once => {
            (Tone::Dim, format!("connecting to {relay}..."))
        }
        UiEvent::Connecting { .. } => return None,
        UiEvent::Connected { after, .. } if *after > 0 => {
            (Tone::Green, format!("connected; resuming after event #{after}"))
        }
        UiEvent::Connected { .. } => (Tone::Green, "connected; waiting for events".into()),
        UiEvent::Reconnecting { reason, delay, attempt } => (
            Tone::Yellow,
            format!("{reason}; reconnecting in {:.1}s (attempt {attempt})", delay.as_secs_f64()),
        ),
        UiEvent::Waiting { target, attempt, reason, delay } => (
            Tone::Yellow,
            format!(
                "waiting for {target}... {reason} (attempt {attempt}, retry in {:.1}s)",
                delay.as_secs_f64()
            ),
        ),
        UiEvent::Retrying { line, delay } => (
            Tone::Yellow,
            format!(
                "{} {} answered {}; retrying in {:.1}s (attempt {})",
                line.method,
                if line.path.is_empty() { "/" } else { &line.path },
                line.status.unwrap_or_default(),
                delay.as_secs_f64(),
                line.attempt
            ),
        ),
        UiEvent::Ready { .. }
        | UiEvent::Delivery(_)
        | UiEvent::Gap { .. }
        | UiEvent::OtherListener { .. } => return None,
    })
}

#[cfg(test)]
mod tests;
