//! The inspector's state machine: [`Input`]s in (the pipeline's [`UiEvent`]s, key presses,
//! pages of history, fetched details, results of actions), [`Command`]s out (what to fetch or
//! do), and a model that `draw` renders. Pure: no terminal, no clock, no network, so every
//! behaviour is tested with plain values.

use std::time::{Duration, Instant};

use hookrelay_proto::EventDetail;
use time::UtcOffset;

use crate::output::listener_line::listener_text;
use crate::output::log_line::gap_text;
use crate::output::queue::UiEvent;
use crate::output::records::Outcomes;
use crate::tui::row::Row;
use crate::tui::text::detail_lines;
use crate::tui::window::Window;

mod io;
mod navigate;
mod on_key;

pub(crate) use io::{Command, Input};

/// What the header says about the relay connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Conn {
    /// Before the first connection attempt (the relay is being started or checked).
    Starting,
    /// Opening the websocket.
    Connecting,
    /// Streaming.
    Connected,
    /// The connection was lost or refused; the next try comes after `delay` from `since`.
    Reconnecting {
        /// Why.
        reason: String,
        /// Backoff before the next try.
        delay: Duration,
        /// When this state began.
        since: Instant,
        /// Failures in a row.
        attempt: u32,
    },
}

/// The header's facts, from `UiEvent::Ready`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The relay, described for people.
    pub relay: String,
    /// Channel id.
    pub channel: String,
    /// Where providers POST.
    pub ingest_url: String,
    /// Where events go (the target, or the routes).
    pub target: String,
}

/// Which view fills the middle of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Screen {
    /// The event list.
    List,
    /// One event in full.
    Detail,
}

/// The detail view's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DetailView {
    /// Its seq.
    pub seq: u64,
    /// Its id.
    pub id: String,
    /// The event as the relay has it, once fetched.
    pub loaded: Option<EventDetail>,
    /// Its lines as the view shows them (rendered once, when it arrives).
    pub lines: Vec<String>,
    /// Why it could not be fetched.
    pub error: Option<String>,
    /// First line shown.
    pub scroll: usize,
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    /// Relay, channel, ingest URL, target; `None` until the channel is known.
    pub header: Option<Header>,
    /// The relay connection.
    pub conn: Conn,
    /// The rows held.
    pub window: Window,
    /// The selected row's seq.
    pub selected: Option<u64>,
    /// Follow the newest event (until the user moves up; again once back at the bottom).
    pub follow: bool,
    /// The seq of the first row on screen.
    pub top: Option<u64>,
    /// The list's height in rows.
    pub list_height: usize,
    /// List or detail.
    pub screen: Screen,
    /// The detail view's event.
    pub detail: Option<DetailView>,
    /// The filter text.
    pub filter: String,
    /// Typing into the filter.
    pub filter_editing: bool,
    /// The help overlay is open.
    pub help: bool,
    /// The status line's message.
    pub status: Option<String>,
    /// A page of history is being read.
    pub loading: bool,
    /// Now, as the loop last said (the reconnect countdown).
    pub now: Instant,
    /// The local time zone for times shown.
    pub offset: UtcOffset,
    /// How events ended, for the summary printed on exit.
    pub outcomes: Outcomes,
    /// `Stopped`'s facts, once `listen` stops.
    pub stopped: Option<(usize, u64)>,
    /// Events reported lost (gaps) since the start: shown in the header for good, since
    /// the status line's message is soon replaced.
    pub lost: u64,
    /// The user asked to quit.
    pub quit: bool,
}

impl Model {
    /// An empty model.
    pub(crate) fn new(now: Instant, offset: UtcOffset) -> Self {
        Self {
            header: None,
            conn: Conn::Starting,
            window: Window::default(),
            selected: None,
            follow: true,
            top: None,
            list_height: 20,
            screen: Screen::List,
            detail: None,
            filter: String::new(),
            filter_editing: false,
            help: false,
            status: None,
            loading: false,
            now,
            offset,
            outcomes: Outcomes::default(),
            stopped: None,
            lost: 0,
            quit: false,
        }
    }

    /// The rows the filter lets through, oldest first.
    pub(crate) fn visible(&self) -> Vec<&Row> {
        let filter = self.filter.to_lowercase();
        self.window.rows().iter().filter(|row| row.matches_lowercase(&filter)).collect()
    }

    /// The selected row, if it is visible.
    pub(crate) fn selected_row(&self) -> Option<&Row> {
        let seq = self.selected?;
        self.window.get(seq).filter(|row| row.matches(&self.filter))
    }

    /// Index of the first visible row on screen.
    pub(crate) fn top_index(&self) -> usize {
        let visible = self.visible();
        let Some(top) = self.top else { return 0 };
        visible.iter().position(|row| row.seq >= top).unwrap_or(0)
    }

    /// Handles one input; returns what should be done about it.
    pub(crate) fn update(&mut self, input: Input) -> Vec<Command> {
        let commands = match input {
            Input::Ui(event) => self.on_ui(event),
            Input::Key(key) => self.on_key(key),
            Input::Latest(page) => {
                self.loading = false;
                self.window.take_latest(&page);
                Vec::new()
            }
            Input::Older(page) => {
                self.loading = false;
                let before = self.window.bounds();
                self.window.take_older(&page);
                if self.window.bounds().map(|b| b.0) != before.map(|b| b.0) {
                    // Show what came in: the row above the old top.
                    self.move_by(-1);
                } else {
                    self.status = Some("this is the oldest event the relay has".into());
                }
                Vec::new()
            }
            Input::Newer(page, limit) => {
                self.loading = false;
                self.window.take_newer(&page, limit);
                Vec::new()
            }
            Input::PageFailed(why) => {
                self.loading = false;
                self.status = Some(format!("could not read history: {why}"));
                Vec::new()
            }
            Input::Detail(id, fetched) => {
                if let Some(detail) = self.detail.as_mut().filter(|detail| detail.id == id) {
                    match fetched {
                        Ok(event) => {
                            detail.lines = detail_lines(&event, self.offset);
                            (detail.loaded, detail.error) = (Some(event), None);
                        }
                        Err(why) => detail.error = Some(why),
                    }
                }
                Vec::new()
            }
            Input::Status(text) => {
                self.status = Some(text);
                Vec::new()
            }
            Input::Resized(height) => {
                self.list_height = height.max(1);
                Vec::new()
            }
        };
        self.settle();
        commands
    }

    fn on_ui(&mut self, event: UiEvent) -> Vec<Command> {
        match event {
            UiEvent::Notice(text) => self.status = Some(text),
            UiEvent::Ready { channel, ingest_url, forward_to, routes, relay } => {
                let mut target: Vec<String> =
                    routes.iter().map(|(name, to)| format!("{name} → {to}")).collect();
                target.extend(forward_to);
                self.header =
                    Some(Header { relay, channel, ingest_url, target: target.join(", ") });
                self.loading = true;
                return vec![Command::LoadLatest];
            }
            UiEvent::Connecting { .. } => self.conn = Conn::Connecting,
            UiEvent::Connected { .. } => self.conn = Conn::Connected,
            UiEvent::Reconnecting { reason, delay, attempt } => {
                self.conn = Conn::Reconnecting { reason, delay, since: self.now, attempt };
            }
            UiEvent::Waiting { event, reason, .. } => {
                let row = || Row::waiting(&event, &reason);
                self.window.upsert(event.seq, row, |row| row.set_waiting(&reason));
            }
            UiEvent::Retrying { line, .. } => {
                self.window.upsert(
                    line.seq,
                    || Row::from_line(&line, true),
                    |row| {
                        row.apply_line(&line, true);
                    },
                );
                return self.reload_detail(line.seq);
            }
            UiEvent::Delivery(line) => {
                // The summary tells how the live deliveries ended, as the log's does.
                if !line.replay {
                    self.outcomes.count(line.outcome);
                }
                self.window.upsert(
                    line.seq,
                    || Row::from_line(&line, false),
                    |row| {
                        row.apply_line(&line, false);
                    },
                );
                return self.reload_detail(line.seq);
            }
            UiEvent::Stopped { in_flight, resume_after } => {
                self.stopped = Some((in_flight, resume_after));
            }
            UiEvent::OtherListener { change, peer, since, others } => {
                let (_, text) = listener_text(change, &peer, since, others, since, self.offset);
                self.status = Some(text);
            }
            UiEvent::Gap { gap, .. } => {
                self.lost += gap.count();
                self.status = Some(gap_text(&gap));
            }
        }
        Vec::new()
    }

    /// The detail view shows `seq`: read it again, its deliveries changed.
    pub(super) fn reload_detail(&self, seq: u64) -> Vec<Command> {
        match &self.detail {
            Some(detail) if detail.seq == seq && self.screen == Screen::Detail => {
                vec![Command::LoadDetail { id: detail.id.clone() }]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
