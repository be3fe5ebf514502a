//! What `hookrelay listen --json` says became of each event, read from its stdout: which
//! `seq`s it finished and how many it reported lost in `gap` records. An end-to-end run
//! compares that with what the relay acknowledged, so an event that is acked but neither
//! delivered nor reported fails the measurement instead of passing unseen (DESIGN §2.2).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::ChildStdout;

/// The tally of one `listen` process.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    finished: HashSet<u64>,
    lost: u64,
    gaps: Vec<String>,
}

/// A ledger shared between the reader of `listen`'s stdout and the measurement.
pub(crate) type SharedLedger = Arc<Mutex<Ledger>>;

impl Ledger {
    /// Events finished (each `seq` once) plus events reported lost.
    pub(crate) fn accounted(&self) -> u64 {
        self.finished.len() as u64 + self.lost
    }

    /// Events `listen` reported lost, and its gap records (empty when none).
    pub(crate) fn lost(&self) -> (u64, &[String]) {
        (self.lost, &self.gaps)
    }

    /// Takes one line of `listen --json` output.
    fn record(&mut self, line: &str) {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else { return };
        match record["type"].as_str() {
            Some("delivery") => {
                if let Some(seq) = record["seq"].as_u64() {
                    self.finished.insert(seq);
                }
            }
            Some("gap") => {
                self.lost += record["count"].as_u64().unwrap_or(0);
                self.gaps.push(line.trim().to_owned());
            }
            _ => {}
        }
    }
}

/// Reads `listen`'s stdout into `ledger` until it closes.
pub(crate) async fn follow(mut stdout: BufReader<ChildStdout>, ledger: SharedLedger) {
    let mut line = String::new();
    while stdout.read_line(&mut line).await.is_ok_and(|read| read > 0) {
        ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).record(&line);
        line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_count_once_per_seq_and_gaps_by_their_count() {
        let mut ledger = Ledger::default();
        for line in [
            r#"{"type":"ready","channel":"ch"}"#,
            r#"{"type":"delivery","seq":1,"attempt":1}"#,
            r#"{"type":"delivery","seq":1,"attempt":1}"#,
            r#"{"type":"gap","from_seq":2,"to_seq":4,"count":3,"reason":"expired"}"#,
            r#"{"type":"delivery","seq":5}"#,
            "not json",
        ] {
            ledger.record(line);
        }
        assert_eq!(ledger.accounted(), 5);
        assert_eq!(ledger.lost().0, 3);
        assert_eq!(ledger.lost().1.len(), 1);
    }
}
