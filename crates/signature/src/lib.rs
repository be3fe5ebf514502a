//! Webhook signature schemes, computed over the exact body bytes: re-signing a replayed
//! request with a fresh timestamp, and diagnosing why an incoming signature does not verify.
//! HMACs are computed here rather than with per-provider crates because those refuse
//! bodies that are not UTF-8, and a relay must handle any bytes.

mod diagnose;
mod scheme;

pub use diagnose::{Failure, Verdict, verify};
pub use scheme::{Scheme, SchemeError, Secret, sign};

/// How far a signature timestamp may be from the time the request arrived, in seconds.
/// Five minutes is what Standard Webhooks and Stripe's libraries use.
pub const TOLERANCE_SECS: i64 = 5 * 60;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
