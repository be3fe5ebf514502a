//! Capped exponential backoff with jitter, shared by the relay reconnect loop and the
//! retries toward the local app.

use std::time::Duration;

/// Reconnect schedule toward the relay: 250 ms doubling to a 15 s cap.
pub(crate) const RECONNECT: Backoff =
    Backoff::new(Duration::from_millis(250), Duration::from_secs(15));

/// Retry schedule toward the local app: 200 ms doubling to a 5 s cap.
pub(crate) const LOCAL_RETRY: Backoff =
    Backoff::new(Duration::from_millis(200), Duration::from_secs(5));

/// A backoff schedule plus the number of failures seen so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// A schedule that starts at `base` and doubles up to `cap`.
    pub(crate) const fn new(base: Duration, cap: Duration) -> Self {
        Self { base, cap, failures: 0 }
    }

    /// The longest delay after `failures` previous failures: `base * 2^failures`, capped.
    pub(crate) fn ceiling(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX);
        self.base.checked_mul(factor).map_or(self.cap, |delay| delay.min(self.cap))
    }

    /// The delay before the next try: between half the ceiling and the ceiling ("equal
    /// jitter"), so many clients restarted together do not retry in lockstep.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling(self.failures);
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// How many delays were handed out since the last reset.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Back to the first, shortest delay (after a healthy period).
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let ms = |failures| RECONNECT.ceiling(failures).as_millis();
        assert_eq!(
            (0..9).map(ms).collect::<Vec<_>>(),
            [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]
        );
        assert_eq!(RECONNECT.ceiling(u32::MAX), Duration::from_secs(15));
        assert_eq!(LOCAL_RETRY.ceiling(10), Duration::from_secs(5));
    }

    #[test]
    fn jittered_delay_stays_within_half_and_full_ceiling_and_resets() {
        let mut backoff = LOCAL_RETRY;
        for failures in 0..12 {
            let ceiling = backoff.ceiling(failures);
            let delay = backoff.next_delay();
            assert!(delay >= ceiling / 2 && delay <= ceiling, "{delay:?} vs {ceiling:?}");
        }
        assert_eq!(backoff.failures(), 12);
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(200));
    }
}
