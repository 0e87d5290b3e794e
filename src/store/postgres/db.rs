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
use futures_util::{StreamExt, TryStreamExt};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgPool, PgQueryResult, PgRow, PgStatement, PgTypeInfo, Postgres};
use sqlx::Describe;
use sqlx::{Error, Execute, Executor, Transaction};

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

/// The pool, and whether statements must go unnamed, each in a transaction.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    unnamed: bool,
}

impl Db {
    pub fn new(pool: PgPool, unnamed: bool) -> Self {
        Self { pool, unnamed }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Statements go unnamed, each in a transaction (`pgbouncer=true`).
    pub fn unnamed(&self) -> bool {
        self.unnamed
    }

    pub async fn begin(&self) -> Result<Tx, Error> {
        Ok(Tx(TxConn {
            inner: self.pool.begin().await?,
            unnamed: self.unnamed,
        }))
    }
}

impl<'c> Executor<'c> for &'c Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.unnamed {
            return self.pool.fetch_many(query);
        }
        let pool = &self.pool;
        stream::once(async move {
            let mut tx = pool.begin().await?;
            let items: Vec<_> = tx.fetch_many(Unnamed(query)).try_collect().await?;
            tx.commit().await?;
            Ok::<_, Error>(stream::iter(items.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.unnamed {
            return self.pool.fetch_optional(query);
        }
        let pool = &self.pool;
        Box::pin(async move {
            let mut tx = pool.begin().await?;
            let row = tx.fetch_optional(Unnamed(query)).await?;
            tx.commit().await?;
            Ok(row)
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
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        self.pool.describe(sql)
    }
}

/// A transaction whose statements follow the pool's naming rule; `&mut *tx` executes them, as
/// with sqlx's own transactions.
#[derive(Debug)]
pub struct Tx(TxConn);

/// What a [`Tx`] dereferences to.
#[derive(Debug)]
pub struct TxConn {
    inner: Transaction<'static, Postgres>,
    unnamed: bool,
}

impl Tx {
    pub async fn commit(self) -> Result<(), Error> {
        self.0.inner.commit().await
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
            (&mut *self.inner).fetch_many(Unnamed(query))
        } else {
            (&mut *self.inner).fetch_many(query)
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.unnamed {
            (&mut *self.inner).fetch_optional(Unnamed(query))
        } else {
            (&mut *self.inner).fetch_optional(query)
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
        (&mut *self.inner).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        (&mut *self.inner).describe(sql)
    }
}
