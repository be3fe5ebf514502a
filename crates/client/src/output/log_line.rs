//! The live log's lines for people (pure, so they are unit-tested without a terminal): one
//! per delivery, `17:02:11  POST /stripe invoice.paid  → 200  12ms  evt_k2qza9xm  #1`, the
//! response preview under it (`--show-response`), and the short event ids they show.

use hookrelay_proto::{Gap, GapReason, Outcome, SignatureCheck};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::output::queue::DeliveryLine;
use crate::output::style::{Tone, escape_controls, paint};

fn clock(at: OffsetDateTime, offset: UtcOffset) -> String {
    at.to_offset(offset).format(format_description!("[hour]:[minute]:[second]")).unwrap_or_default()
}

/// What a gap means for the user, after its seq range: `expired on the relay...`.
pub(crate) fn gap_text(gap: &Gap) -> String {
    let (range, is, was, them) = match gap.count() {
        1 => (format!("event seq {}", gap.from_seq), "is", "was", "it"),
        n => (
            format!("events seq {}–{} ({n} events)", gap.from_seq, gap.to_seq),
            "are",
            "were",
            "them",
        ),
    };
    match gap.reason {
        GapReason::Expired => format!(
            "{range} expired on the relay before any client received {them} \
             (--retention-age): acknowledged to the provider, never delivered"
        ),
        GapReason::Pruned => format!(
            "{range} {was} finished by another client (or an earlier run) and {is} gone \
             from the relay's history: not forwarded here"
        ),
        GapReason::Unexplained | GapReason::Unknown => {
            format!("{range} {is} missing from the relay's stream: never delivered")
        }
    }
}

/// The log line for a gap: red when events were lost, yellow when another client had them.
pub(crate) fn gap_line(gap: &Gap, at: OffsetDateTime, offset: UtcOffset, color: bool) -> String {
    let tone = if gap.reason.is_loss() { Tone::Red } else { Tone::Yellow };
    let clock = paint(&clock(at, offset), Tone::Dim, color);
    format!("{clock}  {}", paint(&format!("✗ {}", gap_text(gap)), tone, color))
}

/// The log line for one finished delivery.
pub(crate) fn delivery_line(line: &DeliveryLine, offset: UtcOffset, color: bool) -> String {
    let clock = clock(line.at, offset);
    let path = match (&line.query, line.path.as_str()) {
        (Some(query), path) => format!("{}?{query}", if path.is_empty() { "/" } else { path }),
        (None, "") => "/".to_owned(),
        (None, path) => path.to_owned(),
    };
    // Everything that came from the sender or the app is shown, never obeyed.
    let path = escape_controls(&path, false);
    let error = line.error.as_deref().map(|error| escape_controls(error, false));
    let mut text = if line.outcome == Outcome::Skipped && line.status.is_none() {
        // Skipped events are one dimmed line: present, in order, out of the way.
        let mut plain =
            format!("{clock}  {} {path}  → skipped  {}", line.method, short_id(&line.id));
        if let Some(reason) = &error {
            plain.push_str("  ");
            plain.push_str(reason);
        }
        paint(&plain, Tone::Dim, color)
    } else {
        attempted(line, &clock, &path, error.as_deref(), color)
    };
    if let Some(check) = &line.signature {
        text.push_str("  ");
        text.push_str(&signature_mark(check, color));
    }
    text
}

fn attempted(
    line: &DeliveryLine,
    clock: &str,
    path: &str,
    error: Option<&str>,
    color: bool,
) -> String {
    let (status, tone) = match line.status {
        Some(status) => (status.to_string(), status_tone(status)),
        None => ("ERR".to_owned(), Tone::Red),
    };
    let kind = match &line.event_type {
        Some(kind) => format!(" {}", paint(&escape_controls(kind, false), Tone::Cyan, color)),
        None => String::new(),
    };
    let mut text = format!(
        "{}  {} {}{kind}  → {}  {}ms  {}  seq {}",
        paint(clock, Tone::Dim, color),
        paint(&line.method, Tone::Bold, color),
        path,
        paint(&status, tone, color),
        line.latency_ms,
        paint(&short_id(&line.id), Tone::Dim, color),
        line.seq,
    );
    // The first attempt is the usual case and goes unsaid; a retried one says which of how many.
    if line.attempt > 1 || line.outcome == Outcome::Failed && line.max_attempts.is_some() {
        text.push_str("  ");
        text.push_str(&attempt_words(line.attempt, line.max_attempts));
    }
    if let Some(route) = &line.route {
        text.push_str("  ");
        text.push_str(&paint(&format!("via {route}"), Tone::Cyan, color));
    }
    if line.replay {
        text.push_str("  ");
        text.push_str(&paint("replay", Tone::Cyan, color));
    }
    if let Some(error) = error {
        text.push_str("  ");
        text.push_str(&paint(error, Tone::Red, color));
    }
    text
}

/// `attempt 2/5`, or `attempt 2` without a bound.
pub(crate) fn attempt_words(attempt: u32, max_attempts: Option<u32>) -> String {
    match max_attempts {
        Some(max) => format!("attempt {attempt}/{max}"),
        None => format!("attempt {attempt}"),
    }
}

/// `✓ stripe` (green) or `✗ stripe: timestamp too old: ...` (red).
pub(crate) fn signature_mark(check: &SignatureCheck, color: bool) -> String {
    match (&check.reason, check.valid) {
        (_, true) => paint(&format!("✓ {}", check.scheme), Tone::Green, color),
        (Some(reason), false) => paint(&format!("✗ {}: {reason}", check.scheme), Tone::Red, color),
        (None, false) => paint(&format!("✗ {}", check.scheme), Tone::Red, color),
    }
}

/// Lines shown under a delivery with `--show-response`.
pub(crate) const RESPONSE_LINES: usize = 5;

/// The first [`RESPONSE_LINES`] non-empty lines of a response preview, each indented and cut
/// to `width` characters (with `…` when cut), dimmed.
pub(crate) fn response_lines(preview: &str, width: usize, color: bool) -> Vec<String> {
    const INDENT: &str = "    ";
    let room = width.saturating_sub(INDENT.len()).max(8);
    preview
        .lines()
        .map(|line| line.trim_end().replace('\t', "  "))
        .filter(|line| !line.is_empty())
        .take(RESPONSE_LINES)
        .map(|line| {
            let shown = if line.chars().count() > room {
                let mut cut: String = line.chars().take(room - 1).collect();
                cut.push('…');
                cut
            } else {
                line
            };
            // Control characters from the app would move the cursor or recolor the log.
            let shown: String =
                shown.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
            format!("{INDENT}{}", paint(&shown, Tone::Dim, color))
        })
        .collect()
}

fn status_tone(status: u16) -> Tone {
    match status {
        200..=299 => Tone::Green,
        300..=399 => Tone::Cyan,
        400..=499 => Tone::Red,
        _ => Tone::Yellow,
    }
}

/// Characters of an event id's random part shown in the log: enough to tell events apart
/// and to type as a prefix (`hookrelay show evt_k2qza9xm`).
pub(crate) const SHORT_ID_CHARS: usize = 8;

/// `evt_` plus the first [`SHORT_ID_CHARS`] random characters: a prefix `show` and `replay`
/// accept, like an abbreviated git hash.
pub(crate) fn short_id(id: &str) -> String {
    match id.strip_prefix("evt_") {
        Some(rest) if rest.len() > SHORT_ID_CHARS => format!("evt_{}", &rest[..SHORT_ID_CHARS]),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: Option<u16>, outcome: Outcome, query: Option<&str>) -> DeliveryLine {
        DeliveryLine { query: query.map(Into::into), ..crate::test_support::line(outcome, status) }
    }

    #[test]
    fn renders_a_plain_delivery_line_without_ansi() {
        let text = delivery_line(&line(Some(200), Outcome::Delivered, None), UtcOffset::UTC, false);
        assert_eq!(text, "17:02:11  POST /stripe  → 200  12ms  evt_k2qza9xm  seq 3");
        let with_query =
            delivery_line(&line(Some(422), Outcome::Rejected, Some("a=1")), UtcOffset::UTC, false);
        assert!(with_query.contains("POST /stripe?a=1  → 422"), "{with_query}");
        let typed = DeliveryLine {
            event_type: Some("invoice.paid".into()),
            ..line(Some(200), Outcome::Delivered, None)
        };
        let text = delivery_line(&typed, UtcOffset::UTC, false);
        assert_eq!(text, "17:02:11  POST /stripe invoice.paid  → 200  12ms  evt_k2qza9xm  seq 3");
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
    fn retried_events_say_which_attempt_of_how_many() {
        let mut third = line(Some(200), Outcome::Delivered, None);
        (third.attempt, third.max_attempts) = (3, Some(5));
        let text = delivery_line(&third, UtcOffset::UTC, false);
        assert!(text.ends_with("seq 3  attempt 3/5"), "{text}");
        let mut gave_up = line(Some(500), Outcome::Failed, None);
        (gave_up.attempt, gave_up.max_attempts) = (5, Some(5));
        gave_up.error = Some("gave up after 5 attempts: the app answered 500".into());
        let text = delivery_line(&gave_up, UtcOffset::UTC, false);
        assert!(text.contains("→ 500  12ms  evt_k2qza9xm  seq 3  attempt 5/5  gave up"), "{text}");
        let unbounded = DeliveryLine { attempt: 2, ..line(Some(200), Outcome::Delivered, None) };
        let text = delivery_line(&unbounded, UtcOffset::UTC, false);
        assert!(text.ends_with("seq 3  attempt 2"), "{text}");
    }

    #[test]
    fn sender_data_cannot_reach_the_terminal_as_control_characters() {
        let hostile = DeliveryLine {
            path: "/x\u{1b}]0;pwned\u{7}".into(),
            event_type: Some("x\u{1b}[2J".into()),
            error: Some("bad\rthing".into()),
            ..line(None, Outcome::Failed, None)
        };
        let text = delivery_line(&hostile, UtcOffset::UTC, true);
        assert!(
            !text.contains("\u{1b}]") && !text.contains("\u{1b}[2J") && !text.contains('\r'),
            "{text:?}"
        );
        assert!(text.contains("/x\\x1b]0;pwned\\x07") && text.contains("x\\x1b[2J"), "{text:?}");
    }

    #[test]
    fn skipped_lines_are_one_dim_line_with_the_reason() {
        let mut skipped = line(None, Outcome::Skipped, None);
        skipped.error = Some("event type x does not match --events".into());
        let text = delivery_line(&skipped, UtcOffset::UTC, false);
        assert_eq!(
            text,
            "17:02:11  POST /stripe  → skipped  evt_k2qza9xm  event type x does not match --events"
        );
        let colored = delivery_line(&skipped, UtcOffset::UTC, true);
        assert!(colored.starts_with("\u{1b}[2m") && !colored.contains("\u{1b}[31m"), "{colored:?}");
    }

    #[test]
    fn signature_results_and_routes_follow_the_line() {
        let mut valid = line(Some(200), Outcome::Delivered, None);
        valid.route = Some("billing".into());
        valid.signature =
            Some(SignatureCheck { scheme: "stripe".into(), valid: true, reason: None });
        let text = delivery_line(&valid, UtcOffset::UTC, false);
        assert!(text.ends_with("seq 3  via billing  ✓ stripe"), "{text}");
        let mut invalid = line(Some(200), Outcome::Delivered, None);
        invalid.signature = Some(SignatureCheck {
            scheme: "github".into(),
            valid: false,
            reason: Some("header x-hub-signature-256 missing".into()),
        });
        let text = delivery_line(&invalid, UtcOffset::UTC, false);
        assert!(text.ends_with("seq 3  ✗ github: header x-hub-signature-256 missing"), "{text}");
        let colored = delivery_line(&invalid, UtcOffset::UTC, true);
        assert!(colored.contains("\u{1b}[31m✗ github"), "{colored:?}");
    }

    #[test]
    fn response_previews_keep_five_lines_cut_to_the_width() {
        let preview = format!("first\n\n{}\n3\n4\n5\n6\n", "x".repeat(300));
        let lines = response_lines(&preview, 40, false);
        assert_eq!(lines.len(), RESPONSE_LINES);
        assert_eq!(lines[0], "    first");
        assert_eq!(lines[1], format!("    {}…", "x".repeat(35)));
        assert_eq!(lines[1].chars().count(), 40);
        assert_eq!(lines[4], "    5");
        assert_eq!(response_lines("a\u{1b}[2Jb", 120, false), ["    a\u{fffd}[2Jb"]);
        assert!(response_lines("", 120, false).is_empty());
    }

    #[test]
    fn short_ids_are_typeable_prefixes() {
        assert_eq!(short_id("evt_abcdefgh234567abcdefgh2345"), "evt_abcdefgh");
        assert_eq!(short_id("custom"), "custom");
    }
}
