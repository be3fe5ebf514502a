//! Which relay this laptop uses when a command names none: the one `listen` last ran with
//! (`relay.json`) and the one `hookrelay login` saved (`login.json`, 0600: it may hold the
//! admin token). Written whole, like every state file ([`write_json_atomic`]).

use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{DEFAULT_PORT, RelayChoice};
use crate::local::paths::Dirs;
use crate::local::state::{read_json, write_json_atomic};

/// The relay `listen` last ran with (`relay.json` in the config directory, beside the
/// channels saved for it): what the other commands use when neither `--relay` nor `--port`
/// is given, so `listen --port 28787` in one terminal is found by `events` in another.
pub(crate) struct LastRelay {
    path: PathBuf,
}

/// `relay.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum RelayRecord {
    Embedded { port: u16 },
    Remote { url: String },
}

impl LastRelay {
    /// The record in `dirs.config_dir`.
    pub(crate) fn new(dirs: &Dirs) -> Self {
        Self { path: dirs.config_dir.join("relay.json") }
    }

    /// The relay `listen` last ran with, if it ever ran.
    pub(crate) fn load(&self) -> anyhow::Result<Option<RelayChoice>> {
        let record: Option<RelayRecord> = read_json(&self.path)?;
        let Some(record) = record else { return Ok(None) };
        Ok(Some(match record {
            RelayRecord::Embedded { port } => RelayChoice::Embedded { port },
            RelayRecord::Remote { url } => RelayChoice::Remote(
                url.parse().with_context(|| format!("{} holds a bad URL", self.path.display()))?,
            ),
        }))
    }

    /// Remembers `relay` (`listen` calls this once its channel is ready).
    pub(crate) fn save(&self, relay: &RelayChoice) -> anyhow::Result<()> {
        let record = match relay {
            RelayChoice::Embedded { port } => RelayRecord::Embedded { port: *port },
            RelayChoice::Remote(url) => RelayRecord::Remote { url: url.to_string() },
        };
        write_json_atomic(&self.path, &record)
    }

    /// `given`, else the relay `listen` last ran with, else the one `hookrelay login`
    /// saved, else the embedded one on [`DEFAULT_PORT`].
    pub(crate) fn or_last(
        &self,
        given: Option<&RelayChoice>,
        login: Option<&Login>,
    ) -> anyhow::Result<RelayChoice> {
        if let Some(relay) = given {
            return Ok(relay.clone());
        }
        if let Some(last) = self.load()? {
            return Ok(last);
        }
        Ok(login.map_or(RelayChoice::Embedded { port: DEFAULT_PORT }, |login| {
            RelayChoice::Remote(login.relay.clone())
        }))
    }

    /// Forgets the relay `listen` last ran with.
    pub(crate) fn forget(&self) -> anyhow::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(err).with_context(|| format!("could not remove {}", self.path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// `hookrelay login`'s record (`login.json` in the config directory, 0600: it may hold the
/// admin token): the relay every command uses when none is given, until `hookrelay logout`.
pub(crate) struct LoginFile {
    path: PathBuf,
}

/// What `hookrelay login` saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Login {
    /// The relay's base URL.
    pub relay: Url,
    /// The admin token that creates channels there, when it guards creation.
    pub admin_token: Option<String>,
}

/// `login.json`.
#[derive(Debug, Serialize, Deserialize)]
struct LoginRecord {
    relay: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_token: Option<String>,
}

impl LoginFile {
    /// The record in `dirs.config_dir`.
    pub(crate) fn new(dirs: &Dirs) -> Self {
        Self { path: dirs.config_dir.join("login.json") }
    }

    /// The relay logged in to, if any.
    pub(crate) fn load(&self) -> anyhow::Result<Option<Login>> {
        let record: Option<LoginRecord> = read_json(&self.path)?;
        let Some(LoginRecord { relay, admin_token }) = record else { return Ok(None) };
        let relay =
            relay.parse().with_context(|| format!("{} holds a bad URL", self.path.display()))?;
        Ok(Some(Login { relay, admin_token }))
    }

    /// Saves `login` (replacing any other).
    pub(crate) fn save(&self, login: &Login) -> anyhow::Result<()> {
        let record =
            LoginRecord { relay: login.relay.to_string(), admin_token: login.admin_token.clone() };
        write_json_atomic(&self.path, &record)
    }

    /// Forgets the login; `false` when there was none.
    pub(crate) fn remove(&self) -> anyhow::Result<bool> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(err) => {
                Err(err).with_context(|| format!("could not remove {}", self.path.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn dirs(root: &Path) -> Dirs {
        Dirs { config_dir: root.join("config"), data_dir: root.join("data") }
    }

    #[test]
    fn the_relay_listen_last_ran_with_is_the_default_of_the_others() {
        let root = tempfile::tempdir().expect("tempdir");
        let last = LastRelay::new(&dirs(root.path()));
        let default = RelayChoice::Embedded { port: DEFAULT_PORT };
        assert_eq!(last.or_last(None, None).expect("none yet"), default);
        last.save(&RelayChoice::Embedded { port: 28787 }).expect("save");
        assert_eq!(last.or_last(None, None).expect("load"), RelayChoice::Embedded { port: 28787 });
        let remote = RelayChoice::Remote("https://relay.example/".parse().expect("url"));
        assert_eq!(last.or_last(Some(&remote), None).expect("given wins"), remote);
        last.save(&remote).expect("save");
        assert_eq!(last.load().expect("load"), Some(remote));
    }
}
