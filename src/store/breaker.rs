//! Failing fast while PostgreSQL is unreachable (SPEC §12).
//!
//! A request that meets a connection-class failure (a dead connection, no connection in time)
//! reports it; a watcher task then tries a connection of its own. Only when that fails is the
//! breaker opened, so a busy but healthy database (pool waits under load) never opens it. While
//! it is open, requests that need the database answer 503 at once and the watcher retries every
//! [`PROBE_EVERY`]; its first success closes the breaker again.
//!
//! A database that stops answering without refusing (a frozen host, a network that drops
//! packets) sends no error to react to: every exchange with it is [`watched`], and one that has
//! had no answer for [`STALL_AFTER`] makes the watcher try a quick connection of its own, so
//! that the breaker opens within about a second, not after the pool's timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::postgres::db::Db;
use sqlx::{Connection, Executor};
use tokio::sync::{watch, Notify};

/// How often an open breaker tries the database again.
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// How long one attempt while open may take: short, so a return is noticed at once.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a statement, or a wait for a connection, may go unanswered before the watcher looks.
/// Far above what a statement takes here (heavy-user searches: 10-25 ms), so a false alarm is
/// rare, and it costs one connection attempt.
pub const STALL_AFTER: Duration = Duration::from_millis(200);
/// How long the look after a stall may take: with [`STALL_AFTER`], a silent database is answered
/// 503 within a second. A healthy server, even a busy one, opens a connection far sooner.
const STALL_PROBE_TIMEOUT: Duration = Duration::from_millis(600);

/// Shared by the store (which reports trouble) and the HTTP layer (which asks whether to fail
/// fast).
pub struct Breaker {
    open: watch::Sender<bool>,
    trouble: Notify,
    stalled: Notify,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            open: watch::Sender::new(false),
            trouble: Notify::new(),
            stalled: Notify::new(),
        }
    }
}

impl Breaker {
    /// The database is known to be unreachable.
    pub fn is_open(&self) -> bool {
        *self.open.borrow()
    }

    /// Resolves when the breaker opens (at once if it is open).
    pub async fn opened(&self) {
        let mut rx = self.open.subscribe();
        let _ = rx.wait_for(|open| *open).await;
    }

    /// A request met a failure that may mean the database is gone: check.
    pub fn report_trouble(&self) {
        self.trouble.notify_one();
    }

    /// An exchange with the database has had no answer for [`STALL_AFTER`]: check, quickly.
    pub fn report_stall(&self) {
        self.stalled.notify_one();
    }

    fn set(&self, open: bool) {
        self.open
            .send_if_modified(|state| std::mem::replace(state, open) != open);
    }
}

/// Awaits `exchange`, reporting a stall once if it has had no answer after [`STALL_AFTER`].
pub async fn watched<T>(breaker: &Breaker, exchange: impl Future<Output = T>) -> T {
    let mut exchange = std::pin::pin!(exchange);
    tokio::select! {
        biased;
        done = &mut exchange => return done,
        () = tokio::time::sleep(STALL_AFTER) => breaker.report_stall(),
    }
    exchange.await
}

/// Can a fresh connection be made and answer a simple-protocol query within `timeout`? An error
/// that says the server is merely full (too many connections) counts as reachable.
async fn reachable(options: &PgConnectOptions, timeout: Duration) -> bool {
    let attempt = async {
        let mut conn = PgConnection::connect_with(options).await?;
        conn.execute("SELECT 1").await?;
        let _ = conn.close().await;
        Ok::<(), sqlx::Error>(())
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => true,
        Ok(Err(sqlx::Error::Database(e))) if e.code().as_deref() == Some("53300") => true,
        Ok(Err(_)) | Err(_) => false,
    }
}

/// Idle connections are closed after this long unused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Watches the database for the pool's lifetime: opens the breaker when trouble is reported and a
/// fresh connection fails within `decide_within`, closes it on the first probe that succeeds.
pub fn spawn_watcher(breaker: Arc<Breaker>, pool: Db, options: PgConnectOptions, decide_within: Duration) {
    tokio::spawn(async move {
        loop {
            // Wakes now and then only to notice that the pool was closed.
            let probe_within = tokio::select! {
                () = breaker.trouble.notified() => Some(decide_within),
                () = breaker.stalled.notified() => Some(STALL_PROBE_TIMEOUT.min(decide_within)),
                () = tokio::time::sleep(Duration::from_secs(5)) => None,
            };
            if pool.is_closed() {
                return;
            }
            let Some(probe_within) = probe_within else {
                // Upkeep only when nothing is wrong: closing politely waits for the server.
                pool.close_idle(IDLE_TIMEOUT).await;
                continue;
            };
            if reachable(&options, probe_within).await {
                continue;
            }
            breaker.set(true);
            tracing::warn!("database unreachable: answering 503 at once until it is back");
            // Idle connections from before an outage are dead (the server restarted, or the
            // network dropped them): gone, so that requests after the return get fresh ones
            // instead of an I/O error each.
            pool.discard_idle();
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                if pool.is_closed() {
                    return;
                }
                if reachable(&options, PROBE_TIMEOUT).await {
                    break;
                }
            }
            pool.discard_idle();
            breaker.set(false);
            tracing::info!("database reachable again");
        }
    });
}
