//! What `hookrelay trigger` prints for each event it sent: `sent TYPE → STATUS answer`, the
//! answer cut to one short line, or with `--json` a `sent` record with everything.

use std::borrow::Cow;
use std::time::Duration;

use hookrelay_sandbox::Event;
use hookrelay_sandbox::TriggerReply;
use serde::Serialize;
use serde_json::Value;

/// Longest answer text shown per event in the human output (the `--json` output has it all).
const ANSWER_PREVIEW: usize = 200;

/// The `--json` line of one sent event.
#[derive(Serialize)]
struct SentRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event_type: &'a str,
    to: &'a str,
    status: u16,
    latency_ms: u64,
    /// The answer body: its JSON when it is JSON, else its text.
    answer: Value,
    /// Exactly the bytes sent.
    request_body: Cow<'a, str>,
}

/// One output line (with its newline) for a sent event.
pub(crate) fn render(to: &str, event: &Event, reply: &TriggerReply, json: bool) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    if json {
        let record = SentRecord {
            kind: "sent",
            event_type: &event.event_type,
            to,
            status: reply.status,
            latency_ms: millis(reply.latency),
            answer: serde_json::from_slice(&reply.body)
                .unwrap_or_else(|_| Value::String(text.clone().into_owned())),
            request_body: String::from_utf8_lossy(&event.body),
        };
        return format!("{}\n", serde_json::to_string(&record).unwrap_or_default());
    }
    format!("sent {} → {} {}\n", event.event_type, reply.status, preview(&text))
}

/// The answer on one line, cut at [`ANSWER_PREVIEW`] characters.
fn preview(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(ANSWER_PREVIEW) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_line_and_bounded() {
        assert_eq!(preview("{\"id\":\"evt_1\",\n \"seq\":3}\n"), "{\"id\":\"evt_1\", \"seq\":3}");
        let long = "é".repeat(ANSWER_PREVIEW + 5);
        assert_eq!(preview(&long).chars().count(), ANSWER_PREVIEW + 1);
    }
}
