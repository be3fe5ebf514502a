//! Checking an incoming signature and saying exactly why it fails: a missing header, a
//! stale or future timestamp, a body that was changed after signing, or a plain mismatch
//! (wrong secret). Diagnosis only: callers never block a delivery on it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use crate::TOLERANCE_SECS;
use crate::scheme::{Header, Scheme, Secret, header};

/// The result of checking one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The signature matches the exact body and the timestamp is fresh.
    Valid,
    /// It does not verify, and why.
    Invalid(Failure),
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A header the scheme needs is absent.
    HeaderMissing(&'static str),
    /// A header is present but cannot be parsed.
    Malformed(String),
    /// The signature is right but was made too long before the request arrived.
    TimestampTooOld {
        /// Seconds between signing and arrival.
        age_secs: i64,
    },
    /// The signature is right but its timestamp is after the request arrived.
    TimestampTooNew {
        /// Seconds the timestamp is ahead of arrival.
        ahead_secs: i64,
    },
    /// The signature matches a re-formatted version of the body, not the bytes that arrived:
    /// something between the provider and here changed the body.
    BodyNotAsSigned(&'static str),
    /// The signature matches neither the body nor any re-formatting of it: most likely the
    /// wrong secret.
    Mismatch,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::HeaderMissing(name) => write!(f, "header {name} missing"),
            Failure::Malformed(why) => write!(f, "malformed signature header: {why}"),
            Failure::TimestampTooOld { age_secs } => {
                write!(f, "timestamp too old: signed {age_secs}s before it arrived")
            }
            Failure::TimestampTooNew { ahead_secs } => {
                write!(f, "timestamp too new: {ahead_secs}s after it arrived")
            }
            Failure::BodyNotAsSigned(how) => write!(f, "body not as signed: {how}"),
            Failure::Mismatch => f.write_str("signature mismatch (wrong secret?)"),
        }
    }
}

/// What a scheme's headers say: the signed prefix, candidate signatures and timestamp.
struct Claim {
    prefix: Vec<u8>,
    signatures: Vec<Vec<u8>>,
    timestamp: Option<i64>,
}

/// Checks `headers` and `body` as they arrived at `arrived_at` (Unix seconds).
pub fn verify(
    scheme: Scheme,
    secret: &Secret,
    headers: &[Header],
    body: &[u8],
    arrived_at: i64,
) -> Verdict {
    match check(scheme, secret, headers, body, arrived_at) {
        Ok(()) => Verdict::Valid,
        Err(failure) => Verdict::Invalid(failure),
    }
}

fn check(
    scheme: Scheme,
    secret: &Secret,
    headers: &[Header],
    body: &[u8],
    arrived_at: i64,
) -> Result<(), Failure> {
    let claim = claim(scheme, headers)?;
    let matches = |candidate: &[u8]| {
        let mac = secret.mac(&[&claim.prefix, candidate]);
        claim.signatures.iter().any(|sig| bool::from(sig.as_slice().ct_eq(&mac)))
    };
    if !matches(body) {
        return Err(reformatted(body)
            .into_iter()
            .find(|(_, variant)| matches(variant))
            .map_or(Failure::Mismatch, |(how, _)| Failure::BodyNotAsSigned(how)));
    }
    match claim.timestamp {
        Some(ts) if arrived_at - ts > TOLERANCE_SECS => {
            Err(Failure::TimestampTooOld { age_secs: arrived_at - ts })
        }
        Some(ts) if ts - arrived_at > TOLERANCE_SECS => {
            Err(Failure::TimestampTooNew { ahead_secs: ts - arrived_at })
        }
        _ => Ok(()),
    }
}

fn claim(scheme: Scheme, headers: &[Header]) -> Result<Claim, Failure> {
    let required = |name: &'static str| header(headers, name).ok_or(Failure::HeaderMissing(name));
    match scheme {
        Scheme::Standard => {
            let id = required("webhook-id")?;
            let ts_text = required("webhook-timestamp")?;
            let timestamp = parse_timestamp(ts_text)?;
            let signatures = required("webhook-signature")?
                .split_whitespace()
                .filter_map(|entry| entry.strip_prefix("v1,"))
                .map(|sig| STANDARD.decode(sig))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| Failure::Malformed(format!("webhook-signature: {err}")))?;
            if signatures.is_empty() {
                return Err(Failure::Malformed("webhook-signature has no v1 entry".into()));
            }
            let prefix = format!("{id}.{ts_text}.").into_bytes();
            Ok(Claim { prefix, signatures, timestamp: Some(timestamp) })
        }
        Scheme::Stripe => {
            let value = required("stripe-signature")?;
            let mut ts_text = None;
            let mut signatures = Vec::new();
            for part in value.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", t)) => ts_text = Some(t),
                    Some(("v1", sig)) => signatures.push(decode_hex("stripe-signature", sig)?),
                    _ => {}
                }
            }
            let ts_text =
                ts_text.ok_or_else(|| Failure::Malformed("stripe-signature has no t=".into()))?;
            if signatures.is_empty() {
                return Err(Failure::Malformed("stripe-signature has no v1=".into()));
            }
            let timestamp = parse_timestamp(ts_text)?;
            Ok(Claim {
                prefix: format!("{ts_text}.").into_bytes(),
                signatures,
                timestamp: Some(timestamp),
            })
        }
        Scheme::Github => {
            let value = required("x-hub-signature-256")?;
            let sig = value.strip_prefix("sha256=").ok_or_else(|| {
                Failure::Malformed("x-hub-signature-256 does not start with sha256=".into())
            })?;
            let signatures = vec![decode_hex("x-hub-signature-256", sig)?];
            Ok(Claim { prefix: Vec::new(), signatures, timestamp: None })
        }
    }
}

fn parse_timestamp(text: &str) -> Result<i64, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::Malformed(format!("timestamp {text:?} is not a Unix time")))
}

fn decode_hex(name: &str, text: &str) -> Result<Vec<u8>, Failure> {
    hex::decode(text.trim()).map_err(|err| Failure::Malformed(format!("{name}: {err}")))
}

/// Re-formattings that proxies, frameworks and copy-paste commonly apply to a body, each
/// with a description. A signature that matches one of them means the body was changed.
fn reformatted(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut variants = Vec::new();
    if let Some(trimmed) = body.strip_suffix(b"\n") {
        variants.push(("a trailing newline was added", trimmed.to_vec()));
    } else {
        variants.push(("a trailing newline was removed", [body, b"\n"].concat()));
    }
    if body.windows(2).any(|w| w == b"\r\n") {
        let lf = String::from_utf8_lossy(body).replace("\r\n", "\n").into_bytes();
        variants.push(("line endings changed (CRLF)", lf));
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Ok(compact) = serde_json::to_vec(&value) {
            variants.push(("JSON whitespace or key order changed (compact form matches)", compact));
        }
        if let Ok(pretty) = serde_json::to_vec_pretty(&value) {
            variants.push(("JSON re-formatted (pretty-printed form matches)", pretty));
        }
    }
    variants.retain(|(_, variant)| variant.as_slice() != body);
    variants
}
