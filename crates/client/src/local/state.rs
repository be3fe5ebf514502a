//! Small JSON files that survive restarts: the saved channel per relay (`channels.json`,
//! it holds tokens), the relay `listen` last ran with (`relay.json`), the last acknowledged
//! `seq` per relay and channel (`cursors.json`) and where `listen` last forwarded them
//! (`targets.json`). Each is rewritten whole with
//! [`write_atomic`] (temp file + rename, mode 0600), so a `kill -9` leaves either the old or
//! the new version, never half of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use hookrelay_proto::ChannelCreated;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{DEFAULT_PORT, RelayChoice};
use crate::local::atomic::{private_dir, write_atomic};
use crate::local::paths::Dirs;

/// A channel this CLI created (or was given) on a relay, with what it needs to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedChannel {
    /// Channel id.
    pub channel: String,
    /// Channel token (a secret).
    pub token: String,
    /// Where providers POST.
    pub ingest_url: String,
}

impl From<ChannelCreated> for SavedChannel {
    fn from(created: ChannelCreated) -> Self {
        Self { channel: created.channel, token: created.token, ingest_url: created.ingest_url }
    }
}

/// Saved channels, keyed by relay base URL.
pub(crate) struct ChannelBook {
    path: PathBuf,
}

impl ChannelBook {
    /// The book in `dirs.config_dir`.
    pub(crate) fn new(dirs: &Dirs) -> Self {
        Self { path: dirs.config_dir.join("channels.json") }
    }

    /// The channel saved for `relay`, if any.
    pub(crate) fn get(&self, relay: &Url) -> anyhow::Result<Option<SavedChannel>> {
        let mut all: BTreeMap<String, SavedChannel> = read_json(&self.path)?;
        Ok(all.remove(relay.as_str()))
    }

    /// Every saved channel, by relay base URL.
    pub(crate) fn all(&self) -> anyhow::Result<BTreeMap<String, SavedChannel>> {
        read_json(&self.path)
    }

    /// Forgets the channel saved for `relay`.
    pub(crate) fn remove(&self, relay: &Url) -> anyhow::Result<()> {
        let mut all: BTreeMap<String, SavedChannel> = read_json(&self.path)?;
        if all.remove(relay.as_str()).is_some() {
            write_json_atomic(&self.path, &all)?;
        }
        Ok(())
    }

    /// Saves (or replaces) the channel for `relay`.
    pub(crate) fn put(&self, relay: &Url, channel: &SavedChannel) -> anyhow::Result<()> {
        let mut all: BTreeMap<String, SavedChannel> = read_json(&self.path)?;
        all.insert(relay.as_str().to_owned(), channel.clone());
        write_json_atomic(&self.path, &all)
    }
}

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

/// One JSON value per relay + channel, in a file of the data directory shared by all
/// channels (each write re-reads the file so other channels' entries, perhaps written by
/// another `hookrelay` process, are kept).
struct PerChannel {
    path: PathBuf,
    key: String,
}

impl PerChannel {
    fn new(dirs: &Dirs, file: &str, relay: &Url, channel: &str) -> Self {
        Self { path: dirs.data_dir.join(file), key: format!("{relay}#{channel}") }
    }

    fn load<T: for<'de> Deserialize<'de>>(&self) -> anyhow::Result<Option<T>> {
        let mut all: BTreeMap<String, T> = read_json(&self.path)?;
        Ok(all.remove(&self.key))
    }

    fn save<T: Serialize + for<'de> Deserialize<'de>>(&self, value: T) -> anyhow::Result<()> {
        let mut all: BTreeMap<String, T> = read_json(&self.path)?;
        all.insert(self.key.clone(), value);
        write_json_atomic(&self.path, &all)
    }
}

/// The delivery cursor of one relay + channel: the highest `seq` such that it and every
/// earlier event were acknowledged (`cursors.json`).
pub(crate) struct CursorFile(PerChannel);

impl CursorFile {
    /// The cursor for `channel` on `relay`, stored in `dirs.data_dir`.
    pub(crate) fn new(dirs: &Dirs, relay: &Url, channel: &str) -> Self {
        Self(PerChannel::new(dirs, "cursors.json", relay, channel))
    }

    /// The saved cursor, 0 when none.
    pub(crate) fn load(&self) -> anyhow::Result<u64> {
        Ok(self.0.load()?.unwrap_or(0))
    }

    /// Saves `seq`.
    pub(crate) fn save(&self, seq: u64) -> anyhow::Result<()> {
        self.0.save(seq)
    }
}

/// Where `listen` last forwarded one relay + channel's events (`targets.json`): the default
/// target of `replay` and `show --curl`, so they go where the live stream goes.
pub(crate) struct LastTarget(PerChannel);

impl LastTarget {
    /// The entry for `channel` on `relay`, stored in `dirs.data_dir`.
    pub(crate) fn new(dirs: &Dirs, relay: &Url, channel: &str) -> Self {
        Self(PerChannel::new(dirs, "targets.json", relay, channel))
    }

    /// The last `--forward-to`, if `listen` ever ran with one.
    pub(crate) fn load(&self) -> anyhow::Result<Option<Url>> {
        let Some(text) = self.0.load::<String>()? else { return Ok(None) };
        let url =
            text.parse().with_context(|| format!("{} holds a bad URL", self.0.path.display()))?;
        Ok(Some(url))
    }

    /// Remembers `target`.
    pub(crate) fn save(&self, target: &Url) -> anyhow::Result<()> {
        self.0.save(target.to_string())
    }
}

fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> anyhow::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid; fix or delete it", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let dir = path.parent().context("state file has no parent directory")?;
    private_dir(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let what = || format!("could not write {}", path.display());
    let mut bytes = serde_json::to_vec_pretty(value).with_context(what)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes, false).with_context(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(root: &Path) -> Dirs {
        Dirs { config_dir: root.join("config"), data_dir: root.join("data") }
    }

    #[test]
    fn channels_round_trip_per_relay_with_private_mode() {
        let root = tempfile::tempdir().expect("tempdir");
        let book = ChannelBook::new(&dirs(root.path()));
        let relay: Url = "http://127.0.0.1:8787".parse().expect("url");
        assert_eq!(book.get(&relay).expect("empty"), None);
        let saved = SavedChannel {
            channel: "ch_1".into(),
            token: "tok".into(),
            ingest_url: "http://127.0.0.1:8787/h/ch_1".into(),
        };
        book.put(&relay, &saved).expect("put");
        assert_eq!(book.get(&relay).expect("get"), Some(saved));
        let other: Url = "https://relay.example".parse().expect("url");
        assert_eq!(book.get(&other).expect("get"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(root.path().join("config/channels.json"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
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

    #[test]
    fn cursors_are_kept_per_relay_and_channel() {
        let root = tempfile::tempdir().expect("tempdir");
        let relay: Url = "http://127.0.0.1:8787".parse().expect("url");
        let a = CursorFile::new(&dirs(root.path()), &relay, "a");
        let b = CursorFile::new(&dirs(root.path()), &relay, "b");
        assert_eq!(a.load().expect("load"), 0);
        a.save(5).expect("save");
        b.save(9).expect("save");
        a.save(6).expect("save");
        assert_eq!((a.load().expect("a"), b.load().expect("b")), (6, 9));
    }

    #[test]
    fn last_targets_are_kept_per_relay_and_channel_beside_the_cursors() {
        let root = tempfile::tempdir().expect("tempdir");
        let relay: Url = "http://127.0.0.1:8787".parse().expect("url");
        let target = LastTarget::new(&dirs(root.path()), &relay, "a");
        assert_eq!(target.load().expect("empty"), None);
        CursorFile::new(&dirs(root.path()), &relay, "a").save(3).expect("save");
        let url: Url = "http://localhost:3000/hooks".parse().expect("url");
        target.save(&url).expect("save");
        assert_eq!(target.load().expect("load"), Some(url));
        assert_eq!(LastTarget::new(&dirs(root.path()), &relay, "b").load().expect("b"), None);
    }
}
