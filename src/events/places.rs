//! Places of open streams among their owner's `SSE_MAX_PER_USER`, across instances: the hub counts
//! this process's streams, the store holds every instance's (on PostgreSQL). A stream takes its
//! place when it opens and gives it back when it closes; this process renews its streams' places
//! every third of [`STREAM_LEASE`], so those of a process that died lapse within it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use tokio::sync::watch;

use super::{Hub, StreamHandle};
use crate::store::{Store, StoreResult, StreamLease, STREAM_LEASE};

/// An open stream's place in the store; given back when dropped.
pub struct StreamPlace {
    store: Arc<dyn Store>,
    lease: StreamLease,
    /// Set when the process shuts down, whose [`end_all`] gives every place back at once.
    shutdown: watch::Receiver<bool>,
}

impl StreamPlace {
    /// Takes the place of `stream` (already counted by the hub) in the store: `None` when the
    /// owner's places are all held.
    pub async fn claim(store: &Arc<dyn Store>, hub: &Hub, stream: &StreamHandle) -> StoreResult<Option<Self>> {
        let admitted = store.claim_stream(&stream.lease, hub.max_per_user()).await?;
        Ok(admitted.then(|| Self {
            store: Arc::clone(store),
            lease: stream.lease.clone(),
            shutdown: stream.shutdown.clone(),
        }))
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        if *self.shutdown.borrow() {
            return;
        }
        // Off the dropping task: a stream ends inside hyper's connection, which must not wait.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, lease) = (Arc::clone(&self.store), self.lease.clone());
        runtime.spawn(async move {
            if let Err(e) = store.release_streams(std::slice::from_ref(&lease)).await {
                tracing::debug!(error = %e, "a closed stream's place is left to lapse");
            }
        });
    }
}

/// How often this process renews its streams' places.
const RENEW_EVERY: Duration = Duration::from_secs(STREAM_LEASE.as_secs() / 3);

/// Renews this process's streams' places until aborted. A stream that closes while a renewal
/// is under way may have its place written back by it; the next round gives such places back.
pub fn spawn_renewal(hub: Arc<Hub>, store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RENEW_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed: Vec<StreamLease> = Vec::new();
        loop {
            every.tick().await;
            let leases = hub.leases();
            let open: HashSet<Uuid> = leases.iter().map(|l| l.id).collect();
            let closed: Vec<StreamLease> = renewed.into_iter().filter(|l| !open.contains(&l.id)).collect();
            if !leases.is_empty() {
                if let Err(e) = store.renew_streams(&leases).await {
                    tracing::warn!(error = %e, streams = leases.len(), "cannot renew the event streams' places; retrying");
                }
            }
            if !closed.is_empty() {
                if let Err(e) = store.release_streams(&closed).await {
                    tracing::debug!(error = %e, "closed streams' places are left to lapse");
                }
            }
            renewed = leases;
        }
    })
}

/// Ends every stream of this process (shutdown) and gives back every place it holds at once, so
/// that clients reconnecting to another instance find them free; what cannot be given back
/// within a second lapses.
pub async fn end_all(hub: &Hub, store: &dyn Store) {
    hub.shut_down();
    match tokio::time::timeout(Duration::from_secs(1), store.release_instance_streams(hub.instance())).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "the streams' places are left to lapse"),
        Err(_) => tracing::debug!("the streams' places are left to lapse"),
    }
}
