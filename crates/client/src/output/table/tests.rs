//! The events table, its size and state columns, and its JSON lines.

use hookrelay_proto::{DeliveryResult, Outcome};
use time::macros::datetime;

use super::*;
use crate::test_support::result;

fn summary(seq: u64, state: DeliveryState, status: Option<u16>) -> EventSummary {
    let at = datetime!(2026-01-02 17:02:11 UTC);
    EventSummary {
        id: format!("evt_k2qza9xm{seq:0>18}"),
        seq,
        received_at_ms: i64::try_from(at.unix_timestamp_nanos() / 1_000_000).expect("fits"),
        method: "POST".into(),
        path: "/stripe".into(),
        query: None,
        size: 1536,
        event_type: Some("invoice.paid".into()),
        state,
        last_result: status.map(|status| {
            let outcome = if status < 400 { Outcome::Delivered } else { Outcome::Rejected };
            DeliveryResult { latency_ms: 3, ..result(outcome, Some(status)) }
        }),
    }
}

#[test]
fn table_aligns_columns_and_names_states() {
    let rows = [
        summary(1, DeliveryState::Delivered, Some(200)),
        summary(12, DeliveryState::Rejected, Some(404)),
        summary(13, DeliveryState::Pending, None),
    ];
    let now = datetime!(2026-01-02 18:00:00 UTC);
    let text = table(&rows, &[], UtcOffset::UTC, now, false, Some(100));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "SEQ  ID            RECEIVED  METHOD  PATH     TYPE          SIZE     STATE",
            "  1  evt_k2qza9xm  17:02:11  POST    /stripe  invoice.paid  1.5 KiB  delivered 200",
            " 12  evt_k2qza9xm  17:02:11  POST    /stripe  invoice.paid  1.5 KiB  rejected 404",
            " 13  evt_k2qza9xm  17:02:11  POST    /stripe  invoice.paid  1.5 KiB  pending",
        ]
    );
    assert!(!text.contains('\u{1b}'));
    assert!(table(&rows, &[], UtcOffset::UTC, now, true, Some(100)).contains('\u{1b}'));
}

#[test]
fn older_events_show_their_date_and_long_cells_are_cut_to_fit() {
    let mut row = summary(1, DeliveryState::Skipped, None);
    row.path = format!("/{}", "very-long-segment/".repeat(8));
    row.event_type = Some("a.very.long.event.type.name.that.goes.on.and.on".into());
    let now = datetime!(2026-01-05 09:00:00 UTC);
    for width in [80, 120] {
        let text = table(&[row.clone()], &[], UtcOffset::UTC, now, false, Some(width));
        let line = text.lines().nth(1).expect("a row");
        assert!(line.contains("2026-01-02 17:02"), "{line}");
        assert!(line.contains('…'), "{line}");
        assert!(line.chars().count() <= width, "{} chars: {line}", line.chars().count());
        assert!(line.ends_with("skipped"), "{line}");
    }
}

#[test]
fn without_a_width_nothing_is_cut() {
    let mut row = summary(1, DeliveryState::Delivered, Some(200));
    row.path = format!("/{}", "very-long-segment/".repeat(8));
    row.event_type = Some("connectivity.restored.after.a.very.long.outage.of.the.network".into());
    let now = datetime!(2026-01-02 18:00:00 UTC);
    let text = table(&[row.clone()], &[], UtcOffset::UTC, now, false, None);
    assert!(!text.contains('…'), "{text}");
    assert!(text.contains(&row.path), "{text}");
    assert!(
        text.contains("connectivity.restored.after.a.very.long.outage.of.the.network"),
        "{text}"
    );
}

#[test]
fn sizes_and_json_lines() {
    assert_eq!(size(0), "0 B");
    assert_eq!(size(1023), "1023 B");
    assert_eq!(size(25 * 1024 * 1024), "25.0 MiB");
    let line = json_line(&summary(3, DeliveryState::Delivered, Some(200)));
    assert!(line.starts_with(r#"{"id":"evt_"#), "fields keep their order: {line}");
    let value: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(value["seq"], 3);
    assert_eq!(value["event_type"], "invoice.paid");
    assert_eq!(value["state"], "delivered");
    assert_eq!(value["received_at"], "2026-01-02T17:02:11Z");
}

#[test]
fn expired_runs_come_first_as_rows_of_their_own() {
    use hookrelay_proto::{Gap, GapReason};
    let gaps = [Gap { from_seq: 1, to_seq: 11, reason: GapReason::Expired }];
    let rows = [summary(12, DeliveryState::Pending, None)];
    let now = datetime!(2026-01-02 18:00:00 UTC);
    let text = table(&rows, &gaps, UtcOffset::UTC, now, false, None);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "1–11  expired before delivery: 11 events lost");
    assert!(lines[2].starts_with("  12  evt_k2qza9xm"), "{text}");
}
