//! The PostgreSQL store (also Neon): native UUID and `timestamptz` columns. One file per
//! resource; this one holds the connection, the row types and what every file shares.

mod accounts;
mod categories;
pub(super) mod db;
mod limits;
mod streams;
mod sync;
mod tags;
mod task_tx;
mod tasks;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::Connection;
use sqlx::{FromRow, QueryBuilder};
use uuid::Uuid;

use super::breaker::{self, Breaker};
use super::migrations::{self, MigrationState};
use super::{like_pattern, recurrence, sorted, Expected, Store, StoreError, StoreResult, Versioned};
use crate::config::{Config, PgTarget};
use crate::domain::account::{Account, User};
use crate::domain::category::Category;
use crate::domain::task::{ParentFilter, Priority, Task, TaskQuery};
use crate::domain::Timestamp;

// Column lists as macros, so that statements are `concat!`-ed at compile time: no formatting on
// the request path, and one cached prepared statement per text.
macro_rules! account_columns {
    () => {
        "id, email, hashed_password, name, is_active, external, token_version, created_at"
    };
}
macro_rules! task_columns {
    () => {
        "id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz"
    };
}
/// A task's columns with its tags, for `SELECT` and `RETURNING`.
macro_rules! task_select {
    () => {
        concat!(
            task_columns!(),
            ", array(SELECT name FROM task_tags WHERE task_tags.task_id = tasks.id) AS tags"
        )
    };
}
macro_rules! category_columns {
    () => {
        "id, user_id, name, color, created_at, updated_at, change_seq"
    };
}

use {account_columns, category_columns, task_columns, task_select};

pub struct PgStore {
    pool: db::Db,
    /// `DATABASE_URL`'s: the migrator's session when there is no direct one.
    options: PgConnectOptions,
    breaker: Arc<Breaker>,
    /// `DATABASE_DIRECT_URL`: what needs a session of its own (the migration lock) when the pool
    /// goes through a transaction-mode pooler.
    direct: Option<PgConnectOptions>,
    /// Per-minute limits (0 = off) of failed logins and signups.
    limits: Limits,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    login: u32,
    signup: u32,
}

/// One connection, or an error that names where it was tried (never the password): the pool would
/// only report a timeout, this says why (refused, unknown host, bad password, no such database).
async fn connect_once(
    what: &str,
    options: &PgConnectOptions,
    timeout: std::time::Duration,
) -> StoreResult<PgConnection> {
    let place = match options.get_socket() {
        Some(directory) => format!(
            "{what} at the socket in {} (port {})",
            directory.display(),
            options.get_port()
        ),
        None => format!("{what} at {}:{}", options.get_host(), options.get_port()),
    };
    match tokio::time::timeout(timeout, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("{place}: {e}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "{place}: no answer within {timeout:?}"
        ))),
    }
}

impl PgStore {
    pub async fn connect(target: &PgTarget, direct: Option<&PgConnectOptions>, config: &Config) -> StoreResult<Self> {
        let options = &target.options;
        let _ = connect_once("DATABASE_URL", options, config.db_acquire_timeout)
            .await?
            .close()
            .await;
        if let Some(direct) = direct {
            let _ = connect_once("DATABASE_DIRECT_URL", direct, config.db_acquire_timeout)
                .await?
                .close()
                .await;
        }
        // No ping before a checkout either: a dead connection shows up as an I/O error on its
        // next statement instead, answered 503, and is closed.
        let breaker = Arc::new(Breaker::default());
        let pool = db::Db::new(
            options.clone(),
            config.db_max_connections,
            config.db_acquire_timeout,
            target.unnamed_statements,
            breaker.clone(),
        )?;
        breaker::spawn_watcher(
            breaker.clone(),
            pool.clone(),
            options.clone(),
            config.db_acquire_timeout,
        );
        Ok(Self {
            pool,
            breaker,
            options: options.clone(),
            direct: direct.cloned(),
            limits: Limits {
                login: config.login_limit_per_minute,
                signup: config.signup_limit_per_minute,
            },
        })
    }

    /// A session of its own for the migrator's advisory lock: a one-connection pool, on the
    /// direct server when configured.
    async fn migration_pool(&self) -> StoreResult<PgPool> {
        let options = match &self.direct {
            Some(direct) => direct,
            // The migrator prepares named statements and holds a session lock: a pooler that
            // carries neither cannot host it.
            None if self.pool.unnamed() => {
                return Err(StoreError::Other(
                    "migrations need DATABASE_DIRECT_URL when DATABASE_URL has pgbouncer=true".to_owned(),
                ))
            }
            None => &self.options,
        };
        Ok(PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options.clone())
            .await?)
    }

    pub fn pool(&self) -> &db::Db {
        &self.pool
    }
}

fn ts(dt: DateTime<Utc>) -> Timestamp {
    Timestamp::from_datetime(dt)
}

#[derive(FromRow)]
struct AccountRow {
    id: String,
    email: Option<String>,
    hashed_password: Option<String>,
    name: Option<String>,
    is_active: bool,
    external: bool,
    token_version: i32,
    created_at: DateTime<Utc>,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            user: User {
                user_id: r.id,
                email: r.email,
                name: r.name,
                is_active: r.is_active,
                created_at: ts(r.created_at),
            },
            password_hash: r.hashed_password,
            token_version: r.token_version,
            external: r.external,
        }
    }
}

#[derive(FromRow)]
struct TaskRow {
    id: Uuid,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    priority: i16,
    due_date: Option<DateTime<Utc>>,
    category_id: Option<Uuid>,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    change_seq: i64,
    parent_id: Option<Uuid>,
    recurrence_rule: Option<String>,
    recurrence_basis: Option<i16>,
    recurrence_tz: Option<String>,
    tags: Vec<String>,
}

impl From<TaskRow> for Versioned<Task> {
    fn from(r: TaskRow) -> Self {
        let value = Task {
            id: r.id,
            user_id: r.user_id,
            title: r.title,
            description: r.description,
            completed: r.completed,
            // The column's CHECK keeps it in 0..=2.
            priority: Priority::from_rank(r.priority).unwrap_or_default(),
            due_date: r.due_date.map(ts),
            category_id: r.category_id,
            completed_at: r.completed_at.map(ts),
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            tags: sorted(r.tags),
            parent_id: r.parent_id,
            recurrence: recurrence(r.recurrence_rule, r.recurrence_basis, r.recurrence_tz),
        };
        Versioned {
            value,
            version: r.change_seq,
        }
    }
}

impl From<TaskRow> for Task {
    fn from(r: TaskRow) -> Self {
        Versioned::from(r).value
    }
}

#[derive(FromRow)]
struct CountedTaskRow {
    #[sqlx(flatten)]
    task: TaskRow,
    total: i64,
    head: i64,
}

#[derive(FromRow)]
struct CategoryRow {
    id: Uuid,
    user_id: String,
    name: String,
    color: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    change_seq: i64,
}

impl From<CategoryRow> for Versioned<Category> {
    fn from(r: CategoryRow) -> Self {
        let value = Category {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            color: r.color,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        };
        Versioned {
            value,
            version: r.change_seq,
        }
    }
}

impl From<CategoryRow> for Category {
    fn from(r: CategoryRow) -> Self {
        Versioned::from(r).value
    }
}

/// The condition an `If-Match` adds to a statement: `NULL` for none.
fn expected_versions(expected: Option<Expected<'_>>) -> Option<Vec<i64>> {
    expected.map(|e| e.0.to_vec())
}

/// Appends the list filters shared by the page query and the bare count.
fn push_task_filters(qb: &mut QueryBuilder<'_, Postgres>, user_id: &str, query: &TaskQuery) {
    qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
    if let Some(completed) = query.completed {
        qb.push(" AND completed = ").push_bind(completed);
    }
    if let Some(priority) = query.priority {
        qb.push(" AND priority = ").push_bind(priority.rank());
    }
    if let Some(category) = query.category_id {
        qb.push(" AND category_id = ").push_bind(category);
    }
    if let Some(q) = &query.q {
        // A substring, matched literally (`%`, `_` and `\` escaped), written as LIKE so that the
        // trigram indexes on lower(title) and lower(description) can serve it.
        let pattern = like_pattern(q);
        qb.push(" AND (lower(title) LIKE ").push_bind(pattern.clone());
        qb.push(" OR lower(description) LIKE ").push_bind(pattern);
        // Steers the planner to those indexes (see migration 0006); runs on matches only.
        qb.push(") AND task_search_priced(id)");
    }
    if let Some(before) = query.due_before {
        qb.push(" AND due_date < ").push_bind(before.as_datetime());
    }
    if let Some(after) = query.due_after {
        qb.push(" AND due_date > ").push_bind(after.as_datetime());
    }
    for tag in &query.tags {
        qb.push(concat!(" AND EXISTS (", tag_filter!(), " = "))
            .push_bind(tag.clone())
            .push(")");
    }
    match query.parent {
        ParentFilter::Any => {}
        ParentFilter::TopLevel => {
            qb.push(" AND parent_id IS NULL");
        }
        ParentFilter::Of(parent) => {
            qb.push(" AND parent_id = ").push_bind(parent);
        }
    }
}

/// The owner's next change number, in a statement of its own.
pub(super) const NEXT_CHANGE: &str = "UPDATE users SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq";

/// Takes the owner's next change number in a transaction of its own: the owner's counter stays
/// locked until the transaction ends, so every statement after it sees the latest committed
/// state of the owner's objects (each statement reads afresh at READ COMMITTED). `None`: no
/// such owner.
async fn locked_change(pool: &db::Db, user_id: &str) -> StoreResult<Option<(db::Tx, i64)>> {
    let mut tx = pool.begin().await?;
    let seq: Option<i64> = sqlx::query_scalar(NEXT_CHANGE)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(seq.map(|seq| (tx, seq)))
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn breaker(&self) -> Option<&Breaker> {
        Some(&self.breaker)
    }

    fn pool_connections(&self) -> (u32, u32) {
        self.pool.connections()
    }

    async fn migrate_up(&self) -> StoreResult<()> {
        let pool = self.migration_pool().await?;
        let result = migrations::up(&migrations::POSTGRES, &pool).await;
        pool.close().await;
        result
    }

    async fn migrate_down(&self, steps: usize) -> StoreResult<()> {
        let target = migrations::down_target(&self.migration_status().await?, steps);
        let pool = self.migration_pool().await?;
        let result = migrations::down(&migrations::POSTGRES, &pool, target).await;
        pool.close().await;
        result
    }

    async fn migration_status(&self) -> StoreResult<Vec<MigrationState>> {
        let pool = self.migration_pool().await?;
        let result = async {
            let mut conn = pool.acquire().await?;
            migrations::status(&migrations::POSTGRES, &mut *conn).await
        }
        .await;
        pool.close().await;
        result
    }

    async fn close(&self) {
        self.pool().close().await;
    }
}
