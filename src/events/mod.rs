//! Live events (SPEC §9): which streams are open, and how they learn that something changed.
//!
//! The [`Hub`] knows nothing of HTTP or SQL. Whatever learns of a committed change — the request
//! that made it, or on PostgreSQL the listener that hears of other instances' changes
//! ([`listener`], [`announcer`]) — pokes the owner's channel; each open stream of that owner then reads
//! what changed through sync, from where it last was, so events come in change order and nothing
//! is sent that sync would not send. Pokes coalesce: a burst of writes costs a stream one read.
//! On SQLite, other processes' changes to the same file are found by the [`poller`]. A stream's
//! place among its owner's `SSE_MAX_PER_USER` is counted here and, across instances, in the
//! store ([`places`]).

pub mod announcer;
pub mod listener;
pub mod places;
pub mod poller;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use uuid::Uuid;

use crate::store::StreamLease;

/// One user's channels, shared by that user's open streams.
struct UserChannels {
    /// Bumped on every committed change of the user's objects.
    changes: watch::Sender<u64>,
    /// Bumped when the account changes (password, disabled, deleted): streams check their token.
    account: watch::Sender<u64>,
    /// The open streams' leases (their places among the user's `SSE_MAX_PER_USER`).
    leases: Vec<Uuid>,
}

/// The open streams of this process, by user.
pub struct Hub {
    users: Mutex<HashMap<String, UserChannels>>,
    max_per_user: usize,
    /// This process, as its stream places name it.
    instance: Uuid,
    /// Bumped when changes may have been missed (the database connection was lost): every
    /// stream starts again from the current state.
    resync: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
}

/// A user already has as many streams open as allowed.
#[derive(Debug)]
pub struct TooManyStreams;

impl Hub {
    pub fn new(max_per_user: usize, instance: Uuid) -> Arc<Self> {
        Arc::new(Self {
            users: Mutex::new(HashMap::new()),
            max_per_user,
            instance,
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
            leases: Vec::new(),
        });
        if channels.leases.len() >= self.max_per_user {
            return Err(TooManyStreams);
        }
        let lease = Uuid::now_v7();
        channels.leases.push(lease);
        Ok(StreamHandle {
            hub: Arc::clone(self),
            lease: StreamLease {
                user_id: user_id.to_owned(),
                id: lease,
                instance: self.instance,
            },
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
        self.users().values().map(|c| c.leases.len()).sum()
    }

    /// This process, as its streams' places name it.
    pub fn instance(&self) -> Uuid {
        self.instance
    }

    /// How many streams a user may have open.
    pub fn max_per_user(&self) -> usize {
        self.max_per_user
    }

    /// The places this process's open streams hold.
    pub fn leases(&self) -> Vec<StreamLease> {
        let users = self.users();
        let mut leases = Vec::with_capacity(users.values().map(|c| c.leases.len()).sum());
        for (user_id, c) in users.iter() {
            leases.extend(c.leases.iter().map(|id| StreamLease {
                user_id: user_id.clone(),
                id: *id,
                instance: self.instance,
            }));
        }
        leases
    }
}

/// One open stream's view of the hub.
pub struct StreamHandle {
    hub: Arc<Hub>,
    /// The stream's place among its owner's (the hub's count here; the store's across instances).
    pub lease: StreamLease,
    pub changes: watch::Receiver<u64>,
    pub account: watch::Receiver<u64>,
    pub resync: watch::Receiver<u64>,
    pub shutdown: watch::Receiver<bool>,
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        let mut users = self.hub.users();
        if let Some(c) = users.get_mut(&self.lease.user_id) {
            c.leases.retain(|id| *id != self.lease.id);
            if c.leases.is_empty() {
                users.remove(&self.lease.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_streams_per_user_and_forgets_closed_ones() {
        let instance = Uuid::now_v7();
        let hub = Hub::new(2, instance);
        let a = hub.open("u").unwrap();
        let b = hub.open("u").unwrap();
        assert!(hub.open("u").is_err());
        let other = hub.open("v").unwrap();
        assert_eq!(hub.open_streams(), 3);
        let mut leases = hub.leases();
        leases.sort_by_key(|l| l.id);
        assert_eq!(leases, vec![a.lease.clone(), b.lease.clone(), other.lease.clone()]);
        assert!(leases.iter().all(|l| l.instance == instance));
        assert_eq!((a.lease.user_id.as_str(), other.lease.user_id.as_str()), ("u", "v"));
        drop(a);
        assert_eq!(hub.leases().len(), 2, "a closed stream's place goes");
        let c = hub.open("u").unwrap();
        drop((b, c, other));
        assert_eq!(hub.open_streams(), 0);
        assert!(hub.users().is_empty());
    }

    #[tokio::test]
    async fn pokes_reach_only_their_user() {
        let hub = Hub::new(8, Uuid::now_v7());
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
