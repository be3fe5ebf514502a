//! Where the CLI keeps its files: saved channels in the config directory, delivery cursors
//! (and the embedded relay's store) in the data directory.

use std::path::PathBuf;

use anyhow::Context as _;

/// Overrides the config directory (tests, portable setups).
pub(crate) const CONFIG_DIR_ENV: &str = "HOOKRELAY_CONFIG_DIR";
/// Overrides the data directory.
pub(crate) const DATA_DIR_ENV: &str = "HOOKRELAY_DATA_DIR";

/// The two directories the CLI writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dirs {
    /// Holds `channels.json` (ids and tokens, mode 0600).
    pub config_dir: PathBuf,
    /// Holds `cursors.json` and the embedded relay's SQLite store.
    pub data_dir: PathBuf,
}

impl Dirs {
    /// `$HOOKRELAY_CONFIG_DIR` / `$HOOKRELAY_DATA_DIR` when set, otherwise the platform's
    /// config and data directories (which honour `XDG_*` on Linux) joined with `hookrelay`.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        let pick = |var: &str, platform: Option<PathBuf>, what: &str| match std::env::var_os(var)
            .filter(|value| !value.is_empty())
        {
            Some(dir) => Ok(PathBuf::from(dir)),
            None => platform
                .map(|dir| dir.join("hookrelay"))
                .with_context(|| format!("no {what} directory on this platform; set {var}")),
        };
        Ok(Self {
            config_dir: pick(CONFIG_DIR_ENV, dirs::config_dir(), "config")?,
            data_dir: pick(DATA_DIR_ENV, dirs::data_dir(), "data")?,
        })
    }
}
