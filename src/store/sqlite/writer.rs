//! The writer connection: every write of the process goes through it, one at a time.
//!
//! It is one connection behind a FIFO mutex rather than a pool of one: a pooled connection goes
//! back to its pool through a spawned task that pings its thread first, and a writer that every
//! write waits for cannot afford those round trips between two writes. Each statement is a round
//! trip to the connection's own thread, so the hot writes send their whole transaction
//! (`BEGIN IMMEDIATE; …; COMMIT`) as one command ([`Writer::run_once`]). (Running them from a
//! thread of their own, off the server's runtime, measured no faster.)

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::query::QueryAs;
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{ConnectOptions, FromRow, Sqlite};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::store::{StoreError, StoreResult};

const BEGIN: &str = super::begin_write!();

pub(super) struct Writer {
    state: Arc<Mutex<State>>,
    /// How long a write waits for its turn (`DB_ACQUIRE_TIMEOUT`, as for a pooled connection).
    wait: Duration,
}

struct State {
    conn: SqliteConnection,
    options: SqliteConnectOptions,
    /// A transaction may be open: set before its `BEGIN` is sent, cleared once its `COMMIT` has
    /// answered. A write that failed or was cancelled in between leaves it set, and whoever
    /// holds the writer next rolls back first.
    open: bool,
    closed: bool,
}

impl State {
    /// Rolls back whatever a dropped write left open; a connection that cannot is replaced.
    async fn recover(&mut self) {
        match sqlx::query("ROLLBACK").execute(&mut self.conn).await {
            Ok(_) => self.open = false,
            // The write had ended after all (its COMMIT ran, or its BEGIN never did).
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.message().contains("no transaction is active")) =>
            {
                self.open = false
            }
            Err(e) => {
                tracing::warn!(error = %e, "the SQLite writer could not roll back; reconnecting");
                match self.options.connect().await {
                    Ok(conn) => {
                        self.conn = conn;
                        self.open = false;
                    }
                    // `open` stays set: the next write tries again.
                    Err(e) => tracing::warn!(error = %e, "the SQLite writer could not reconnect"),
                }
            }
        }
    }
}

impl Writer {
    pub async fn connect(options: SqliteConnectOptions, wait: Duration) -> StoreResult<Self> {
        let conn = options.connect().await?;
        let state = State {
            conn,
            options,
            open: false,
            closed: false,
        };
        Ok(Self {
            state: Arc::new(Mutex::new(state)),
            wait,
        })
    }

    /// The writer, for this caller alone until it is dropped (tokio's mutex is fair: writes get
    /// it in the order they asked).
    pub async fn hold(&self) -> StoreResult<Held> {
        hold(&self.state, self.wait).await
    }

    /// A write transaction, begun `IMMEDIATE`.
    pub async fn begin(&self) -> StoreResult<WriteTx> {
        let mut held = self.hold().await?;
        held.state().open = true;
        sqlx::query(BEGIN).execute(&mut *held).await?;
        Ok(WriteTx(held))
    }

    /// Runs a whole write transaction sent as one command, `BEGIN IMMEDIATE; …; COMMIT`: one round
    /// trip while the writer is held. Returns every row the statements return.
    pub async fn run_once<'q, O>(&self, query: QueryAs<'q, Sqlite, O, SqliteArguments<'q>>) -> StoreResult<Vec<O>>
    where
        O: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        let mut held = self.hold().await?;
        held.state().open = true;
        // Statements stop at the first error, before the COMMIT: roll back what ran. A caller
        // dropped meanwhile leaves `open` set, and the next holder rolls back.
        let rows = query.fetch_all(&mut *held).await;
        let state = held.state();
        match rows {
            Ok(rows) => {
                state.open = false;
                Ok(rows)
            }
            Err(e) => {
                state.recover().await;
                Err(e.into())
            }
        }
    }

    pub fn busy(&self) -> bool {
        self.state.try_lock().is_err()
    }

    pub async fn close(&self) {
        let mut state = self.state.lock().await;
        state.closed = true;
        if state.open {
            state.recover().await;
        }
        // A last checkpoint; the connection itself closes when the store is dropped.
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut state.conn)
            .await
        {
            tracing::warn!(error = %e, "checkpoint of the SQLite WAL at close failed");
        }
    }
}

async fn hold(state: &Arc<Mutex<State>>, wait: Duration) -> StoreResult<Held> {
    let mut state = tokio::time::timeout(wait, state.clone().lock_owned())
        .await
        .map_err(|_| StoreError::Unavailable("timed out waiting for the SQLite writer".into()))?;
    if state.closed {
        return Err(StoreError::Unavailable("the SQLite store is closed".into()));
    }
    if state.open {
        state.recover().await;
        if state.open {
            return Err(StoreError::Unavailable("the SQLite writer is broken".into()));
        }
    }
    Ok(Held(Some(state)))
}

/// The writer, held. (Always `Some`: the option lets a dropped transaction hand it to its
/// rollback.)
pub(super) struct Held(Option<OwnedMutexGuard<State>>);

impl Held {
    fn state(&mut self) -> &mut State {
        match self.0.as_mut() {
            Some(state) => state,
            None => unreachable!("a held writer is taken only when dropped"),
        }
    }
}

impl Deref for Held {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self.0.as_ref() {
            Some(state) => &state.conn,
            None => unreachable!("a held writer is taken only when dropped"),
        }
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.state().conn
    }
}

/// A write transaction on the writer; dropped without [`WriteTx::commit`], it rolls back.
pub(super) struct WriteTx(Held);

impl WriteTx {
    pub async fn commit(mut self) -> StoreResult<()> {
        sqlx::query("COMMIT").execute(&mut *self.0).await?;
        self.0.state().open = false;
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.0
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // Roll back now rather than at the next write, so that the write lock is not kept
        // meanwhile; the writer stays held until then. Without a runtime the next write does it.
        if let (Some(mut state), Ok(runtime)) = (self.0 .0.take(), tokio::runtime::Handle::try_current()) {
            if state.open {
                runtime.spawn(async move { state.recover().await });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn writer(dir: &tempfile::TempDir) -> Writer {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("w.db"))
            .create_if_missing(true);
        let writer = Writer::connect(options, Duration::from_secs(1)).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .execute(&mut *writer.hold().await.unwrap())
            .await
            .unwrap();
        writer
    }

    async fn rows(writer: &Writer) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&mut *writer.hold().await.unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_dropped_transaction_rolls_back_and_frees_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir).await;
        let mut tx = writer.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await.unwrap();
        drop(tx);
        let mut tx = writer.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (2)").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(rows(&writer).await, [2]);
    }

    #[tokio::test]
    async fn a_failing_statement_undoes_the_whole_command() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir).await;
        let failing = sqlx::query_as::<_, (i64,)>(
            "BEGIN IMMEDIATE; INSERT INTO t VALUES (1) RETURNING n; INSERT INTO t VALUES (1); COMMIT",
        );
        assert!(writer.run_once(failing).await.is_err());
        let fine = sqlx::query_as::<_, (i64,)>("BEGIN IMMEDIATE; INSERT INTO t VALUES (3) RETURNING n; COMMIT");
        assert_eq!(writer.run_once(fine).await.unwrap(), [(3,)]);
        assert_eq!(rows(&writer).await, [3]);
    }

    #[tokio::test]
    async fn a_cancelled_write_is_rolled_back_before_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir).await;
        // Sent, then given up on before its answer (a client gone): what ran of it must neither
        // stay open nor be committed by the next write.
        let slow = sqlx::query_as::<_, (i64,)>(
            "BEGIN IMMEDIATE; INSERT INTO t VALUES (1) RETURNING n; \
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) \
             SELECT count(*) FROM c; COMMIT",
        );
        let cancelled = tokio::time::timeout(Duration::from_millis(5), writer.run_once(slow)).await;
        assert!(cancelled.is_err(), "the slow command should still be running");
        let fine = sqlx::query_as::<_, (i64,)>("BEGIN IMMEDIATE; INSERT INTO t VALUES (2) RETURNING n; COMMIT");
        assert_eq!(writer.run_once(fine).await.unwrap(), [(2,)]);
        assert_eq!(rows(&writer).await, [2]);
    }
}
