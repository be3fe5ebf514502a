//! The inspector's state machine: [`Input`]s in (the pipeline's [`UiEvent`]s, key presses,
//! pages of history, fetched details, results of actions), [`Command`]s out (what to fetch or
//! do), and a model that `draw` renders. Pure: no terminal, no clock, no network, so every
//! behaviour is tested with plain values.

use std::time::{Duration, Instant};

use hookrelay_proto::{EventDetail, EventSummary};
use time::UtcOffset;

use crate::output::listener_line::listener_text;
use crate::output::log_line::gap_text;
use crate::output::queue::UiEvent;
use crate::output::records::Outcomes;
use crate::tui::keys::Key;
use crate::tui::row::Row;
use crate::tui::window::Window;

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
    /// Why it could not be fetched.
    pub error: Option<String>,
    /// First line shown.
    pub scroll: usize,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    /// From the forwarding pipeline (the same events the line log gets).
    Ui(UiEvent),
    /// A key press.
    Key(Key),
    /// The channel's newest events.
    Latest(Vec<EventSummary>),
    /// Events older than the oldest row.
    Older(Vec<EventSummary>),
    /// Events newer than the newest row, and the page size asked.
    Newer(Vec<EventSummary>, usize),
    /// A page of history could not be read.
    PageFailed(String),
    /// An event fetched for the detail view (by id), or why not.
    Detail(String, Result<EventDetail, String>),
    /// What an action did (`copied ...`, `replay failed: ...`).
    Status(String),
    /// The list's height in rows changed (the terminal was resized).
    Resized(usize),
}

/// Something the model wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Read the newest page of history.
    LoadLatest,
    /// Read the page before `before`.
    LoadOlder {
        /// Oldest seq held.
        before: u64,
    },
    /// Read the page after `after`.
    LoadNewer {
        /// Newest seq held.
        after: u64,
    },
    /// Fetch one event in full.
    LoadDetail {
        /// Its id.
        id: String,
    },
    /// Stop waiting on the event being retried.
    Stop {
        /// Its seq.
        seq: u64,
    },
    /// Replay an event to the local app.
    Replay {
        /// Its id.
        id: String,
    },
    /// Edit an event in `$EDITOR`, then replay it.
    Edit {
        /// Its id.
        id: String,
    },
    /// Copy an event as a curl command.
    CopyCurl {
        /// Its id.
        id: String,
    },
    /// Copy an event's body.
    CopyBody {
        /// Its id.
        id: String,
    },
    /// Leave (terminal restored, `listen` stops).
    Quit,
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
            quit: false,
        }
    }

    /// The rows the filter lets through, oldest first.
    pub(crate) fn visible(&self) -> Vec<&Row> {
        self.window.rows().iter().filter(|row| row.matches(&self.filter)).collect()
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
                        Ok(event) => (detail.loaded, detail.error) = (Some(event), None),
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
            UiEvent::Gap { gap, .. } => self.status = Some(gap_text(&gap)),
        }
        Vec::new()
    }

    /// The detail view shows `seq`: read it again, its deliveries changed.
    fn reload_detail(&self, seq: u64) -> Vec<Command> {
        match &self.detail {
            Some(detail) if detail.seq == seq && self.screen == Screen::Detail => {
                vec![Command::LoadDetail { id: detail.id.clone() }]
            }
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, key: Key) -> Vec<Command> {
        if key == Key::Interrupt {
            return self.quit();
        }
        if self.help {
            return match key {
                Key::Char('q') => self.quit(),
                _ => {
                    self.help = false;
                    Vec::new()
                }
            };
        }
        if self.filter_editing {
            match key {
                Key::Char(c) => self.filter.push(c),
                Key::Backspace => {
                    self.filter.pop();
                }
                Key::Enter => self.filter_editing = false,
                Key::Esc => {
                    self.filter.clear();
                    self.filter_editing = false;
                }
                _ => {}
            }
            return Vec::new();
        }
        match (self.screen, key) {
            (_, Key::Char('q')) => return self.quit(),
            (_, Key::Char('?')) => self.help = true,
            (_, Key::Char('r')) => return self.on_target(|id| Command::Replay { id }),
            (_, Key::Char('e')) => return self.on_target(|id| Command::Edit { id }),
            (_, Key::Char('c')) => return self.on_target(|id| Command::CopyCurl { id }),
            (_, Key::Char('y')) => return self.on_target(|id| Command::CopyBody { id }),
            (_, Key::Char('s')) => return self.stop(),
            (Screen::Detail, Key::Esc) => {
                self.screen = Screen::List;
                self.detail = None;
            }
            (Screen::Detail, key) => self.scroll_detail(key),
            (Screen::List, Key::Esc) => self.filter.clear(),
            (Screen::List, Key::Char('/')) => {
                self.filter_editing = true;
            }
            (Screen::List, Key::Enter) => {
                if let Some(row) = self.selected_row() {
                    let (seq, id) = (row.seq, row.id.clone());
                    self.screen = Screen::Detail;
                    let loaded = None;
                    self.detail =
                        Some(DetailView { seq, id: id.clone(), loaded, error: None, scroll: 0 });
                    return vec![Command::LoadDetail { id }];
                }
            }
            (Screen::List, Key::Up | Key::Char('k')) => return self.move_or_page(-1),
            (Screen::List, Key::Down | Key::Char('j')) => return self.move_or_page(1),
            (Screen::List, Key::PageUp) => return self.move_or_page(-(self.page() as i64)),
            (Screen::List, Key::PageDown) => return self.move_or_page(self.page() as i64),
            (Screen::List, Key::Home | Key::Char('g')) => {
                self.move_by(i64::MIN / 2);
                return self.page_older_if_any();
            }
            (Screen::List, Key::End | Key::Char('G')) => {
                self.follow = true;
                if self.window.detached && !self.loading {
                    self.loading = true;
                    return vec![Command::LoadLatest];
                }
            }
            (Screen::List, _) => {}
        }
        Vec::new()
    }

    fn quit(&mut self) -> Vec<Command> {
        self.quit = true;
        vec![Command::Quit]
    }

    fn page(&self) -> usize {
        self.list_height.saturating_sub(1).max(1)
    }

    /// The event the action is for: the detail view's, else the selected row's.
    fn on_target(&mut self, command: impl FnOnce(String) -> Command) -> Vec<Command> {
        let id = match (&self.screen, &self.detail) {
            (Screen::Detail, Some(detail)) => Some(detail.id.clone()),
            _ => self.selected_row().map(|row| row.id.clone()),
        };
        match id {
            Some(id) => vec![command(id)],
            None => {
                self.status = Some("no event selected".into());
                Vec::new()
            }
        }
    }

    /// `s`: the shown event if it is being retried, else the only one that is.
    fn stop(&mut self) -> Vec<Command> {
        let shown = match (&self.screen, &self.detail) {
            (Screen::Detail, Some(detail)) => Some(detail.seq),
            _ => self.selected,
        };
        let shown =
            shown.and_then(|seq| self.window.get(seq)).filter(|row| row.state.is_retrying());
        let retrying: Vec<u64> = self
            .window
            .rows()
            .iter()
            .filter(|row| row.state.is_retrying())
            .map(|row| row.seq)
            .collect();
        let seq = match (shown, retrying.as_slice()) {
            (Some(row), _) => row.seq,
            (None, [only]) => *only,
            (None, []) => {
                self.status = Some("no event is being retried".into());
                return Vec::new();
            }
            (None, _) => {
                self.status = Some("several events are being retried: select one, then s".into());
                return Vec::new();
            }
        };
        self.status = Some(format!("stopping seq {seq}: it will be recorded as failed"));
        vec![Command::Stop { seq }]
    }

    fn scroll_detail(&mut self, key: Key) {
        let page = self.page();
        let Some(detail) = self.detail.as_mut() else { return };
        detail.scroll = match key {
            Key::Up | Key::Char('k') => detail.scroll.saturating_sub(1),
            Key::Down | Key::Char('j') => detail.scroll + 1,
            Key::PageUp => detail.scroll.saturating_sub(page),
            Key::PageDown => detail.scroll + page,
            Key::Home | Key::Char('g') => 0,
            Key::End | Key::Char('G') => usize::MAX / 2,
            _ => detail.scroll,
        };
    }

    /// Moves the selection; past the oldest row pages older events in, past the newest
    /// pages newer ones back (when the window does not reach them).
    fn move_or_page(&mut self, delta: i64) -> Vec<Command> {
        let visible = self.visible();
        let at = self.selected_index(&visible);
        let last = visible.len().saturating_sub(1);
        drop(visible);
        self.move_by(delta);
        match at {
            Some(0) | None if delta < 0 => self.page_older_if_any(),
            Some(at) if delta > 0 && at == last && self.window.detached && !self.loading => {
                self.loading = true;
                let after = self.window.bounds().map_or(0, |b| b.1);
                vec![Command::LoadNewer { after }]
            }
            _ => Vec::new(),
        }
    }

    fn page_older_if_any(&mut self) -> Vec<Command> {
        if !self.window.older || self.loading {
            return Vec::new();
        }
        let Some((before, _)) = self.window.bounds() else { return Vec::new() };
        self.loading = true;
        self.status = Some("loading older events…".into());
        vec![Command::LoadOlder { before }]
    }

    fn selected_index(&self, visible: &[&Row]) -> Option<usize> {
        let seq = self.selected?;
        visible.iter().position(|row| row.seq == seq)
    }

    fn move_by(&mut self, delta: i64) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let last = visible.len() - 1;
        let at = self.selected_index(&visible).unwrap_or(last) as i64;
        let to = (at.saturating_add(delta)).clamp(0, last as i64) as usize;
        self.selected = Some(visible[to].seq);
        self.follow = to == last && !self.window.detached;
    }

    /// Keeps the selection on a visible row (the newest while following) and on screen.
    fn settle(&mut self) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let last = visible.len() - 1;
        let at = match self.selected_index(&visible) {
            Some(at) if !self.follow => at,
            // A selection the filter hides moves to the nearest row before it.
            None if !self.follow && self.selected.is_some() => {
                let seq = self.selected.unwrap_or(0);
                visible.iter().rposition(|row| row.seq < seq).unwrap_or(0)
            }
            _ => last,
        };
        let height = self.list_height.max(1);
        let mut top = visible.iter().position(|row| Some(row.seq) >= self.top).unwrap_or(0);
        if self.follow || at >= top + height {
            top = (at + 1).saturating_sub(height);
        }
        // No empty space below the last row while rows above are hidden.
        top = top.min(visible.len().saturating_sub(height));
        if at < top {
            top = at;
        }
        let (selected, top) = (visible[at].seq, visible[top].seq);
        drop(visible);
        self.selected = Some(selected);
        self.top = Some(top);
    }
}

#[cfg(test)]
mod tests;
