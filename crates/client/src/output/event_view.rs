//! The human view of one event (pure, unit-tested): request line, facts, headers (masked
//! unless revealed), body via `body::render`, then every delivery attempt with the first
//! lines of the local app's answer.

use hookrelay_proto::{DeliveryResult, DeliveryState, EventDetail, Outcome};
use time::UtcOffset;
use time::macros::format_description;

use crate::output::log_line::attempt_words;
use crate::output::mask::display_value;
use crate::output::style::{Tone, escape_controls, paint};
use crate::output::table::state_tone;

/// Lines of the local app's response shown per delivery.
const RESPONSE_LINES: usize = 5;

/// The whole view, ending with a newline.
pub(crate) fn render(detail: &EventDetail, offset: UtcOffset, reveal: bool, color: bool) -> String {
    let event = &detail.event;
    let bold = |text: &str| paint(text, Tone::Bold, color);
    let mut out = String::new();
    let path = if event.path.is_empty() { "/" } else { &event.path };
    let query = event.query.as_ref().map(|q| format!("?{q}")).unwrap_or_default();
    let request = escape_controls(&format!("{path}{query}"), false).into_owned();
    out.push_str(&format!("{} {request}\n", bold(&event.method)));
    let received = local_time(event.received_at_ms, offset, true).unwrap_or_else(|| "?".into());
    let fact = |label: &str, value: &str| format!("{}  {value}\n", paint(label, Tone::Dim, color));
    out.push_str(&fact("id      ", &format!("{}  (seq {})", event.id, event.seq)));
    out.push_str(&fact("received", &received));
    if let Some(kind) = hookrelay_proto::event_type(&event.body) {
        out.push_str(&fact("type    ", &escape_controls(&kind, false)));
    }
    out.push_str(&fact(
        "state   ",
        &paint(state_word(detail.state), state_tone(detail.state), color),
    ));
    out.push('\n');
    for (name, value) in &event.headers {
        let shown = escape_controls(&display_value(name, value, reveal), false).into_owned();
        out.push_str(&format!("{}: {shown}\n", paint(name, Tone::Cyan, color)));
    }
    out.push('\n');
    let body = crate::output::body::render(event.header("content-type"), &event.body, color);
    if body.is_empty() {
        out.push_str(&paint("(no body)", Tone::Dim, color));
        out.push('\n');
    } else {
        out.push_str(&body);
    }
    out.push('\n');
    if detail.deliveries.is_empty() {
        out.push_str(&format!("{}  none yet\n", bold("deliveries")));
    } else {
        out.push_str(&format!("{} ({})\n", bold("deliveries"), detail.deliveries.len()));
        for (index, result) in detail.deliveries.iter().enumerate() {
            out.push_str(&delivery(index + 1, result, offset, reveal, color));
        }
    }
    out
}

/// A relay timestamp in local time: the full date and offset, or just the time of day.
fn local_time(ms: i64, offset: UtcOffset, full: bool) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    let at = at.to_offset(offset);
    if full {
        at.format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3] \
             [offset_hour sign:mandatory]:[offset_minute]"
        ))
        .ok()
    } else {
        at.format(format_description!("[hour]:[minute]:[second]")).ok()
    }
}

fn state_word(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Rejected => "rejected",
        DeliveryState::Failed => "failed",
        DeliveryState::Skipped => "skipped",
    }
}

/// `  1. → 200  12ms  delivered  attempt 1  replay`, then where it went, the error, the
/// response head (secrets masked unless `reveal`), the signature check and the answer.
fn delivery(
    number: usize,
    result: &DeliveryResult,
    offset: UtcOffset,
    reveal: bool,
    color: bool,
) -> String {
    let (status, tone) = match (result.status, result.outcome) {
        (Some(status), Outcome::Delivered) => (status.to_string(), Tone::Green),
        (Some(status), Outcome::Rejected) => (status.to_string(), Tone::Red),
        (Some(status), _) => (status.to_string(), Tone::Yellow),
        (None, Outcome::Skipped) => ("skipped".to_owned(), Tone::Dim),
        (None, _) => ("ERR".to_owned(), Tone::Red),
    };
    let outcome = match result.outcome {
        _ if result.will_retry => "retried",
        Outcome::Delivered => "delivered",
        Outcome::Rejected => "rejected",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    };
    let at = result
        .recorded_at_ms
        .and_then(|ms| local_time(ms, offset, false))
        .map(|at| format!("{}  ", paint(&at, Tone::Dim, color)))
        .unwrap_or_default();
    let mut out = format!(
        "  {number}. {at}→ {}  {}ms  {outcome}  {}",
        paint(&status, tone, color),
        result.latency_ms,
        attempt_words(result.attempt, result.max_attempts),
    );
    let resigned = result.resigned.as_ref().map(|scheme| format!("re-signed {scheme}"));
    let marks = [
        result.replay.then(|| "replay".to_owned()),
        result.edited.then(|| "edited".to_owned()),
        resigned,
    ];
    for mark in marks.into_iter().flatten() {
        out.push_str(&format!("  {}", paint(&mark, Tone::Cyan, color)));
    }
    out.push('\n');
    if let Some(target) = &result.target {
        let target = escape_controls(target, false);
        out.push_str(&format!("     {} {target}\n", paint("to", Tone::Dim, color)));
    }
    if let Some(error) = &result.error {
        out.push_str(&format!(
            "     {}\n",
            paint(&escape_controls(error, false), Tone::Red, color)
        ));
    }
    for (name, value) in &result.response_headers {
        let shown = format!("{name}: {}", display_value(name, value, reveal));
        let shown = escape_controls(&shown, false);
        out.push_str(&format!("     {}\n", paint(&shown, Tone::Dim, color)));
    }
    if let Some(check) = &result.signature {
        let (mark, tone) = if check.valid { ("✓", Tone::Green) } else { ("✗", Tone::Red) };
        let reason = check.reason.as_deref().map(|r| format!(" {r}")).unwrap_or_default();
        out.push_str(&format!(
            "     signature {} {}{reason}\n",
            paint(mark, tone, color),
            check.scheme
        ));
    }
    if let Some(response) = result.response.as_deref().filter(|text| !text.is_empty()) {
        let lines: Vec<&str> = response.lines().collect();
        for line in lines.iter().take(RESPONSE_LINES) {
            let line = escape_controls(line, false);
            out.push_str(&format!("     {} {line}\n", paint("│", Tone::Dim, color)));
        }
        if lines.len() > RESPONSE_LINES {
            let more = format!("… {} more lines", lines.len() - RESPONSE_LINES);
            out.push_str(&format!("     {}\n", paint(&more, Tone::Dim, color)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use hookrelay_proto::{Event, SignatureCheck};

    use super::*;

    fn detail() -> EventDetail {
        let result = DeliveryResult {
            latency_ms: 12,
            response: Some("line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7".into()),
            signature: Some(SignatureCheck {
                scheme: "stripe".into(),
                valid: false,
                reason: Some("timestamp too old".into()),
            }),
            ..crate::test_support::result(Outcome::Rejected, Some(422))
        };
        let replayed = DeliveryResult {
            outcome: Outcome::Delivered,
            status: Some(200),
            response: None,
            signature: None,
            replay: true,
            recorded_at_ms: Some(1_767_373_391_000),
            ..result.clone()
        };
        EventDetail {
            event: Event {
                id: "evt_k2qza9xmk2qza9xmk2qza9xmk2".into(),
                seq: 7,
                received_at_ms: 1_767_373_331_250,
                method: "POST".into(),
                path: "/stripe".into(),
                query: Some("a=1".into()),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("authorization".into(), "Bearer sk_live_123".into()),
                    ("stripe-signature".into(), "t=1,v1=abc".into()),
                ],
                body: Bytes::from_static(br#"{"type":"invoice.paid","n":1}"#),
            },
            state: DeliveryState::Delivered,
            deliveries: vec![result, replayed],
        }
    }

    #[test]
    fn shows_request_masked_headers_body_and_deliveries() {
        let text = render(&detail(), UtcOffset::UTC, false, false);
        let expected = "POST /stripe?a=1
id        evt_k2qza9xmk2qza9xmk2qza9xmk2  (seq 7)
received  2026-01-02 17:02:11.250 +00:00
type      invoice.paid
state     delivered

content-type: application/json
authorization: Bearer •••••• (11 chars hidden)
stripe-signature: •••••• (10 chars hidden)

{
  \"type\": \"invoice.paid\",
  \"n\": 1
}

deliveries (2)
  1. → 422  12ms  rejected  attempt 1
     signature ✗ stripe timestamp too old
     │ line 1
     │ line 2
     │ line 3
     │ line 4
     │ line 5
     … 2 more lines
  2. 17:03:11  → 200  12ms  delivered  attempt 1  replay
";
        assert_eq!(text, expected);
    }

    #[test]
    fn reveal_shows_secrets_and_color_adds_ansi() {
        let text = render(&detail(), UtcOffset::UTC, true, false);
        assert!(text.contains("authorization: Bearer sk_live_123"), "{text}");
        assert!(text.contains("stripe-signature: t=1,v1=abc"), "{text}");
        assert!(render(&detail(), UtcOffset::UTC, false, true).contains('\u{1b}'));
    }

    #[test]
    fn pending_events_without_body_say_so() {
        let mut detail = detail();
        detail.event.body = Bytes::new();
        detail.deliveries.clear();
        detail.state = DeliveryState::Pending;
        let text = render(&detail, UtcOffset::UTC, false, false);
        assert!(text.contains("(no body)\n\ndeliveries  none yet\n"), "{text}");
        assert!(text.contains("state     pending"), "{text}");
    }
}
