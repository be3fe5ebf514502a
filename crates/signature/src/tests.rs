//! Published test vectors and round trips for every scheme and failure reason.

use crate::*;

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

#[test]
fn standard_webhooks_published_vector_signs_and_verifies() {
    // From the Standard Webhooks specification's test vectors.
    let secret = Secret::parse(Scheme::Standard, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = br#"{"test": 2432232314}"#;
    let mut h = headers(&[("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")]);
    sign(Scheme::Standard, &secret, &mut h, body, 1_614_265_330, "unused");
    assert_eq!(
        h,
        headers(&[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        ])
    );
    assert_eq!(verify(Scheme::Standard, &secret, &h, body, 1_614_265_330), Verdict::Valid);
}

#[test]
fn github_published_vector_signs_and_verifies() {
    // From GitHub's "Validating webhook deliveries" documentation.
    let secret = Secret::parse(Scheme::Github, "It's a Secret to Everybody").unwrap();
    let mut h = Vec::new();
    sign(Scheme::Github, &secret, &mut h, b"Hello, World!", 0, "unused");
    let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(h, headers(&[("x-hub-signature-256", expected)]));
    assert_eq!(verify(Scheme::Github, &secret, &h, b"Hello, World!", 0), Verdict::Valid);
}

#[test]
fn stripe_signature_has_timestamp_and_hex_v1() {
    let secret = Secret::parse(Scheme::Stripe, "whsec_test_secret").unwrap();
    let mut h = headers(&[("Stripe-Signature", "t=1,v1=00"), ("content-type", "application/json")]);
    sign(Scheme::Stripe, &secret, &mut h, b"{}", 1_700_000_000, "unused");
    let value = &h[0].1;
    assert_eq!(h[0].0, "Stripe-Signature", "replaced in place, keeping the name as sent");
    assert!(value.starts_with("t=1700000000,v1="), "{value}");
    assert_eq!(value.len(), "t=1700000000,v1=".len() + 64);
    assert_eq!(h.len(), 2);
    assert_eq!(verify(Scheme::Stripe, &secret, &h, b"{}", 1_700_000_100), Verdict::Valid);
}

#[test]
fn binary_bodies_sign_and_verify() {
    let body = [0u8, 255, 159, 146, 150];
    for scheme in [Scheme::Standard, Scheme::Stripe, Scheme::Github] {
        let secret = Secret::parse(scheme, "whsec_c2VjcmV0").unwrap();
        let mut h = Vec::new();
        sign(scheme, &secret, &mut h, &body, 1000, "msg_1");
        assert_eq!(verify(scheme, &secret, &h, &body, 1000), Verdict::Valid, "{scheme}");
    }
}

#[test]
fn each_failure_reason_is_reported() {
    let secret = Secret::parse(Scheme::Stripe, "sekrit").unwrap();
    let body = br#"{"type": "invoice.paid", "id": 1}"#;
    let mut h = Vec::new();
    sign(Scheme::Stripe, &secret, &mut h, body, 10_000, "");
    let invalid = |h: &[(String, String)], body: &[u8], at| match verify(
        Scheme::Stripe,
        &secret,
        h,
        body,
        at,
    ) {
        Verdict::Invalid(failure) => failure,
        Verdict::Valid => panic!("expected a failure"),
    };

    assert_eq!(invalid(&[], body, 10_000), Failure::HeaderMissing("stripe-signature"));
    assert_eq!(invalid(&h, body, 10_000 + 301), Failure::TimestampTooOld { age_secs: 301 });
    assert_eq!(invalid(&h, body, 10_000 - 301), Failure::TimestampTooNew { ahead_secs: 301 });
    assert_eq!(invalid(&h, b"{\"type\":\"invoice.paid\",\"id\":2}", 10_000), Failure::Mismatch);
    let compacted = br#"{"id":1,"type":"invoice.paid"}"#;
    assert!(matches!(invalid(&h, compacted, 10_000), Failure::Mismatch), "key order differs too");
    let other = Secret::parse(Scheme::Stripe, "other").unwrap();
    assert_eq!(
        verify(Scheme::Stripe, &other, &h, body, 10_000),
        Verdict::Invalid(Failure::Mismatch)
    );
    let bad = headers(&[("stripe-signature", "t=abc,v1=00")]);
    assert!(matches!(invalid(&bad, body, 10_000), Failure::Malformed(_)));
}

#[test]
fn a_body_changed_after_signing_is_named() {
    let secret = Secret::parse(Scheme::Github, "s").unwrap();
    let signed = br#"{"a":1,"b":[1,2]}"#;
    let mut h = Vec::new();
    sign(Scheme::Github, &secret, &mut h, signed, 0, "");
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(signed).unwrap())
            .unwrap();
    match verify(Scheme::Github, &secret, &h, &pretty, 0) {
        Verdict::Invalid(Failure::BodyNotAsSigned(how)) => {
            assert!(how.contains("compact"), "{how}")
        }
        other => panic!("expected body-not-as-signed, got {other:?}"),
    }
    let with_newline = [signed.as_slice(), b"\n"].concat();
    assert_eq!(
        verify(Scheme::Github, &secret, &h, &with_newline, 0),
        Verdict::Invalid(Failure::BodyNotAsSigned("a trailing newline was added"))
    );
}

#[test]
fn standard_missing_headers_are_named_in_order() {
    let secret = Secret::parse(Scheme::Standard, "whsec_c2VjcmV0").unwrap();
    let only_id = headers(&[("webhook-id", "msg_1")]);
    assert_eq!(
        verify(Scheme::Standard, &secret, &only_id, b"", 0),
        Verdict::Invalid(Failure::HeaderMissing("webhook-timestamp"))
    );
}

#[test]
fn secrets_and_scheme_names_are_validated() {
    assert_eq!("GitHub".parse::<Scheme>(), Ok(Scheme::Github));
    assert!(matches!("hmac".parse::<Scheme>(), Err(SchemeError::UnknownScheme(_))));
    assert!(matches!(Secret::parse(Scheme::Standard, "whsec_!!!"), Err(SchemeError::BadSecret(_))));
    assert_eq!(Secret::parse(Scheme::Github, ""), Err(SchemeError::EmptySecret));
    assert_eq!(format!("{:?}", Secret::parse(Scheme::Github, "x").unwrap()), "Secret(***)");
}
