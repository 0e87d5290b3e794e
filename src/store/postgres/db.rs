//! The pool as every statement reaches it, and its transactions.
//!
//! Through a pooler that cannot carry named prepared statements (PgBouncer before 1.21 in
//! transaction mode, Supavisor; `pgbouncer=true` on the URL), sqlx 0.8 cannot be used as it is:
//! even with its statement cache off it names every statement (`sqlx_s_1`, …), and two clients'
//! names meet on one server connection ("prepared statement already exists"). An unnamed statement
//! is no cure on its own either: sqlx parses it and executes it in two protocol exchanges, each
//! ending in Sync, and the pooler may hand the second to another server connection, where the
//! unnamed statement is someone else's. So in that mode every statement is sent unnamed inside a
//! transaction, which keeps both exchanges on one server connection. That costs a BEGIN and a
//! COMMIT per statement (measured in bench/README.md); without `pgbouncer=true` nothing changes.

use either::Either;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, StreamExt, TryStreamExt};
use sqlx::error::BoxDynError;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Manager, Metrics, Object, Pool, PoolError, RecycleError, RecycleResult};
use deadpool::Runtime;

use crate::store::breaker::{self, Breaker};
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgQueryResult, PgRow, PgStatement, PgTransactionManager, PgTypeInfo,
    Postgres,
};
use sqlx::Describe;
use sqlx::{Connection, Error, Execute, Executor, TransactionManager};

/// A statement sent without a name: nothing is left behind on the server connection.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(&self) -> &'q str {
        self.0.sql()
    }
    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.0.statement()
    }
    fn take_arguments(&mut self) -> Result<Option<PgArguments>, BoxDynError> {
        self.0.take_arguments()
    }
    fn persistent(&self) -> bool {
        false
    }
}

/// A pooled connection, and whether it may be handed out again.
pub struct PooledConn {
    conn: PgConnection,
    /// Told when an exchange goes unanswered ([`breaker::watched`]).
    breaker: Arc<Breaker>,
    /// Set while a statement is under way and left set when it failed on the wire: a statement
    /// whose future was dropped half-way, or an I/O error, leaves the connection in an unknown
    /// state, and it is closed instead of reused.
    unusable: bool,
}

impl PooledConn {
    /// Runs one exchange on the connection, marking it unusable unless it completes cleanly.
    async fn run<'c, T>(
        &'c mut self,
        exchange: impl FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, Error>>,
    ) -> Result<T, Error> {
        self.unusable = true;
        let result = breaker::watched(&self.breaker, exchange(&mut self.conn)).await;
        self.unusable = matches!(
            result,
            Err(Error::Io(_) | Error::Tls(_) | Error::Protocol(_) | Error::WorkerCrashed)
        );
        result
    }
}

/// Makes connections for the pool; takes back only those left in a known state.
pub struct Connector {
    options: PgConnectOptions,
    breaker: Arc<Breaker>,
}

impl Manager for Connector {
    type Type = PooledConn;
    type Error = Error;

    async fn create(&self) -> Result<PooledConn, Error> {
        Ok(PooledConn {
            conn: PgConnection::connect_with(&self.options).await?,
            breaker: self.breaker.clone(),
            unusable: false,
        })
    }

    async fn recycle(&self, conn: &mut PooledConn, _: &Metrics) -> RecycleResult<Error> {
        if conn.unusable {
            return Err(RecycleError::message("connection left in an unknown state"));
        }
        Ok(())
    }
}

type Conn = Object<Connector>;

/// The pool, and whether statements must go unnamed, each in a transaction.
///
/// The pool is deadpool's rather than sqlx's: sqlx's pool sends a Sync message and waits for the
/// server's answer every time a connection goes back to it, one round trip more per request
/// (half of all the messages a read sends the server). Here a connection goes back as it is: a
/// cleanly finished statement leaves nothing pending, and a connection that might have something
/// pending is closed ([`PooledConn::unusable`]; a transaction dropped unfinished is rolled back
/// first, see [`Tx`]).
#[derive(Clone)]
pub struct Db {
    pool: Pool<Connector>,
    unnamed: bool,
    breaker: Arc<Breaker>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("unnamed", &self.unnamed)
            .finish_non_exhaustive()
    }
}

impl Db {
    pub fn new(
        options: PgConnectOptions,
        max_connections: u32,
        acquire_timeout: Duration,
        unnamed: bool,
        breaker: Arc<Breaker>,
    ) -> Result<Self, Error> {
        let connector = Connector {
            options,
            breaker: breaker.clone(),
        };
        let pool = Pool::builder(connector)
            .max_size(usize::try_from(max_connections).unwrap_or(usize::MAX))
            .wait_timeout(Some(acquire_timeout))
            .create_timeout(Some(acquire_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Configuration(e.to_string().into()))?;
        Ok(Self { pool, unnamed, breaker })
    }

    /// Statements go unnamed, each in a transaction (`pgbouncer=true`).
    pub fn unnamed(&self) -> bool {
        self.unnamed
    }

    async fn acquire(&self) -> Result<Conn, Error> {
        breaker::watched(&self.breaker, self.pool.get())
            .await
            .map_err(|e| match e {
                PoolError::Backend(e) => e,
                PoolError::Timeout(_) => Error::PoolTimedOut,
                PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => Error::PoolClosed,
            })
    }

    pub async fn begin(&self) -> Result<Tx, Error> {
        let mut conn = self.acquire().await?;
        if let Err(e) = conn.run(|c| PgTransactionManager::begin(c, None)).await {
            conn.unusable = true;
            return Err(e);
        }
        Ok(Tx(TxConn {
            conn: Some(conn),
            unnamed: self.unnamed,
        }))
    }

    /// Connections in use and idle.
    pub fn connections(&self) -> (u32, u32) {
        let status = self.pool.status();
        let idle = status.available.min(status.size);
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        (to_u32(status.size - idle), to_u32(idle))
    }

    /// Closes idle connections unused for `longer_than`, politely (the server is told).
    pub async fn close_idle(&self, longer_than: Duration) {
        let removed = self.pool.retain(|_, metrics| metrics.last_used() < longer_than).removed;
        for conn in removed {
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.conn.close()).await;
        }
    }

    /// Drops every idle connection without a word: during an outage they are dead, and telling
    /// the server would wait for nothing.
    pub fn discard_idle(&self) {
        drop(self.pool.retain(|_, _| false));
    }

    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// Refuses new checkouts and closes the idle connections; those in use close as they return.
    pub async fn close(&self) {
        self.pool.close();
        let idle = self.pool.retain(|_, _| false).removed;
        for conn in idle {
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.conn.close()).await;
        }
    }

    /// Runs `statement` in a transaction of its own, committed once the statement has succeeded
    /// (after a failure the transaction is dropped, so rolled back: see [`Tx`]).
    async fn in_own_transaction<T>(
        &self,
        statement: impl AsyncFnOnce(&mut TxConn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut tx = self.begin().await?;
        let value = statement(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// One statement on a connection of its own, sent unnamed inside a transaction when the
    /// pooler needs it; the rows are read before the connection goes back.
    async fn fetch_all_rows<'q, E>(&self, query: E) -> Result<Vec<Either<PgQueryResult, PgRow>>, Error>
    where
        E: 'q + Execute<'q, Postgres>,
    {
        if self.unnamed {
            return self
                .in_own_transaction(async move |tx| tx.fetch_many(query).try_collect().await)
                .await;
        }
        let mut conn = self.acquire().await?;
        conn.run(|c| c.fetch_many(query).try_collect::<Vec<_>>().boxed()).await
    }
}

impl<'c> Executor<'c> for &'c Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        stream::once(self.fetch_all_rows(query))
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        Box::pin(async move {
            if self.unnamed {
                return self
                    .in_own_transaction(async move |tx| tx.fetch_optional(query).await)
                    .await;
            }
            let mut conn = self.acquire().await?;
            conn.run(|c| c.fetch_optional(query)).await
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, Error>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            let mut conn = self.acquire().await?;
            conn.run(|c| c.prepare_with(sql, parameters)).await
        })
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            let mut conn = self.acquire().await?;
            conn.run(|c| c.describe(sql)).await
        })
    }
}

/// A transaction whose statements follow the pool's naming rule; `&mut *tx` executes them, as
/// with sqlx's own transactions.
///
/// Dropped without a commit (an early return, or the request's future dropped), it is rolled
/// back at once by a task of its own before the connection goes back: left pending on an idle
/// connection, the transaction would keep its row locks (the owner's change counter) until the
/// connection's next use. Without a runtime to roll back on, the connection is closed, which
/// ends the transaction on the server too.
#[derive(Debug)]
pub struct Tx(TxConn);

/// What a [`Tx`] dereferences to.
pub struct TxConn {
    conn: Option<Conn>,
    unnamed: bool,
}

impl std::fmt::Debug for TxConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxConn")
            .field("unnamed", &self.unnamed)
            .finish_non_exhaustive()
    }
}

impl TxConn {
    fn conn(&mut self) -> &mut PgConnection {
        match self.conn.as_mut() {
            Some(conn) => &mut conn.conn,
            // Only `commit` and `drop` take the connection, and both consume the transaction.
            None => unreachable!("a transaction's connection is only taken when it ends"),
        }
    }
}

impl Tx {
    pub async fn commit(mut self) -> Result<(), Error> {
        let Some(mut conn) = self.0.conn.take() else {
            return Ok(());
        };
        let result = conn.run(PgTransactionManager::commit).await;
        // A failed COMMIT still ends the transaction on the server, but not in sqlx's count of
        // open ones: the connection is not reused.
        conn.unusable |= result.is_err();
        result
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(mut conn) = self.0.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let result = conn.run(PgTransactionManager::rollback).await;
                    conn.unusable |= result.is_err();
                });
            }
            Err(_) => conn.unusable = true,
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = TxConn;
    fn deref(&self) -> &TxConn {
        &self.0
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut TxConn {
        &mut self.0
    }
}

impl<'c> Executor<'c> for &'c mut TxConn {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.unnamed {
            self.conn().fetch_many(Unnamed(query))
        } else {
            self.conn().fetch_many(query)
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.unnamed {
            self.conn().fetch_optional(Unnamed(query))
        } else {
            self.conn().fetch_optional(query)
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, Error>>
    where
        'c: 'e,
    {
        self.conn().prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        self.conn().describe(sql)
    }
}
