//! Between instances: PostgreSQL `LISTEN` on a connection of its own.
//!
//! After its writes commit, each instance announces their owners on `taskapi_changes`
//! ([`announcer`](super::announcer)); account changes that revoke tokens send
//! `taskapi_accounts` from their own statement. Payloads carry user ids only: streams read the
//! changes themselves, through sync.
//!
//! The connection is the direct one (`DATABASE_DIRECT_URL` when set): a transaction pooler
//! cannot hold a `LISTEN`. When it is lost (a database restart), the listener connects again
//! by itself and then tells every stream to resync and forgets every cached account, since
//! notifications sent meanwhile are gone.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use uuid::Uuid;

use super::announcer::Batch;
use super::Hub;

pub const CHANGES: &str = "taskapi_changes";
pub const ACCOUNTS: &str = "taskapi_accounts";

const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MOST: Duration = Duration::from_secs(2);

/// What the listener tells the rest of the process besides the hub.
pub struct Hooks {
    /// An account changed somewhere: forget what is cached of it.
    pub account_changed: Box<dyn Fn(&str) + Send + Sync>,
    /// Notifications may have been missed: forget every cached account.
    pub reconnected: Box<dyn Fn() + Send + Sync>,
}

async fn connect(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    // A lost connection ends the inner loop below, which connects anew and resyncs.
    listener.eager_reconnect(false);
    listener.listen_all([CHANGES, ACCOUNTS]).await?;
    Ok(listener)
}

/// Pokes the streams of every user in another instance's batch.
fn changes_from(payload: &str, own: Uuid, hub: &Hub) {
    match serde_json::from_str::<Batch>(payload) {
        Ok(batch) if batch.from == own => {}
        Ok(batch) => batch.users.iter().for_each(|u| hub.changed(u)),
        Err(_) => tracing::debug!("ignored a malformed change notification"),
    }
}

/// Listens until the task is aborted; `own` is this instance's announcer, whose batches it
/// skips (this instance's streams were told directly).
pub fn spawn(options: PgConnectOptions, own: Uuid, hub: Arc<Hub>, hooks: Hooks) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut first = true;
        let mut retry = RETRY_FIRST;
        loop {
            let mut listener = match connect(&options).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for changes; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(RETRY_MOST);
                    continue;
                }
            };
            retry = RETRY_FIRST;
            if !first {
                tracing::info!("listening for changes again; streams resync");
                (hooks.reconnected)();
                hub.resync_all();
            }
            first = false;
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) if n.channel() == CHANGES => changes_from(n.payload(), own, &hub),
                    Ok(Some(n)) if n.channel() == ACCOUNTS => {
                        (hooks.account_changed)(n.payload());
                        hub.account_changed(n.payload());
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => {
                        tracing::warn!("lost the connection that listens for changes; reconnecting");
                        break;
                    }
                }
            }
        }
    })
}
