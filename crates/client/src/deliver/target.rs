//! Whether a forward target can ever answer, checked once before anything is sent to it
//! (`listen`, `replay`): a host that does not resolve, TLS to a plain-HTTP port or an
//! untrusted certificate is reported at once with the fix, instead of being retried
//! forever. An app that is merely down (connection refused) is fine: it may be restarting,
//! and delivery waits for it.

use hookrelay_http::{Reach, probe};
use url::Url;

/// Fails with what to type instead when `target` can never answer; `flag` is how the user
/// gave it (`-f`, or a route's `to` in the routes file).
pub(crate) async fn check_target(target: &Url, flag: &str) -> anyhow::Result<()> {
    match probe(target).await {
        Reach::Never(broken) => anyhow::bail!("{}", broken.advice(target, flag)),
        Reach::Ok | Reach::Down(_) => Ok(()),
    }
}
