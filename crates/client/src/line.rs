//! Formatting of one human log line (pure, so it is unit-tested without a terminal):
//! `17:02:11  POST /stripe  → 200  12ms  evt_…7K2QZA  #1`.

use hookrelay_proto::Outcome;
use owo_colors::{OwoColorize as _, Style};
use time::UtcOffset;
use time::macros::format_description;

use crate::ui::DeliveryLine;

/// A color role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Success.
    Green,
    /// Rejected / failed.
    Red,
    /// Retrying / waiting.
    Yellow,
    /// Redirects, URLs.
    Cyan,
    /// Secondary text.
    Dim,
    /// Labels.
    Bold,
}

/// `text` in `tone` when `color` is on, unchanged otherwise.
pub fn paint(text: &str, tone: Tone, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let style = match tone {
        Tone::Green => Style::new().green(),
        Tone::Red => Style::new().red(),
        Tone::Yellow => Style::new().yellow(),
        Tone::Cyan => Style::new().cyan(),
        Tone::Dim => Style::new().dimmed(),
        Tone::Bold => Style::new().bold(),
    };
    text.style(style).to_string()
}

/// The log line for one finished delivery.
pub fn delivery_line(line: &DeliveryLine, offset: UtcOffset, color: bool) -> String {
    let clock = line
        .at
        .to_offset(offset)
        .format(format_description!("[hour]:[minute]:[second]"))
        .unwrap_or_default();
    let path = match (&line.query, line.path.as_str()) {
        (Some(query), path) => format!("{}?{query}", if path.is_empty() { "/" } else { path }),
        (None, "") => "/".to_owned(),
        (None, path) => path.to_owned(),
    };
    let (status, tone) = match (line.status, line.outcome) {
        (Some(status), _) => (status.to_string(), status_tone(status)),
        (None, Outcome::Skipped) => ("skipped".to_owned(), Tone::Dim),
        (None, _) => ("ERR".to_owned(), Tone::Red),
    };
    let mut text = format!(
        "{}  {} {}  → {}  {}ms  {}  #{}",
        paint(&clock, Tone::Dim, color),
        paint(&line.method, Tone::Bold, color),
        path,
        paint(&status, tone, color),
        line.latency_ms,
        paint(&short_id(&line.id), Tone::Dim, color),
        line.attempt,
    );
    if let Some(error) = &line.error {
        text.push_str("  ");
        text.push_str(&paint(error, Tone::Red, color));
    }
    text
}

fn status_tone(status: u16) -> Tone {
    match status {
        200..=299 => Tone::Green,
        300..=399 => Tone::Cyan,
        400..=499 => Tone::Red,
        _ => Tone::Yellow,
    }
}

/// `evt_` plus the last six characters: ULID prefixes are timestamps and repeat within a
/// burst, the tail is random and tells events apart.
pub fn short_id(id: &str) -> String {
    match id.strip_prefix("evt_") {
        Some(rest) if rest.len() > 8 => format!("evt_…{}", &rest[rest.len() - 6..]),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: Option<u16>, outcome: Outcome, query: Option<&str>) -> DeliveryLine {
        DeliveryLine {
            at: time::macros::datetime!(2026-01-02 17:02:11 UTC),
            id: "evt_01JD0000000000000000K2QZA9".into(),
            seq: 3,
            method: "POST".into(),
            path: "/stripe".into(),
            query: query.map(Into::into),
            outcome,
            status,
            latency_ms: 12,
            attempt: 1,
            error: None,
        }
    }

    #[test]
    fn renders_a_plain_delivery_line_without_ansi() {
        let text = delivery_line(&line(Some(200), Outcome::Delivered, None), UtcOffset::UTC, false);
        assert_eq!(text, "17:02:11  POST /stripe  → 200  12ms  evt_…K2QZA9  #1");
        let with_query =
            delivery_line(&line(Some(422), Outcome::Rejected, Some("a=1")), UtcOffset::UTC, false);
        assert!(with_query.contains("POST /stripe?a=1  → 422"), "{with_query}");
        assert!(!with_query.contains('\u{1b}'));
    }

    #[test]
    fn colored_lines_carry_ansi_and_failures_show_the_error() {
        let colored =
            delivery_line(&line(Some(500), Outcome::Delivered, None), UtcOffset::UTC, true);
        assert!(colored.contains('\u{1b}'), "{colored:?}");
        let mut failed = line(None, Outcome::Failed, None);
        failed.error = Some("bad method".into());
        let text = delivery_line(&failed, UtcOffset::UTC, false);
        assert!(text.contains("→ ERR") && text.ends_with("bad method"), "{text}");
    }

    #[test]
    fn short_ids_keep_the_random_tail() {
        assert_eq!(short_id("evt_01JD0000000000000000ABCDEF"), "evt_…ABCDEF");
        assert_eq!(short_id("custom"), "custom");
    }
}
