//! The `?` overlay: every key and what it does, from `keys::HELP`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::keys::HELP;
use crate::tui::text::fit;

/// Draws the overlay centred in `area`.
pub(super) fn draw(frame: &mut Frame<'_>, area: Rect) {
    let width = area.width.min(76);
    let height = area.height.min(HELP.len() as u16 + 4);
    let x = area.x + (area.width - width) / 2;
    let y = area.y + (area.height - height) / 2;
    let overlay = Rect { x, y, width, height };
    let inner = usize::from(width.saturating_sub(4));
    let mut lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(
                    format!(" {keys:<10} "),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(fit(what, inner.saturating_sub(12))),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw(" any key closes this help"));
    let block = Block::default().borders(Borders::ALL).title(" keys ");
    frame.render_widget(Clear, overlay);
    frame.render_widget(Paragraph::new(lines).block(block), overlay);
}
