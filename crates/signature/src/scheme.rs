//! The three schemes and how each one signs a request.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A header as `(name, value)`, the same shape as the event record's headers.
pub(crate) type Header = (String, String);

/// A webhook signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
    /// over `"{id}.{timestamp}.{body}"`; `whsec_` secrets are base64-decoded.
    Standard,
    /// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>` over `"{t}.{body}"`.
    Stripe,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body.
    Github,
}

/// A scheme name or secret that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemeError {
    /// Not one of `standard`, `stripe`, `github`.
    #[error("unknown signature scheme {0:?}: use standard, stripe or github")]
    UnknownScheme(String),
    /// A `whsec_` secret whose rest is not base64.
    #[error("the secret starts with whsec_ but the rest is not base64: {0}")]
    BadSecret(String),
    /// An empty secret.
    #[error("the secret is empty")]
    EmptySecret,
}

impl FromStr for Scheme {
    type Err = SchemeError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "standard" | "standard-webhooks" | "svix" => Ok(Scheme::Standard),
            "stripe" => Ok(Scheme::Stripe),
            "github" => Ok(Scheme::Github),
            _ => Err(SchemeError::UnknownScheme(name.to_string())),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Standard => "standard",
            Scheme::Stripe => "stripe",
            Scheme::Github => "github",
        })
    }
}

impl Scheme {
    /// The header that carries the signature.
    pub fn signature_header(self) -> &'static str {
        match self {
            Scheme::Standard => "webhook-signature",
            Scheme::Stripe => "stripe-signature",
            Scheme::Github => "x-hub-signature-256",
        }
    }
}

/// The key bytes for a scheme, decoded from what the user typed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Secret {
    /// Decodes a secret as `scheme` expects it: Standard Webhooks base64-decodes the part
    /// after `whsec_`; Stripe and GitHub use the text's bytes as they are.
    pub fn parse(scheme: Scheme, text: &str) -> Result<Self, SchemeError> {
        if text.is_empty() {
            return Err(SchemeError::EmptySecret);
        }
        match (scheme, text.strip_prefix("whsec_")) {
            (Scheme::Standard, Some(encoded)) => STANDARD
                .decode(encoded)
                .map(Secret)
                .map_err(|err| SchemeError::BadSecret(err.to_string())),
            _ => Ok(Secret(text.as_bytes().to_vec())),
        }
    }

    pub(crate) fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// Signs `body` with a fresh `timestamp` (Unix seconds): removes the scheme's old signature
/// headers and appends new ones. Standard Webhooks keeps an existing `webhook-id` (it is
/// part of what is signed) and makes one from `fallback_id` when there is none.
pub fn sign(
    scheme: Scheme,
    secret: &Secret,
    headers: &mut Vec<Header>,
    body: &[u8],
    timestamp: i64,
    fallback_id: &str,
) {
    let ts = timestamp.to_string();
    match scheme {
        Scheme::Standard => {
            let id = header(headers, "webhook-id").unwrap_or(fallback_id).to_string();
            let mac = secret.mac(&[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
            replace(headers, "webhook-id", id);
            replace(headers, "webhook-timestamp", ts);
            replace(headers, "webhook-signature", format!("v1,{}", STANDARD.encode(mac)));
        }
        Scheme::Stripe => {
            let mac = secret.mac(&[ts.as_bytes(), b".", body]);
            replace(headers, "stripe-signature", format!("t={ts},v1={}", hex::encode(mac)));
        }
        Scheme::Github => {
            let mac = secret.mac(&[body]);
            replace(headers, "x-hub-signature-256", format!("sha256={}", hex::encode(mac)));
        }
    }
}

/// The first value of a header, matched case-insensitively.
pub(crate) fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Replaces every value of `name` with one `value`, kept where the first one was.
fn replace(headers: &mut Vec<Header>, name: &str, value: String) {
    match headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
        Some(first) => {
            headers[first].1 = value;
            let mut index = 0;
            headers.retain(|(n, _)| {
                index += 1;
                index - 1 == first || !n.eq_ignore_ascii_case(name)
            });
        }
        None => headers.push((name.to_string(), value)),
    }
}
