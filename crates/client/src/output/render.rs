//! The live-log renderer of `listen` and `replay`: it alone turns their queued events into
//! output. Human mode prints a header block and one colored line per delivery, with a
//! spinner on stderr while connecting or waiting for the local app; `--json` prints NDJSON
//! records (DESIGN §4) and sends everything else to stderr.

use std::io::{self, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use time::UtcOffset;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::output::listener_line::listener_text;
use crate::output::log_line::{attempt_words, delivery_line, gap_line, gap_text, response_lines};
use crate::output::queue::UiEvent;
use crate::output::records::{Outcomes, delivery_json, gap_json};
use crate::output::stdout::stdout_color;
use crate::output::style::{Tone, paint};

/// How often the spinner redraws.
const SPINNER_TICK: Duration = Duration::from_millis(100);

/// How long the renderer rests after writing everything queued. Waking this thread costs
/// its sender a futex call and a context switch; resting lets a busy stream's lines queue
/// up, so it wakes a few hundred times a second instead of once per event (a strictly
/// ordered `listen` spends ~20 % less CPU per event). Nobody sees a millisecond.
const REST_AFTER_BATCH: Duration = Duration::from_millis(1);

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
    outcomes: Outcomes,
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
        Self {
            mode,
            out,
            err,
            offset,
            spinner: None,
            connected_once: false,
            width: DEFAULT_WIDTH,
            outcomes: Outcomes::default(),
        }
    }

    /// Renders until every sender is gone, in batches: whatever is queued, then a rest
    /// ([`REST_AFTER_BATCH`]). Runs on a blocking thread so a slow terminal never stalls
    /// the runtime. When stdout is closed (`| head`) it cancels `on_closed` and stops
    /// quietly: the whole command then exits 0.
    pub(crate) fn run_blocking(
        mut self,
        mut events: mpsc::Receiver<UiEvent>,
        on_closed: CancellationToken,
    ) {
        while let Some(first) = events.blocking_recv() {
            let mut batch =
                std::iter::once(first).chain(std::iter::from_fn(|| events.try_recv().ok()));
            if let Err(err) = batch.try_for_each(|event| self.render(&event)) {
                if err.kind() != io::ErrorKind::BrokenPipe {
                    tracing::warn!("could not write output: {err}");
                }
                on_closed.cancel();
                break;
            }
            std::thread::sleep(REST_AFTER_BATCH);
        }
        self.stop_spinner();
    }

    /// Renders one event.
    pub(crate) fn render(&mut self, event: &UiEvent) -> io::Result<()> {
        if let UiEvent::Delivery(line) = event {
            self.outcomes.count(line.outcome);
        }
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
            UiEvent::Stopped { in_flight, resume_after } => {
                let summary = self.outcomes.summary(*in_flight, *resume_after);
                return writeln!(self.err, "hookrelay: {summary}");
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
            // On a terminal an event being retried is one line updated in place (the
            // spinner's); piped, each attempt is a line of its own.
            UiEvent::Retrying { .. } if color => {
                let Some((_, text)) = describe(event, self.connected_once) else { return Ok(()) };
                self.spinner().set_message(text);
                return Ok(());
            }
            UiEvent::Retrying { line, delay } => {
                let retry = format!("retrying in {:.1}s", delay.as_secs_f64());
                let mut text = format!(
                    "{}  {}",
                    delivery_line(line, self.offset, color),
                    paint(&retry, Tone::Yellow, color)
                );
                for preview in
                    response_lines(line.response.as_deref().unwrap_or(""), self.width, color)
                {
                    text.push('\n');
                    text.push_str(&preview);
                }
                text
            }
            UiEvent::Stopped { in_flight, resume_after } => {
                paint(&self.outcomes.summary(*in_flight, *resume_after), Tone::Bold, color)
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

/// Without a spinner, waiting for the local app prints a line on tries 1, 2, 4, 8... only,
/// so a long outage does not flood the log.
fn worth_a_line(event: &UiEvent) -> bool {
    !matches!(event, UiEvent::Waiting { waits, .. } if !waits.is_power_of_two())
}

/// `seq 9 POST /stripe`.
fn event_words(seq: u64, method: &str, path: &str) -> String {
    format!("seq {seq} {method} {}", if path.is_empty() { "/" } else { path })
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
            (Tone::Green, format!("connected; resuming after seq {after}"))
        }
        UiEvent::Connected { .. } => (Tone::Green, "connected; waiting for events".into()),
        UiEvent::Reconnecting { reason, delay, attempt } => (
            Tone::Yellow,
            format!("{reason}; reconnecting in {:.1}s (attempt {attempt})", delay.as_secs_f64()),
        ),
        UiEvent::Waiting { target, event, waits, reason, delay } => (
            Tone::Yellow,
            format!(
                "waiting for {target}... {reason}; {} waits (try {waits}, next in {:.1}s)",
                event_words(event.seq, &event.method, &event.path),
                delay.as_secs_f64()
            ),
        ),
        UiEvent::Retrying { line, delay } => {
            let answer = match (line.status, &line.error) {
                (Some(status), _) => format!("answered {status}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "failed".to_owned(),
            };
            (
                Tone::Yellow,
                format!(
                    "{} {answer} ({}); retrying in {:.1}s",
                    event_words(line.seq, &line.method, &line.path),
                    attempt_words(line.attempt, line.max_attempts),
                    delay.as_secs_f64(),
                ),
            )
        }
        UiEvent::Ready { .. }
        | UiEvent::Delivery(_)
        | UiEvent::Gap { .. }
        | UiEvent::Stopped { .. }
        | UiEvent::OtherListener { .. } => return None,
    })
}

#[cfg(test)]
mod tests;
