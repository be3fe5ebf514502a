//! Draws the [`Model`] on a ratatui frame: header (relay, channel, ingest URL, target,
//! connection state), the event list or the detail view, a status line and the keys bar,
//! and the help overlay on top. Everything from event data goes through `text::clean`
//! first, so control characters never reach the terminal raw (DESIGN §9).

mod detail;
mod help;
mod list;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::model::{Conn, Model, Screen};
use crate::tui::text::{clean, fit};

/// Lines above the list (header and column titles) and below it (status line, keys).
const CHROME_ROWS: u16 = 6;

/// The list's height in a terminal of `height` rows.
pub(crate) fn list_height(height: u16) -> usize {
    usize::from(height.saturating_sub(CHROME_ROWS).max(1))
}

/// Draws the whole screen.
pub(crate) fn draw(frame: &mut Frame<'_>, model: &Model) {
    let [header, titles, middle, status, keys] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, model);
    match (model.screen, &model.detail) {
        (Screen::Detail, Some(view)) => {
            detail::titles(frame, titles, view);
            detail::draw(frame, middle, view);
        }
        _ => {
            list::titles(frame, titles);
            list::draw(frame, middle, model);
        }
    }
    draw_status(frame, status, model);
    draw_keys(frame, keys);
    if model.help {
        help::draw(frame, frame.area());
    }
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let dim = Style::default().fg(Color::DarkGray);
    let (state, tone) = conn_text(model);
    let mut lines = Vec::new();
    let channel = model.header.as_ref().map_or("…", |h| h.channel.as_str());
    let lost = match model.lost {
        0 => String::new(),
        1 => "  ✗ 1 event lost".to_owned(),
        n => format!("  ✗ {n} events lost"),
    };
    let room = usize::from(area.width).saturating_sub(30 + lost.chars().count());
    lines.push(Line::from(vec![
        Span::styled(" hookrelay", bold),
        Span::raw("  channel "),
        Span::raw(clean(channel)),
        Span::raw("  "),
        Span::styled(fit(&state, room), tone),
        Span::styled(lost, Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)),
    ]));
    if let Some(header) = &model.header {
        lines.push(Line::from(vec![
            Span::styled(" ingest  ", dim),
            Span::styled(clean(&header.ingest_url), Style::default().fg(Color::Cyan)),
        ]));
        lines.push(Line::from(vec![
            Span::styled(" forward ", dim),
            Span::raw(clean(&header.target)),
            Span::styled("  relay ", dim),
            Span::raw(clean(&header.relay)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The connection state's words and color.
fn conn_text(model: &Model) -> (String, Style) {
    match &model.conn {
        Conn::Starting => ("● starting…".into(), Style::default().fg(Color::Yellow)),
        Conn::Connecting => ("● connecting…".into(), Style::default().fg(Color::Yellow)),
        Conn::Connected => ("● connected".into(), Style::default().fg(Color::Green)),
        Conn::Reconnecting { reason, delay, since, attempt } => {
            let left = delay.saturating_sub(model.now.saturating_duration_since(*since));
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            let text = format!(
                "● relay lost, reconnecting in {secs}s (attempt {attempt}): {}",
                clean(reason)
            );
            (text, Style::default().fg(Color::Red))
        }
    }
}

fn draw_status(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let width = usize::from(area.width);
    let line = if model.filter_editing {
        Line::from(vec![Span::raw(" /"), Span::raw(clean(&model.filter)), Span::raw("█")])
    } else {
        let mut spans = Vec::new();
        if !model.filter.is_empty() {
            let shown = model.visible().len();
            spans.push(Span::styled(
                format!(" filter '{}': {shown} shown (Esc clears) ", clean(&model.filter)),
                Style::default().fg(Color::Cyan),
            ));
        }
        if let Some(status) = &model.status {
            spans.push(Span::raw(format!(" {}", fit(&clean(status), width.saturating_sub(1)))));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_keys(frame: &mut Frame<'_>, area: Rect) {
    let keys = " q quit  ? help  ⏎ detail  r replay  e edit  s stop  / filter  c curl  y body";
    let style = Style::default().add_modifier(Modifier::REVERSED);
    let text = format!("{:<width$}", fit(keys, usize::from(area.width)), width = area.width.into());
    frame.render_widget(Paragraph::new(Span::styled(text, style)), area);
}

#[cfg(test)]
mod tests;
