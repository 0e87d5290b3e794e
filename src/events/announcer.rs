//! Telling the other instances on PostgreSQL: `NOTIFY taskapi_changes` off the write path.
//!
//! A `NOTIFY` inside a write's transaction would be exact, but PostgreSQL serialises the commits
//! of notifying transactions (their WAL flush included) to keep the queue in commit order, which
//! measured here cut 32 clients' writes tenfold. So a write only marks its owner here, after it
//! committed; one task sends the owners marked within 50 ms in one batch, from a transaction of
//! its own that writes nothing (no flush to wait for).
//!
//! The payload is `{"from": <instance>, "users": [<user id>…]}`: a listener ignores its own
//! instance's batches, whose streams were told directly.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::Notify;
use uuid::Uuid;

use super::listener::CHANGES;

/// PostgreSQL refuses payloads of 8000 bytes or more.
const PAYLOAD_MAX: usize = 7_000;
/// How long marks gather before a batch goes: a busy server sends a few notifications a second
/// instead of one per write, and a stream elsewhere still hears within a second.
const GATHER: Duration = Duration::from_millis(50);
const RETRY_AFTER: Duration = Duration::from_millis(250);

#[derive(Serialize, Deserialize)]
pub struct Batch {
    pub from: Uuid,
    pub users: Vec<String>,
}

/// The owners whose changes this instance has yet to announce.
pub struct Announcer {
    pub instance: Uuid,
    pending: Mutex<HashSet<String>>,
    wake: Notify,
}

impl Announcer {
    /// `instance` names this process in its batches.
    pub fn new(instance: Uuid) -> Arc<Self> {
        Arc::new(Self {
            instance,
            pending: Mutex::new(HashSet::new()),
            wake: Notify::new(),
        })
    }

    /// `user_id`'s objects changed (committed): tell the other instances soon.
    pub fn announce(&self, user_id: &str) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.insert(user_id.to_owned()) && pending.len() == 1 {
            self.wake.notify_one();
        }
    }

    fn take(&self) -> Vec<String> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.drain().collect()
    }

    /// Payloads of at most [`PAYLOAD_MAX`] bytes carrying every one of `users`.
    fn payloads(&self, users: Vec<String>) -> Vec<String> {
        let mut out = Vec::new();
        let mut batch = Batch {
            from: self.instance,
            users: Vec::new(),
        };
        let mut size = 64;
        for user in users {
            let len = user.len() * 2 + 4;
            if size + len > PAYLOAD_MAX && !batch.users.is_empty() {
                out.extend(serde_json::to_string(&batch).ok());
                batch.users.clear();
                size = 64;
            }
            size += len;
            batch.users.push(user);
        }
        if !batch.users.is_empty() {
            out.extend(serde_json::to_string(&batch).ok());
        }
        out
    }

    /// Sends what is marked, batch after batch, until the task is aborted.
    pub fn spawn(self: &Arc<Self>, pool: PgPool) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                me.wake.notified().await;
                tokio::time::sleep(GATHER).await;
                let users = me.take();
                if users.is_empty() {
                    continue;
                }
                for payload in me.payloads(users.clone()) {
                    let sent = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANGES)
                        .bind(&payload)
                        .execute(&pool)
                        .await;
                    if let Err(e) = sent {
                        tracing::warn!(error = %e, "cannot announce changes to other instances; retrying");
                        for user in &users {
                            me.announce(user);
                        }
                        tokio::time::sleep(RETRY_AFTER).await;
                        break;
                    }
                }
                // Whatever was marked while sending goes in the next batch.
                if !me.pending.lock().unwrap_or_else(PoisonError::into_inner).is_empty() {
                    me.wake.notify_one();
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_limit_and_carry_everyone() {
        let a = Announcer::new(Uuid::now_v7());
        let users: Vec<String> = (0..2_000).map(|i| format!("user-{i:05}-\"quoted\"")).collect();
        let payloads = a.payloads(users.clone());
        assert!(payloads.len() > 1);
        let mut seen = Vec::new();
        for p in &payloads {
            assert!(p.len() < 8_000, "{}", p.len());
            let batch: Batch = serde_json::from_str(p).unwrap();
            assert_eq!(batch.from, a.instance);
            seen.extend(batch.users);
        }
        assert_eq!(seen, users);
    }

    #[test]
    fn marks_coalesce() {
        let a = Announcer::new(Uuid::now_v7());
        a.announce("u");
        a.announce("u");
        a.announce("v");
        let mut taken = a.take();
        taken.sort();
        assert_eq!(taken, ["u", "v"]);
        assert!(a.take().is_empty());
    }
}
