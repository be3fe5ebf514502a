//! What `hookrelay events` prints: a channel's history, newest last, as aligned columns
//! (seq, short id, time, method, path, event type, size, delivery state in color) as wide as
//! they need, or, on a terminal, cut to its width; for `--json`, one object per line; and the state colors `show` uses too. Runs of events the
//! relay expired before delivery come first, as rows of their own: history never hides a
//! loss.

use hookrelay_proto::{DeliveryState, EventSummary, Gap};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::output::log_line::short_id;
use crate::output::style::{Tone, escape_controls, paint};

/// The narrowest the path and type columns shrink to.
const MIN_FLEX_WIDTH: usize = 5;

/// The `--json` record of one event: the relay's summary, in its field order, plus
/// `received_at` as RFC 3339.
pub(crate) fn json_line(summary: &EventSummary) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        #[serde(flatten)]
        summary: &'a EventSummary,
        received_at: Option<String>,
    }
    let received_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(summary.received_at_ms) * 1_000_000)
            .ok()
            .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok());
    serde_json::to_string(&Line { summary, received_at }).expect("summaries serialize")
}

/// The aligned table, header row first, expired runs (`gaps`, older than every listed
/// event) before the events. Times are local (`offset`); events from before today also
/// show their date. With a `width` (a terminal's), the path and type columns shrink (with
/// `…`) so rows fit it; without one (a pipe, a file) nothing is ever cut, so `grep` finds
/// every type and path whole.
pub(crate) fn table(
    summaries: &[EventSummary],
    gaps: &[Gap],
    offset: UtcOffset,
    now: OffsetDateTime,
    color: bool,
    width: Option<usize>,
) -> String {
    let today = now.to_offset(offset).date();
    let rows: Vec<[String; 8]> = summaries
        .iter()
        .map(|summary| {
            let path = match &summary.query {
                Some(query) => format!("{}?{query}", display_path(&summary.path)),
                None => display_path(&summary.path).to_owned(),
            };
            let path = escape_controls(&path, false).into_owned();
            [
                summary.seq.to_string(),
                short_id(&summary.id),
                clock(summary.received_at_ms, offset, today),
                summary.method.clone(),
                path,
                summary
                    .event_type
                    .as_deref()
                    .map_or_else(|| "-".into(), |kind| escape_controls(kind, false).into_owned()),
                size(summary.size),
                state_text(summary),
            ]
        })
        .collect();
    let header = ["SEQ", "ID", "RECEIVED", "METHOD", "PATH", "TYPE", "SIZE", "STATE"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    let gap_seqs: Vec<String> =
        gaps.iter().map(|gap| format!("{}–{}", gap.from_seq, gap.to_seq)).collect();
    for seqs in &gap_seqs {
        widths[0] = widths[0].max(seqs.chars().count());
    }
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    if let Some(width) = width {
        shrink_to_fit(&mut widths, width);
    }
    let mut out = String::new();
    let head: Vec<String> = header.iter().zip(&widths).map(|(h, w)| pad(h, *w, false)).collect();
    out.push_str(&paint(head.join("  ").trim_end(), Tone::Bold, color));
    out.push('\n');
    for (gap, seqs) in gaps.iter().zip(&gap_seqs) {
        let what = format!("expired before delivery: {} events lost", gap.count());
        out.push_str(&format!(
            "{}  {}\n",
            pad(seqs, widths[0], true),
            paint(&what, Tone::Red, color)
        ));
    }
    for (row, summary) in rows.iter().zip(summaries) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, width))| {
                let text = pad(&truncate(cell, *width), *width, matches!(column, 0 | 6));
                match column {
                    1 | 2 => paint(&text, Tone::Dim, color),
                    7 => paint(&text, state_tone(summary.state), color),
                    _ => text,
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Narrows the path (4) and type (5) columns, widest first, until a row fits `max`.
fn shrink_to_fit(widths: &mut [usize], max: usize) {
    let total = |widths: &[usize]| widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    while total(widths) > max {
        let column = if widths[4] >= widths[5] { 4 } else { 5 };
        if widths[column] <= MIN_FLEX_WIDTH {
            break;
        }
        widths[column] -= 1;
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn clock(received_at_ms: i64, offset: UtcOffset, today: time::Date) -> String {
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(received_at_ms) * 1_000_000)
    else {
        return "?".into();
    };
    let at = at.to_offset(offset);
    let format = if at.date() == today {
        format_description!("[hour]:[minute]:[second]").to_vec()
    } else {
        format_description!("[year]-[month]-[day] [hour]:[minute]").to_vec()
    };
    at.format(&format).unwrap_or_default()
}

/// `312 B`, `1.5 KiB`, `25.0 MiB`.
pub(crate) fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if value < KIB * KIB {
        format!("{:.1} KiB", value / KIB)
    } else {
        format!("{:.1} MiB", value / (KIB * KIB))
    }
}

/// `delivered 200`, `rejected 404`, `failed`, `pending`, `skipped`; `(replay)` when the last
/// result came from `hookrelay replay`.
pub(crate) fn state_text(summary: &EventSummary) -> String {
    let word = match summary.state {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Rejected => "rejected",
        DeliveryState::Failed => "failed",
        DeliveryState::Skipped => "skipped",
    };
    let mut text = word.to_owned();
    if let Some(result) = &summary.last_result {
        if let Some(status) = result.status {
            text.push_str(&format!(" {status}"));
        }
        if result.replay {
            text.push_str(" (replay)");
        }
    }
    text
}

/// The state's color: green delivered, red rejected, yellow failed, cyan pending, dim skipped.
pub(crate) fn state_tone(state: DeliveryState) -> Tone {
    match state {
        DeliveryState::Delivered => Tone::Green,
        DeliveryState::Rejected => Tone::Red,
        DeliveryState::Failed => Tone::Yellow,
        DeliveryState::Pending => Tone::Cyan,
        DeliveryState::Skipped => Tone::Dim,
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(width.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

fn pad(text: &str, width: usize, right_align: bool) -> String {
    if right_align { format!("{text:>width$}") } else { format!("{text:<width$}") }
}

#[cfg(test)]
mod tests;
