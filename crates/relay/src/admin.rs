//! Who may create channels (DESIGN §9). A relay on a non-loopback address is guarded by
//! default: with no `--admin-token` it makes one once, keeps it in `DATA_DIR/admin-token`
//! (0600) across restarts, and says where it is; `--open` lets anyone create channels, on
//! purpose. On a loopback address creation stays open, for local development.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The file in the data directory that holds a made admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// How channel creation is guarded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// `--admin-token` (or `HOOKRELAY_ADMIN_TOKEN`) was given.
    Given(String),
    /// The token kept in this file (made now when `created`).
    File {
        /// The token.
        token: String,
        /// Where it is.
        path: PathBuf,
        /// Made at this start (else read from an earlier one).
        created: bool,
    },
    /// Anyone who can reach the relay may create channels: it listens on loopback only.
    Loopback,
    /// Anyone may create channels, as `--open` asked, on a public address.
    Open,
}

impl Guard {
    /// Decides for a relay listening on `listen`, given `--admin-token` and `--open`; makes
    /// or reads `DATA_DIR/admin-token` when it must.
    pub fn decide(
        given: Option<String>,
        open: bool,
        listen: SocketAddr,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        if let Some(token) = given.filter(|token| !token.trim().is_empty()) {
            return Ok(Self::Given(token));
        }
        if listen.ip().is_loopback() {
            return Ok(Self::Loopback);
        }
        if open {
            return Ok(Self::Open);
        }
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => {
                crate::files::make_private(&path)
                    .with_context(|| format!("could not make {} private", path.display()))?;
                Ok(Self::File { token: text.trim().to_owned(), path, created: false })
            }
            Ok(_) => make(path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => make(path),
            Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
        }
    }

    /// The token that guards creation, if any.
    pub fn token(&self) -> Option<String> {
        match self {
            Self::Given(token) | Self::File { token, .. } => Some(token.clone()),
            Self::Loopback | Self::Open => None,
        }
    }

    /// One line for the relay's start-up output: which mode, and where the token is.
    pub fn describe(&self) -> String {
        match self {
            Self::Given(_) => "creating channels needs the admin token given with --admin-token \
                               (or HOOKRELAY_ADMIN_TOKEN)"
                .to_owned(),
            Self::File { path, created, .. } => format!(
                "creating channels needs the admin token {} {}; on your laptop: hookrelay \
                 login URL --admin-token \"$(cat {})\"",
                if *created { "made now and kept in" } else { "kept in" },
                path.display(),
                path.display()
            ),
            Self::Loopback => {
                "creating channels is open: this relay listens on loopback only".to_owned()
            }
            Self::Open => "warning: --open: anyone who can reach this relay may create \
                           channels and store webhooks in it"
                .to_owned(),
        }
    }
}

/// Makes a token and writes it to `path` (0600, new file only: a racing relay's token wins).
fn make(path: PathBuf) -> anyhow::Result<Guard> {
    let token = crate::ids::new_admin_token()?;
    if let Some(dir) = path.parent() {
        crate::files::private_dir(dir)
            .with_context(|| format!("could not create data directory {}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&path);
    let mut file = crate::files::private_options()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("could not create {}", path.display()))?;
    writeln!(file, "{token}").with_context(|| format!("could not write {}", path.display()))?;
    file.sync_all().with_context(|| format!("could not write {}", path.display()))?;
    Ok(Guard::File { token, path, created: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("address")
    }

    #[test]
    fn a_public_relay_makes_a_private_token_once_and_keeps_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let public = addr("0.0.0.0:8787");
        let first = Guard::decide(None, false, public, dir.path()).expect("made");
        let Guard::File { token, path, created: true } = &first else { panic!("{first:?}") };
        assert!(token.starts_with("hra_") && token.len() > 40, "{token}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = path.metadata().expect("exists").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = Guard::decide(None, false, public, dir.path()).expect("read");
        assert_eq!(again.token(), first.token(), "kept across restarts");
        assert!(matches!(again, Guard::File { created: false, .. }));
        assert!(again.describe().contains(&path.display().to_string()), "{}", again.describe());
    }

    #[test]
    fn a_given_token_wins_loopback_is_open_and_open_is_explicit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let given = Guard::decide(Some("t".into()), true, addr("0.0.0.0:1"), dir.path());
        assert_eq!(given.expect("given"), Guard::Given("t".into()));
        let local = Guard::decide(None, false, addr("127.0.0.1:1"), dir.path()).expect("local");
        assert_eq!((local.clone(), local.token()), (Guard::Loopback, None));
        let v6 = Guard::decide(None, false, addr("[::1]:1"), dir.path()).expect("local");
        assert_eq!(v6, Guard::Loopback);
        let open = Guard::decide(None, true, addr("10.0.0.5:1"), dir.path()).expect("open");
        assert_eq!((open.token(), open.describe().starts_with("warning")), (None, true));
        assert!(!dir.path().join(ADMIN_TOKEN_FILE).exists(), "no token made when none is needed");
    }
}
