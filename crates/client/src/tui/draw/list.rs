//! The event list: one row per event (time, seq, method, path, type, the app's status,
//! latency, attempts, signature and replay marks), the selected one highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use time::UtcOffset;
use time::macros::format_description;

use crate::tui::model::Model;
use crate::tui::row::{Row, RowState};
use crate::tui::text::{clean, fit};

/// Widths of the fixed columns: time, seq, method, status, latency, attempts, marks.
const FIXED: [usize; 7] = [8, 5, 6, 4, 7, 3, 2];

/// Widths of the path and type columns in `width` cells (what the fixed ones leave).
fn flexible(width: usize) -> (usize, usize) {
    let separators = FIXED.len() + 2;
    let rest = width.saturating_sub(FIXED.iter().sum::<usize>() + separators);
    let path = rest / 2;
    (path, rest - path)
}

fn columns(cells: [&str; 9], width: usize) -> String {
    let (path, kind) = flexible(width);
    let [time, seq, method, path_text, kind_text, status, latency, tries, marks] = cells;
    format!(
        " {:<8} {:>5} {:<6} {:<path$} {:<kind$} {:>4} {:>7} {:>3} {:<2}",
        fit(time, 8),
        fit(seq, 5),
        fit(method, 6),
        fit(path_text, path),
        fit(kind_text, kind),
        fit(status, 4),
        fit(latency, 7),
        fit(tries, 3),
        fit(marks, 2),
    )
}

/// The column titles.
pub(super) fn titles(frame: &mut Frame<'_>, area: Rect) {
    let text = columns(
        ["TIME", "SEQ", "METHOD", "PATH", "TYPE", "APP", "LATENCY", "TRY", "✓"],
        usize::from(area.width),
    );
    let style = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    frame.render_widget(Paragraph::new(Line::styled(text, style)), area);
}

/// The rows on screen.
pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let visible = model.visible();
    let width = usize::from(area.width);
    if visible.is_empty() {
        let text = if model.window.rows().is_empty() {
            " waiting for events: POST to the ingest URL above"
        } else {
            " no event matches the filter"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, dim())), area);
        return;
    }
    let top = model.top_index();
    let lines: Vec<Line<'_>> = visible
        .iter()
        .skip(top)
        .take(usize::from(area.height))
        .map(|row| {
            let mut style = tone(row.state);
            if Some(row.seq) == model.selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let mut text = row_text(row, width, model.offset);
            if Some(row.seq) == model.selected {
                // Also marked in text, for terminals (and screen captures) without color.
                text.replace_range(..1, "›");
            }
            Line::styled(text, style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

fn tone(state: RowState) -> Style {
    match state {
        RowState::Delivered => Style::default().fg(Color::Green),
        RowState::Rejected | RowState::Failed => Style::default().fg(Color::Red),
        RowState::Waiting | RowState::Retrying => Style::default().fg(Color::Yellow),
        RowState::Skipped => dim(),
        RowState::Pending => Style::default(),
    }
}

/// One row as text, `width` cells wide.
pub(super) fn row_text(row: &Row, width: usize, offset: UtcOffset) -> String {
    let time =
        row.received_at_ms.and_then(|ms| clock(ms, offset)).unwrap_or_else(|| "--:--:--".into());
    let status = match (row.status, row.state) {
        (_, RowState::Waiting) => "wait".to_owned(),
        (Some(status), _) => status.to_string(),
        (None, RowState::Skipped) => "skip".to_owned(),
        (None, RowState::Pending) => "…".to_owned(),
        (None, _) => "ERR".to_owned(),
    };
    let latency = row.latency_ms.filter(|_| row.status.is_some()).map(|ms| format!("{ms}ms"));
    let tries = match (row.attempts, row.state) {
        (0, _) | (_, RowState::Skipped) => String::new(),
        (n, _) => format!("×{n}"),
    };
    let mut marks = String::new();
    marks.push(match &row.signature {
        Some(check) if check.valid => '✓',
        Some(_) => '✗',
        None => ' ',
    });
    if row.replayed {
        marks.push('↻');
    }
    let kind = row.event_type.as_deref().map(clean).unwrap_or_default();
    columns(
        [
            &time,
            &row.seq.to_string(),
            &clean(&row.method),
            &clean(&row.path),
            &kind,
            &status,
            latency.as_deref().unwrap_or(""),
            &tries,
            marks.trim_end(),
        ],
        width,
    )
}

/// `17:02:11` in the local time zone.
fn clock(ms: i64, offset: UtcOffset) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    at.to_offset(offset).format(format_description!("[hour]:[minute]:[second]")).ok()
}
