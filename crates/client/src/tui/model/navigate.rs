//! Selection and scrolling: moving by rows and pages, following the newest event, keeping
//! the selection visible and on screen, and asking for older or newer pages at the ends.

use crate::tui::model::{Command, Model};
use crate::tui::row::Row;

impl Model {
    /// Moves the selection; past the oldest row pages older events in, past the newest
    /// pages newer ones back (when the window does not reach them).
    pub(super) fn move_or_page(&mut self, delta: i64) -> Vec<Command> {
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

    pub(super) fn page_older_if_any(&mut self) -> Vec<Command> {
        if !self.window.older || self.loading {
            return Vec::new();
        }
        let Some((before, _)) = self.window.bounds() else { return Vec::new() };
        self.loading = true;
        self.status = Some("loading older events…".into());
        vec![Command::LoadOlder { before }]
    }

    pub(super) fn selected_index(&self, visible: &[&Row]) -> Option<usize> {
        let seq = self.selected?;
        visible.iter().position(|row| row.seq == seq)
    }

    pub(super) fn move_by(&mut self, delta: i64) {
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
    pub(super) fn settle(&mut self) {
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
