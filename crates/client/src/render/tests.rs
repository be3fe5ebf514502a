//! Renderer output in each mode, and what a closed stdout does.

use std::sync::{Arc, Mutex};

use hookrelay_proto::Outcome;

use super::*;

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
            forward_to: "http://localhost:3000/".into(),
            relay: "embedded".into(),
        },
        UiEvent::Reconnecting {
            reason: "could not reach the relay: connection refused".into(),
            delay: Duration::from_millis(250),
            attempt: 1,
        },
        UiEvent::Delivery(DeliveryLine {
            at: time::macros::datetime!(2026-01-02 17:02:11 UTC),
            id: "evt_01JD0000000000000000ABCDEF".into(),
            seq: 1,
            method: "POST".into(),
            path: "/stripe".into(),
            query: None,
            outcome: Outcome::Delivered,
            status: Some(200),
            latency_ms: 12,
            attempt: 1,
            error: None,
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
    assert!(out.ends_with("17:02:11  POST /stripe  → 200  12ms  evt_…ABCDEF  #1\n"), "{out}");
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
