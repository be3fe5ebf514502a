//! For a store shared by several relays (Redis): one task per relay that waits, with a
//! blocking read, for appends to the channels this relay's sessions stream and for channel
//! deletions, whoever made them, and wakes (or, for a deleted channel, ends) those sessions
//! through the hub. Appends and deletions made here reach them directly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::hub::Hub;
use crate::store::{Elsewhere, Store};

/// Longest one blocking read waits; the list of watched channels is renewed after it.
const BLOCK: Duration = Duration::from_secs(1);
/// Pause after a failed read before the next one.
const RETRY: Duration = Duration::from_secs(1);

/// Follows the store's appends until `shutdown`.
pub(crate) async fn run(store: Arc<dyn Store>, hub: &Hub, shutdown: CancellationToken) {
    let mut cursors: HashMap<String, u64> = HashMap::new();
    loop {
        let watched = hub.watched();
        cursors.retain(|channel, _| watched.contains(channel));
        for channel in watched {
            if cursors.contains_key(&channel) {
                continue;
            }
            if let Ok(Some(info)) = store.channel(&channel).await {
                // An append from elsewhere may have landed after the session's first read:
                // one wake-up at the cursor's start covers it.
                hub.notify(&channel, info.last_seq);
                cursors.insert(channel, info.last_seq);
            }
        }
        let list: Vec<(String, u64)> = cursors.iter().map(|(c, s)| (c.clone(), *s)).collect();
        let read = async {
            if list.is_empty() {
                hub.new_channel().await;
                return Ok(Elsewhere::default());
            }
            store.elsewhere(&list, BLOCK).await
        };
        let seen = tokio::select! {
            () = shutdown.cancelled() => return,
            seen = read => seen,
        };
        match seen {
            Ok(seen) => {
                for (channel, seq) in seen.appended {
                    hub.notify(&channel, seq);
                    cursors.insert(channel, seq);
                }
                for channel in seen.deleted {
                    if cursors.remove(&channel).is_some() {
                        tracing::info!(channel, "channel deleted through another relay");
                        hub.close(&channel);
                    }
                }
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not follow other relays' appends and deletions"
                );
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
            }
        }
    }
}
