//! On SQLite, changes that other processes make to the same file. They have no channel to this
//! one (PostgreSQL has `LISTEN`), so every [`POLL_EVERY`] the poller reads the change counter
//! of each user with a stream open here, and pokes that user's streams when it moved. A change
//! written through this process moves it too: that poke only makes the streams read sync once
//! more and find nothing new.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::Hub;
use crate::store::Store;

/// Events within a second of a change made elsewhere (SPEC §9), at one small read per watched
/// user and poll.
const POLL_EVERY: Duration = Duration::from_millis(400);

pub fn spawn(hub: Arc<Hub>, store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen: HashMap<String, i64> = HashMap::new();
        let mut ticks = tokio::time::interval(POLL_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let users = hub.watched_users();
            seen.retain(|user, _| users.contains(user));
            for user in users {
                let Ok(latest) = store.latest_change(&user).await else {
                    continue;
                };
                // A user seen for the first time is poked too: a change may have come between
                // the stream's `ready` and this look.
                if seen.insert(user.clone(), latest) != Some(latest) {
                    hub.changed(&user);
                }
            }
        }
    })
}
