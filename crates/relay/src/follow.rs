//! For a store shared by several relays (Redis): one task per relay that waits, with a
//! blocking read, for appends to the channels this relay's sessions stream, whoever made
//! them, and wakes those sessions through the hub. Appends made here wake them directly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::hub::Hub;
use crate::store::Store;

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
                return Ok(Vec::new());
            }
            store.appended_elsewhere(&list, BLOCK).await
        };
        let newest = tokio::select! {
            () = shutdown.cancelled() => return,
            newest = read => newest,
        };
        match newest {
            Ok(newest) => {
                for (channel, seq) in newest {
                    hub.notify(&channel, seq);
                    cursors.insert(channel, seq);
                }
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not follow other relays' appends"
                );
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
            }
        }
    }
}
