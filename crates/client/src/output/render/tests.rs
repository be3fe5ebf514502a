//! Renderer output in each mode, and what a closed stdout does.

use std::sync::{Arc, Mutex};

use hookrelay_proto::Outcome;

use super::*;
use crate::output::queue::DeliveryLine;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("utf-8")
    }
}

struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn events() -> Vec<UiEvent> {
    vec![
        UiEvent::Notice("created channel ch_1".into()),
        UiEvent::Ready {
            channel: "ch_1".into(),
            ingest_url: "http://127.0.0.1:8787/h/ch_1".into(),
            forward_to: Some("http://localhost:3000/".into()),
            routes: vec![],
            relay: "embedded".into(),
        },
        UiEvent::Reconnecting {
            reason: "could not reach the relay: connection refused".into(),
            delay: Duration::from_millis(250),
            attempt: 1,
        },
        UiEvent::Delivery(DeliveryLine {
            id: "evt_abcdefghabcdefghabcdefgh".into(),
            seq: 1,
            ..crate::test_support::line(Outcome::Delivered, Some(200))
        }),
    ]
}

fn render_all(mode: Mode) -> (String, String) {
    let (out, err) = (Buffer::default(), Buffer::default());
    let mut renderer =
        Renderer::new(mode, Box::new(out.clone()), Box::new(err.clone()), UtcOffset::UTC);
    for event in events() {
        renderer.render(&event).expect("written");
    }
    (out.text(), err.text())
}

#[test]
fn json_mode_prints_only_records_on_stdout() {
    let (out, err) = render_all(Mode::Json);
    let records: Vec<serde_json::Value> =
        out.lines().map(|line| serde_json::from_str(line).expect("one JSON per line")).collect();
    assert_eq!(records.len(), 2, "{out}");
    assert_eq!(
        records[0],
        json!({"type": "ready", "channel": "ch_1", "ingest_url": "http://127.0.0.1:8787/h/ch_1",
               "forward_to": "http://localhost:3000/"})
    );
    for key in ["id", "seq", "method", "path", "status", "attempt", "latency_ms", "outcome"] {
        assert!(records[1].get(key).is_some(), "missing {key}: {}", records[1]);
    }
    assert_eq!(records[1]["type"], "delivery");
    assert_eq!(records[1]["outcome"], "delivered");
    assert!(err.contains("created channel ch_1") && err.contains("reconnecting in 0.2s"));
}

#[test]
fn plain_human_mode_has_no_ansi_and_shows_state_changes() {
    let (out, err) = render_all(Mode::Human { color: false });
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(err.is_empty());
    assert!(out.contains("ingest URL  http://127.0.0.1:8787/h/ch_1"), "{out}");
    assert!(out.contains("connection refused; reconnecting in 0.2s (attempt 1)"), "{out}");
    assert!(out.ends_with("17:02:11  POST /stripe  → 200  12ms  evt_abcdefgh  seq 1\n"), "{out}");
}

#[test]
fn a_closed_stdout_stops_rendering_and_asks_for_shutdown() {
    let renderer =
        Renderer::new(Mode::Json, Box::new(ClosedPipe), Box::new(io::sink()), UtcOffset::UTC);
    let (tx, rx) = mpsc::channel(4);
    for event in events() {
        tx.try_send(event).expect("room");
    }
    let closed = CancellationToken::new();
    renderer.run_blocking(rx, closed.clone());
    assert!(closed.is_cancelled());
}

fn delivered() -> DeliveryLine {
    let UiEvent::Delivery(line) = events().pop().expect("events") else { panic!("not last") };
    line
}

#[test]
fn json_records_carry_signature_route_and_response_only_when_present() {
    let plain = delivery_json(&delivered());
    for key in ["signature", "route", "response"] {
        assert!(plain.get(key).is_none(), "{key} in {plain}");
    }
    let mut line = delivered();
    line.signature = Some(hookrelay_proto::SignatureCheck {
        scheme: "stripe".into(),
        valid: false,
        reason: Some("signature mismatch (wrong secret?)".into()),
    });
    line.route = Some("billing".into());
    line.response = Some("ok\n".into());
    let record = delivery_json(&line);
    assert_eq!(
        record["signature"],
        json!({"scheme": "stripe", "valid": false, "reason": "signature mismatch (wrong secret?)"})
    );
    assert_eq!(
        (record["route"].as_str(), record["response"].as_str()),
        (Some("billing"), Some("ok\n"))
    );
}

#[test]
fn human_mode_prints_the_response_preview_under_the_line_and_json_mode_does_not() {
    let mut line = delivered();
    line.response = Some("Traceback (most recent call last):\n  File \"app.py\"\n".into());
    for (mode, lines) in [(Mode::Human { color: false }, 3), (Mode::Json, 1)] {
        let out = Buffer::default();
        let mut renderer =
            Renderer::new(mode, Box::new(out.clone()), Box::new(io::sink()), UtcOffset::UTC);
        renderer.render(&UiEvent::Delivery(line.clone())).expect("written");
        let text = out.text();
        assert_eq!(text.lines().count(), lines, "{text}");
        if lines == 3 {
            assert!(
                text.ends_with(
                    "seq 1\n    Traceback (most recent call last):\n      File \"app.py\"\n"
                ),
                "{text:?}"
            );
        }
    }
}

#[test]
fn routes_are_listed_in_the_header_and_the_ready_record() {
    let ready = UiEvent::Ready {
        channel: "ch_1".into(),
        ingest_url: "http://127.0.0.1:8787/h/ch_1".into(),
        forward_to: None,
        routes: vec![("billing".into(), "http://localhost:3000/".into())],
        relay: "embedded".into(),
    };
    let (out, json_out) = (Buffer::default(), Buffer::default());
    let human = Mode::Human { color: false };
    Renderer::new(human, Box::new(out.clone()), Box::new(io::sink()), UtcOffset::UTC)
        .render(&ready)
        .expect("written");
    assert!(out.text().contains("billing → http://localhost:3000/"), "{}", out.text());
    assert!(out.text().contains("no route matches are skipped"), "{}", out.text());
    Renderer::new(Mode::Json, Box::new(json_out.clone()), Box::new(io::sink()), UtcOffset::UTC)
        .render(&ready)
        .expect("written");
    let record: serde_json::Value = serde_json::from_str(json_out.text().trim()).expect("JSON");
    assert_eq!(record["forward_to"], serde_json::Value::Null);
    assert_eq!(record["routes"], json!([{"name": "billing", "to": "http://localhost:3000/"}]));
}

#[test]
fn gaps_are_an_error_line_and_a_json_record() {
    use hookrelay_proto::{Gap, GapReason};
    let at = time::macros::datetime!(2026-01-02 17:02:11 UTC);
    let expired = Gap { from_seq: 51, to_seq: 1500, reason: GapReason::Expired };
    let pruned = Gap { from_seq: 7, to_seq: 7, reason: GapReason::Pruned };
    let (out, err) = (Buffer::default(), Buffer::default());
    let mut human = Renderer::new(
        Mode::Human { color: false },
        Box::new(out.clone()),
        Box::new(err),
        UtcOffset::UTC,
    );
    human.render(&UiEvent::Gap { at, gap: expired.clone() }).expect("written");
    human.render(&UiEvent::Gap { at, gap: pruned }).expect("written");
    assert_eq!(
        out.text(),
        "17:02:11  ✗ events seq 51–1500 (1450 events) expired on the relay before any client \
         received them (--retention-age): acknowledged to the provider, never delivered\n\
         17:02:11  ✗ event seq 7 was finished by another client (or an earlier run) and is gone \
         from the relay's history: not forwarded here\n"
    );

    let (out, err) = (Buffer::default(), Buffer::default());
    let mut json =
        Renderer::new(Mode::Json, Box::new(out.clone()), Box::new(err.clone()), UtcOffset::UTC);
    json.render(&UiEvent::Gap { at, gap: expired }).expect("written");
    let record: serde_json::Value = serde_json::from_str(out.text().trim()).expect("one record");
    assert_eq!(
        record,
        serde_json::json!({"type": "gap", "from_seq": 51, "to_seq": 1500, "count": 1450, "reason": "expired"})
    );
    assert!(
        err.text().starts_with("hookrelay: error: events seq 51–1500 (1450 events) expired"),
        "{}",
        err.text()
    );
}

#[test]
fn on_a_terminal_a_retried_event_is_one_line_and_piped_each_attempt_is_a_line() {
    let mut retried = delivered();
    (retried.status, retried.outcome, retried.attempt, retried.max_attempts) =
        (Some(503), Outcome::Failed, 1, Some(5));
    let retrying = UiEvent::Retrying { line: retried, delay: Duration::from_millis(200) };
    let done = UiEvent::Delivery(DeliveryLine { attempt: 2, max_attempts: Some(5), ..delivered() });
    for (color, lines) in [(true, 1), (false, 2)] {
        let out = Buffer::default();
        let mut renderer = Renderer::new(
            Mode::Human { color },
            Box::new(out.clone()),
            Box::new(io::sink()),
            UtcOffset::UTC,
        );
        renderer.render(&retrying).expect("written");
        renderer.render(&done).expect("written");
        let text = out.text();
        assert_eq!(text.lines().count(), lines, "{text}");
        assert!(text.contains("seq 1  attempt 2/5"), "{text}");
        if !color {
            assert!(
                text.starts_with(
                    "17:02:11  POST /stripe  → 503  12ms  evt_abcdefgh  seq 1  attempt 1/5  retrying in 0.2s\n"
                ),
                "{text}"
            );
        }
    }
}

#[test]
fn stopping_prints_what_happened_and_where_the_next_run_resumes() {
    let out = Buffer::default();
    let mut renderer = Renderer::new(
        Mode::Human { color: false },
        Box::new(out.clone()),
        Box::new(io::sink()),
        UtcOffset::UTC,
    );
    for outcome in [Outcome::Delivered, Outcome::Delivered, Outcome::Skipped, Outcome::Failed] {
        renderer
            .render(&UiEvent::Delivery(DeliveryLine { outcome, ..delivered() }))
            .expect("written");
    }
    renderer.render(&UiEvent::Stopped { in_flight: 2, resume_after: 9 }).expect("written");
    assert!(
        out.text().ends_with(
            "stopped: 2 delivered, 1 failed, 0 rejected, 1 skipped, 2 in flight (sent again \
             next run); the next run resumes after seq 9\n"
        ),
        "{}",
        out.text()
    );
}
