//! `listen --verify SCHEME:SECRET`: checks each event's signature as it arrived at the relay
//! (its stored headers and body, at its `received_at` time) and says why it fails. Diagnosis
//! only: the result is shown and recorded, and the event is forwarded either way.

use std::str::FromStr;
use std::sync::Arc;

use hookrelay_proto::{Event, SignatureCheck};
use hookrelay_signature::{Scheme, Secret, Verdict};

/// The scheme and key to check incoming signatures with.
#[derive(Debug, Clone)]
pub struct Verify {
    /// The scheme.
    pub scheme: Scheme,
    /// The key (its `Debug` hides it).
    pub secret: Secret,
}

impl FromStr for Verify {
    type Err = String;

    /// Parses `SCHEME:SECRET`, split at the first `:` (so secrets may contain colons).
    /// Errors never repeat the secret.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (scheme, secret) = text.split_once(':').ok_or_else(|| {
            "expected SCHEME:SECRET, e.g. stripe:whsec_... or github:mysecret".to_owned()
        })?;
        let scheme: Scheme = scheme.trim().parse().map_err(|err| format!("{err}"))?;
        let secret = Secret::parse(scheme, secret).map_err(|err| format!("the secret: {err}"))?;
        Ok(Self { scheme, secret })
    }
}

impl Verify {
    /// Checks `event` as it arrived: timestamps are compared with `received_at_ms`, not now,
    /// so a check made while catching up after a night offline gives the same answer.
    pub fn check(&self, event: &Event) -> SignatureCheck {
        let arrived_at = event.received_at_ms.div_euclid(1000);
        let verdict = hookrelay_signature::verify(
            self.scheme,
            &self.secret,
            &event.headers,
            &event.body,
            arrived_at,
        );
        let reason = match verdict {
            Verdict::Valid => None,
            Verdict::Invalid(failure) => Some(failure.to_string()),
        };
        SignatureCheck { scheme: self.scheme.to_string(), valid: reason.is_none(), reason }
    }

    /// [`Verify::check`] on a blocking thread: a 25 MiB body that fails is re-formatted
    /// several ways to find out why, which must not stall the runtime's workers.
    pub async fn check_off_thread(self: Arc<Self>, event: &Event) -> SignatureCheck {
        let scheme = self.scheme.to_string();
        let event = event.clone();
        tokio::task::spawn_blocking(move || self.check(&event)).await.unwrap_or_else(|err| {
            SignatureCheck { scheme, valid: false, reason: Some(format!("check failed: {err}")) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn event(headers: Vec<(String, String)>, body: &'static [u8], received_at: i64) -> Event {
        Event {
            received_at_ms: received_at * 1000 + 999,
            headers,
            body: Bytes::from_static(body),
            ..crate::test_support::event("/", &[], "")
        }
    }

    #[test]
    fn parses_scheme_and_secret_at_the_first_colon() {
        let verify: Verify = "github:a:b".parse().expect("valid");
        assert_eq!(verify.scheme, Scheme::Github);
        assert_eq!(verify.secret, Secret::parse(Scheme::Github, "a:b").expect("secret"));
        assert!("stripe".parse::<Verify>().expect_err("fails").contains("SCHEME:SECRET"));
        assert!(
            "nope:x".parse::<Verify>().expect_err("fails").contains("unknown signature scheme")
        );
        let empty = "stripe:".parse::<Verify>().expect_err("fails");
        assert!(empty.contains("empty"), "{empty}");
        let bad = "standard:whsec_!!!".parse::<Verify>().expect_err("fails");
        assert!(!bad.contains("!!!"), "the secret leaked: {bad}");
    }

    #[test]
    fn checks_against_the_arrival_time_and_names_the_failure() {
        let verify: Verify = "stripe:whsec_test".parse().expect("valid");
        let secret = verify.secret.clone();
        let signed_at = 1_700_000_000;
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        hookrelay_signature::sign(Scheme::Stripe, &secret, &mut headers, b"{}", signed_at, "x");
        let fresh = verify.check(&event(headers.clone(), b"{}", signed_at + 10));
        assert_eq!(fresh, SignatureCheck { scheme: "stripe".into(), valid: true, reason: None });
        let late = verify.check(&event(headers.clone(), b"{}", signed_at + 3600));
        assert!(!late.valid);
        assert!(late.reason.as_deref().is_some_and(|r| r.starts_with("timestamp too old")));
        let missing = verify.check(&event(vec![], b"{}", signed_at));
        assert_eq!(missing.reason.as_deref(), Some("header stripe-signature missing"));
    }
}
