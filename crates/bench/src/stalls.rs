//! The stall detector: a run's requests grouped into [`WINDOW`]-long windows by the time
//! they were sent, and the slowest request of each window. A p99 hides a short stall that
//! holds up every in-flight request at once; a window whose slowest request passed
//! [`STALL`] shows it, and how often it happens.

use std::time::Duration;

/// Width of one window.
pub(crate) const WINDOW: Duration = Duration::from_millis(100);
/// A window whose slowest request took longer than this counts as a stall.
pub(crate) const STALL: Duration = Duration::from_millis(10);

/// What the windows of one run show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stalls {
    /// Windows with at least one request sent in them.
    pub windows: usize,
    /// Windows whose slowest request took longer than [`STALL`].
    pub over: usize,
    /// The slowest request of the run.
    pub worst: Duration,
}

impl Stalls {
    /// Groups `(sent since the run started, latency)` samples into windows.
    pub(crate) fn of(samples: &[(Duration, Duration)]) -> Self {
        let maxima = window_maxima(samples);
        Self {
            windows: maxima.iter().filter(|max| max.is_some()).count(),
            over: maxima.iter().flatten().filter(|max| **max > STALL).count(),
            worst: maxima.iter().flatten().max().copied().unwrap_or_default(),
        }
    }

    /// "windows over 10 ms: N of M, worst X ms".
    pub(crate) fn text(&self) -> String {
        format!(
            "windows over {} ms: {} of {}, worst {:.1} ms",
            STALL.as_millis(),
            self.over,
            self.windows,
            self.worst.as_secs_f64() * 1000.0
        )
    }
}

/// The slowest latency per window, in time order (`None`: nothing was sent in it).
pub(crate) fn window_maxima(samples: &[(Duration, Duration)]) -> Vec<Option<Duration>> {
    let mut maxima: Vec<Option<Duration>> = Vec::new();
    for &(sent, latency) in samples {
        let index = (sent.as_nanos() / WINDOW.as_nanos()) as usize;
        if maxima.len() <= index {
            maxima.resize(index + 1, None);
        }
        let slot = &mut maxima[index];
        *slot = Some(slot.map_or(latency, |max| max.max(latency)));
    }
    maxima
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn a_window_counts_once_however_many_slow_requests_it_holds() {
        let samples = [
            (ms(0), ms(1)),
            (ms(50), ms(2)),
            (ms(120), ms(40)),
            (ms(130), ms(45)),
            (ms(250), ms(3)),
            (ms(410), ms(11)),
        ];
        let stalls = Stalls::of(&samples);
        assert_eq!(stalls, Stalls { windows: 4, over: 2, worst: ms(45) });
        assert_eq!(stalls.text(), "windows over 10 ms: 2 of 4, worst 45.0 ms");
    }

    #[test]
    fn empty_windows_are_not_counted() {
        let maxima = window_maxima(&[(ms(5), ms(1)), (ms(305), ms(2))]);
        assert_eq!(maxima, vec![Some(ms(1)), None, None, Some(ms(2))]);
        assert_eq!(Stalls::of(&[]), Stalls::default());
    }
}
