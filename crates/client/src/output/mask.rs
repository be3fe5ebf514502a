//! Which headers carry secrets, and how they are shown when not revealed.

/// Headers whose values are credentials or signatures, by exact lowercase name.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "stripe-signature",
    "webhook-signature",
    "svix-signature",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-shopify-hmac-sha256",
    "x-twilio-signature",
    "x-slack-signature",
];

/// True when a header's value should be hidden unless the user asks (`--reveal`). Besides
/// the known names, anything that says signature, token, secret or password is hidden.
pub(crate) fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&name.as_str())
        || ["signature", "token", "secret", "password"].iter().any(|word| name.contains(word))
}

/// A masked value that still tells what it was: the auth scheme word is kept
/// (`Bearer ••••••`) and the length is shown.
pub(crate) fn mask(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, rest))
            if ["bearer", "basic", "token", "digest"]
                .contains(&scheme.to_ascii_lowercase().as_str()) =>
        {
            format!("{scheme} •••••• ({} chars hidden)", rest.len())
        }
        _ => format!("•••••• ({} chars hidden)", value.len()),
    }
}

/// `value` as it should be displayed for header `name`.
pub(crate) fn display_value<'a>(
    name: &str,
    value: &'a str,
    reveal: bool,
) -> std::borrow::Cow<'a, str> {
    if reveal || !is_secret(name) {
        std::borrow::Cow::Borrowed(value)
    } else {
        std::borrow::Cow::Owned(mask(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_signatures_are_secret() {
        for name in
            ["Authorization", "stripe-signature", "X-Hub-Signature-256", "X-Custom-Token", "cookie"]
        {
            assert!(is_secret(name), "{name}");
        }
        for name in ["content-type", "user-agent", "webhook-id", "webhook-timestamp"] {
            assert!(!is_secret(name), "{name}");
        }
    }

    #[test]
    fn masks_keep_the_scheme_and_length_only() {
        assert_eq!(mask("Bearer abc123"), "Bearer •••••• (6 chars hidden)");
        assert_eq!(mask("t=1,v1=ff"), "•••••• (9 chars hidden)");
        assert_eq!(display_value("authorization", "Basic eA==", true), "Basic eA==");
        assert!(!display_value("authorization", "Basic eA==", false).contains("eA=="));
    }
}
