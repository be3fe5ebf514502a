//! The final table: one row per DESIGN §8 target with the median measurement, its baseline,
//! the ratio and the target. "MEETS"/"MISSES" is information only; the bench never fails on it.

use std::fmt::Write as _;
use std::time::Duration;

/// Which side of a threshold is good.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// The figure must not exceed this.
    AtMost(f64),
    /// The figure must reach at least this.
    AtLeast(f64),
}

impl Target {
    fn met(self, figure: f64) -> bool {
        match self {
            Self::AtMost(limit) => figure <= limit,
            Self::AtLeast(floor) => figure >= floor,
        }
    }

    fn text(self, unit: &str) -> String {
        match self {
            Self::AtMost(limit) => format!("≤ {}{unit}", trim(limit)),
            Self::AtLeast(floor) => format!("≥ {}{unit}", trim(floor)),
        }
    }
}

/// One line of the table.
pub(crate) struct Row {
    label: String,
    measured: String,
    baseline: String,
    figure: String,
    target: String,
    /// `None` for a row that informs without a target.
    meets: Option<bool>,
}

impl Row {
    /// A ratio `measured / baseline` against a target on the ratio.
    pub(crate) fn ratio(
        label: &str,
        measured: String,
        baseline: String,
        ratio: f64,
        target: Target,
    ) -> Row {
        Row {
            label: label.to_owned(),
            measured,
            baseline,
            figure: format!("{ratio:.2}×"),
            target: format!("target {}", target.text("×")),
            meets: Some(target.met(ratio)),
        }
    }

    /// An absolute figure (with its unit) against a target in the same unit.
    pub(crate) fn absolute(
        label: &str,
        measured: String,
        value: f64,
        unit: &str,
        target: Target,
    ) -> Row {
        Row {
            label: label.to_owned(),
            measured,
            baseline: "-".to_owned(),
            figure: format!("{value:.1} {unit}"),
            target: format!("target {}", target.text(&format!(" {unit}"))),
            meets: Some(target.met(value)),
        }
    }

    /// A figure with no target: it explains the others (stalls, CPU per request).
    pub(crate) fn info(label: &str, measured: String, baseline: String, figure: String) -> Row {
        Row {
            label: label.to_owned(),
            measured,
            baseline,
            figure,
            target: "-".to_owned(),
            meets: None,
        }
    }
}

/// The table, columns aligned.
pub(crate) fn table(rows: &[Row]) -> String {
    let width = |pick: fn(&Row) -> &str| rows.iter().map(|row| pick(row).chars().count()).max();
    let widths = [
        width(|row| &row.label).unwrap_or(0),
        width(|row| &row.measured).unwrap_or(0),
        width(|row| &row.baseline).unwrap_or(0),
        width(|row| &row.figure).unwrap_or(0),
        width(|row| &row.target).unwrap_or(0),
    ];
    let mut out = String::new();
    for row in rows {
        let cells = [&row.label, &row.measured, &row.baseline, &row.figure, &row.target];
        for (cell, width) in cells.iter().zip(widths) {
            let pad = width - cell.chars().count();
            let _ = write!(out, "{cell}{:pad$}   ", "");
        }
        out.push_str(match row.meets {
            Some(true) => "MEETS",
            Some(false) => "MISSES",
            None => "info",
        });
        out.push('\n');
    }
    out
}

/// The median of some samples (the mean of the middle two for an even count).
pub(crate) fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => sorted[len / 2],
        len => (sorted[len / 2 - 1] + sorted[len / 2]) / 2.0,
    }
}

/// Milliseconds with two decimals, for latencies.
pub(crate) fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn rows_say_whether_they_meet_the_target() {
        let rows = [
            Row::ratio(
                "ack p99 c=16",
                "relay 2.1 ms".into(),
                "bare 1.4".into(),
                1.5,
                Target::AtMost(1.5),
            ),
            Row::absolute("idle RSS", "relay".into(), 25.0, "MiB", Target::AtMost(20.0)),
            Row::info("CPU/request c=16", "relay 30 µs".into(), "bare 8 µs".into(), "3.8×".into()),
        ];
        let text = table(&rows);
        let lines: Vec<String> = text
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert!(lines[0].ends_with("1.50× target ≤ 1.5× MEETS"), "{text}");
        assert!(lines[1].ends_with("25.0 MiB target ≤ 20 MiB MISSES"), "{text}");
        assert!(lines[2].ends_with("3.8× - info"), "{text}");
    }
}
