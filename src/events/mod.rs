//! Live events (SPEC §9): which streams are open, and how they learn that something changed.
//!
//! The [`Hub`] knows nothing of HTTP or SQL. Whatever learns of a committed change — the request
//! that made it, or on PostgreSQL the listener that hears of other instances' changes
//! ([`listener`], [`announcer`]) — pokes the owner's channel; each open stream of that owner then reads
//! what changed through sync, from where it last was, so events come in change order and nothing
//! is sent that sync would not send. Pokes coalesce: a burst of writes costs a stream one read.
//! On SQLite, other processes' changes to the same file are found by the [`poller`].

pub mod announcer;
pub mod listener;
pub mod poller;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// One user's channels, shared by that user's open streams.
struct UserChannels {
    /// Bumped on every committed change of the user's objects.
    changes: watch::Sender<u64>,
    /// Bumped when the account changes (password, disabled, deleted): streams check their token.
    account: watch::Sender<u64>,
    streams: usize,
}

/// The open streams of this process, by user.
pub struct Hub {
    users: Mutex<HashMap<String, UserChannels>>,
    max_per_user: usize,
    /// Bumped when changes may have been missed (the database connection was lost): every
    /// stream starts again from the current state.
    resync: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
}

/// A user already has as many streams open as allowed.
#[derive(Debug)]
pub struct TooManyStreams;

impl Hub {
    pub fn new(max_per_user: usize) -> Arc<Self> {
        Arc::new(Self {
            users: Mutex::new(HashMap::new()),
            max_per_user,
            resync: watch::channel(0).0,
            shutdown: watch::channel(false).0,
        })
    }

    fn users(&self) -> MutexGuard<'_, HashMap<String, UserChannels>> {
        // The map stays consistent whatever panicked while holding it: every update is one step.
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a stream of `user_id`; it is unregistered when the handle drops.
    pub fn open(self: &Arc<Self>, user_id: &str) -> Result<StreamHandle, TooManyStreams> {
        let mut users = self.users();
        let channels = users.entry(user_id.to_owned()).or_insert_with(|| UserChannels {
            changes: watch::channel(0).0,
            account: watch::channel(0).0,
            streams: 0,
        });
        if channels.streams >= self.max_per_user {
            return Err(TooManyStreams);
        }
        channels.streams += 1;
        Ok(StreamHandle {
            hub: Arc::clone(self),
            user_id: user_id.to_owned(),
            changes: channels.changes.subscribe(),
            account: channels.account.subscribe(),
            resync: self.resync.subscribe(),
            shutdown: self.shutdown.subscribe(),
        })
    }

    /// Something of `user_id`'s changed and was committed.
    pub fn changed(&self, user_id: &str) {
        if let Some(c) = self.users().get(user_id) {
            c.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// `user_id`'s account changed: its streams check that their token still admits them.
    pub fn account_changed(&self, user_id: &str) {
        if let Some(c) = self.users().get(user_id) {
            c.account.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Changes may have been missed: every stream starts again from the current state.
    pub fn resync_all(&self) {
        self.resync.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Ends every stream (the server is shutting down).
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// The users with a stream open here.
    pub fn watched_users(&self) -> Vec<String> {
        self.users().keys().cloned().collect()
    }

    /// Open streams in all (for metrics and tests).
    pub fn open_streams(&self) -> usize {
        self.users().values().map(|c| c.streams).sum()
    }
}

/// One open stream's view of the hub.
pub struct StreamHandle {
    hub: Arc<Hub>,
    user_id: String,
    pub changes: watch::Receiver<u64>,
    pub account: watch::Receiver<u64>,
    pub resync: watch::Receiver<u64>,
    pub shutdown: watch::Receiver<bool>,
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        let mut users = self.hub.users();
        if let Some(c) = users.get_mut(&self.user_id) {
            c.streams = c.streams.saturating_sub(1);
            if c.streams == 0 {
                users.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_streams_per_user_and_forgets_closed_ones() {
        let hub = Hub::new(2);
        let a = hub.open("u").unwrap();
        let b = hub.open("u").unwrap();
        assert!(hub.open("u").is_err());
        let other = hub.open("v").unwrap();
        assert_eq!(hub.open_streams(), 3);
        drop(a);
        let c = hub.open("u").unwrap();
        drop((b, c, other));
        assert_eq!(hub.open_streams(), 0);
        assert!(hub.users().is_empty());
    }

    #[tokio::test]
    async fn pokes_reach_only_their_user() {
        let hub = Hub::new(8);
        let mut u = hub.open("u").unwrap();
        let mut v = hub.open("v").unwrap();
        hub.changed("u");
        hub.changed("nobody");
        assert!(u.changes.has_changed().unwrap());
        assert!(!v.changes.has_changed().unwrap());
        u.changes.mark_unchanged();
        hub.account_changed("v");
        assert!(v.account.has_changed().unwrap());
        hub.resync_all();
        assert!(u.resync.has_changed().unwrap() && v.resync.has_changed().unwrap());
        hub.shut_down();
        assert!(*u.shutdown.borrow_and_update());
        let _ = v.shutdown.changed().await;
    }
}
