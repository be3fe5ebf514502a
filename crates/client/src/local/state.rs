//! Small JSON files that survive restarts: the saved channel per relay (`channels.json`,
//! it holds tokens), the last acknowledged `seq` per relay and channel (`cursors.json`) and
//! where `listen` last forwarded them (`targets.json`); which relay to use is in
//! `saved_relay`. Each is rewritten whole with
//! [`write_atomic`] (temp file + rename, mode 0600), so a `kill -9` leaves either the old or
//! the new version, never half of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use hookrelay_proto::ChannelCreated;
use serde::{Deserialize, Serialize};
use url::Url;

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

pub(super) fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> anyhow::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid; fix or delete it", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

pub(super) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
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
