//! The detail view: the event as `hookrelay show` prints it (request line, headers with
//! secrets masked, the body pretty-printed, every delivery attempt with the app's answer
//! and the signature check), scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::tui::model::DetailView;
use crate::tui::text::{clean, fit};

/// The title line above the view.
pub(super) fn titles(frame: &mut Frame<'_>, area: Rect, view: &DetailView) {
    let text =
        format!(" event seq {}  {}   Esc back  ↑/↓ PgUp/PgDn scroll", view.seq, clean(&view.id));
    let style = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    frame.render_widget(Paragraph::new(Line::styled(fit(&text, area.width.into()), style)), area);
}

/// Draws the view from its scroll position (clamped so the last page stays full).
pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, view: &DetailView) {
    let all: Vec<String> = match (&view.error, view.loaded.is_some()) {
        (Some(error), _) => vec![format!(" could not read the event: {}", clean(error))],
        (None, false) => vec![" loading…".to_owned()],
        (None, true) => view.lines.clone(),
    };
    let height = usize::from(area.height);
    let scroll = view.scroll.min(all.len().saturating_sub(height));
    let shown: Vec<Line<'_>> = all
        .into_iter()
        .enumerate()
        .skip(scroll)
        .take(height)
        .map(|(index, line)| {
            let style = match index {
                0 => Style::default().add_modifier(Modifier::BOLD),
                _ if line.starts_with("  ")
                    && line.trim_start().starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    Style::default().fg(Color::Cyan)
                }
                _ => Style::default(),
            };
            Line::styled(line, style)
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), area);
}
