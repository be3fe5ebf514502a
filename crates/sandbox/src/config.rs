//! The emulator's configuration: mode, API key, catalogue, delivery timing and signing.

use std::time::Duration;

use crate::catalog::Catalog;
use crate::mode::Mode;

/// Address `hookrelay sandbox` listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8788";
/// Waits between a failed delivery and its retries: attempt 2 after 1 s, 3 after 2 s more,
/// 4 after 4 s more. Short on purpose, so a developer (and a test) sees the whole story fast.
pub(crate) const DEFAULT_RETRY_SCHEDULE: [Duration; 3] =
    [Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)];
/// How long one delivery attempt may take, connect to last body byte, before it counts as a
/// failure ("timed out").
pub(crate) const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything [`crate::serve`] needs; the CLI builds it from its flags.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Sandbox or production behaviour.
    pub mode: Mode,
    /// The key clients must send as `Authorization: Bearer <key>`.
    pub api_key: String,
    /// Event types that `POST /v1/webhook_url/test` can send.
    pub catalog: Catalog,
    /// Waits before each retry of a failed delivery; its length is the number of retries
    /// (empty: no retries).
    pub retry_schedule: Vec<Duration>,
    /// Limit for one delivery attempt.
    pub delivery_timeout: Duration,
    /// `whsec_...`: adds Standard Webhooks headers to deliveries. `None` (the default, since
    /// the provider documents no signature) sends none.
    pub signing_secret: Option<hookrelay_signature::Secret>,
    /// Also sends each logged attempt here (the CLI prints them as they happen). Uses
    /// `try_send`: when the receiver lags and the channel is full, that copy is dropped; the
    /// delivery log still has it. `None` (the default): only the log.
    pub observer: Option<tokio::sync::mpsc::Sender<crate::deliveries::DeliveryAttempt>>,
}

impl SandboxConfig {
    /// Sandbox mode, the built-in catalogue, default timing, no signing.
    pub fn new(api_key: impl Into<String>) -> Self {
        SandboxConfig {
            mode: Mode::Sandbox,
            api_key: api_key.into(),
            catalog: Catalog::builtin(),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
            delivery_timeout: DEFAULT_DELIVERY_TIMEOUT,
            signing_secret: None,
            observer: None,
        }
    }
}

/// Parses a retry schedule such as `1s,2s,4s` or `250ms,1m`; `none` (or empty) means no
/// retries. Each wait is a duration as every flag reads them (`hookrelay_flags`), at most
/// one hour.
pub fn parse_retry_schedule(s: &str) -> Result<Vec<Duration>, String> {
    let s = s.trim();
    if s.is_empty() || s == "none" {
        return Ok(Vec::new());
    }
    s.split(',').map(|part| parse_wait(part.trim())).collect()
}

/// One wait of a retry schedule, or `--delivery-timeout`: a duration of at most one hour.
pub fn parse_wait(s: &str) -> Result<Duration, String> {
    let d = hookrelay_flags::parse_duration(s)?;
    if d > Duration::from_secs(3600) {
        return Err(format!("duration {s:?} is over one hour"));
    }
    Ok(d)
}

/// A fresh API key for when none is given: `sk_sandbox_` or `sk_production_` and 32 random
/// alphanumerics. The prefix is the emulator's own; the provider's key format is not documented.
pub fn generate_api_key(mode: Mode) -> String {
    format!("sk_{}_{}", mode.as_str(), crate::ids::random_alnum(32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedules_parse_with_units() {
        assert_eq!(
            parse_retry_schedule("250ms, 2s,1m,1h,5"),
            Ok(vec![
                Duration::from_millis(250),
                Duration::from_secs(2),
                Duration::from_secs(60),
                Duration::from_secs(3600),
                Duration::from_secs(5)
            ])
        );
        assert_eq!(parse_retry_schedule("none"), Ok(Vec::new()));
        assert_eq!(parse_retry_schedule(""), Ok(Vec::new()));
        for bad in ["2h", "s", "2s,,3s", "61m", "-1s"] {
            assert!(parse_retry_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_keys_name_their_mode_and_differ() {
        let a = generate_api_key(Mode::Sandbox);
        assert!(a.starts_with("sk_sandbox_") && a.len() == 43, "{a}");
        assert_ne!(a, generate_api_key(Mode::Sandbox));
        assert!(generate_api_key(Mode::Production).starts_with("sk_production_"));
    }
}
