//! What each key does, by screen: moving, opening and closing views, the filter prompt, the
//! help overlay, and the actions (`r`, `e`, `s`, `c`, `y`) on the event shown.

use crate::tui::keys::Key;
use crate::tui::model::{Command, DetailView, Model, Screen};

impl Model {
    pub(super) fn on_key(&mut self, key: Key) -> Vec<Command> {
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
                    self.detail = Some(DetailView {
                        seq,
                        id: id.clone(),
                        loaded,
                        lines: Vec::new(),
                        error: None,
                        scroll: 0,
                    });
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

    pub(super) fn quit(&mut self) -> Vec<Command> {
        self.quit = true;
        vec![Command::Quit]
    }

    pub(super) fn page(&self) -> usize {
        self.list_height.saturating_sub(1).max(1)
    }

    /// The event the action is for: the detail view's, else the selected row's.
    pub(super) fn on_target(&mut self, command: impl FnOnce(String) -> Command) -> Vec<Command> {
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
    pub(super) fn stop(&mut self) -> Vec<Command> {
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

    pub(super) fn scroll_detail(&mut self, key: Key) {
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
}
