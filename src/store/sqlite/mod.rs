//! The embedded SQLite store: one file, WAL mode, foreign keys on. UUIDs are stored as hyphenated
//! text and timestamps as INTEGER microseconds since the epoch (exact, and sorted as numbers).
//! One file per resource; this one holds the connections, the row types and what they share.
//!
//! Writes and reads use different connections. SQLite lets one connection write at a time, and a
//! writer that meets the lock taken sleeps in the busy handler; so every write runs on the one
//! writer connection, in turn ([`writer`]), and each transaction begins `IMMEDIATE`: it holds the
//! write lock from its first statement and never meets `SQLITE_BUSY` from this process. Reads run
//! on a pool of reader connections opened with `query_only`, so a write sent to one by mistake
//! fails instead of competing for the lock.

mod accounts;
mod categories;
mod limits;
mod search;
mod sync;
mod tags;
mod task_tx;
mod tasks;
mod writer;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::query::QueryAs;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{FromRow, QueryBuilder, Sqlite};
use uuid::Uuid;

use super::migrations::{self, MigrationState};
use super::{recurrence, sorted, Expected, Remember, Store, StoreError, StoreResult, Versioned};
use crate::auth::rate_limit::RateLimiter;
use crate::config::Config;
use crate::domain::account::{Account, User};
use crate::domain::category::Category;
use crate::domain::task::{ParentFilter, Priority, Task, TaskQuery};
use crate::domain::Timestamp;
use writer::{WriteTx, Writer};

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
/// A task's columns with its tags (a JSON array), for `SELECT` and `RETURNING`.
macro_rules! task_select {
    () => {
        concat!(
            task_columns!(),
            ", (SELECT json_group_array(name) FROM task_tags WHERE task_tags.task_id = tasks.id) AS tags"
        )
    };
}
macro_rules! category_columns {
    () => {
        "id, user_id, name, color, created_at, updated_at, change_seq"
    };
}

/// The owner's next change number, as a value for the rows a statement writes; the statement is
/// followed by [`take_change!`], in the same transaction. `$user` binds the owner's id.
macro_rules! new_change {
    ($user:literal) => {
        concat!("(SELECT change_seq + 1 FROM users WHERE id = ", $user, ")")
    };
}
/// Takes the number [`new_change!`] gave, if the statement before wrote a row (`changes()`
/// counts the rows of the last statement done): a miss takes none and leaves nothing to undo.
macro_rules! take_change {
    ($user:literal) => {
        concat!(
            "; UPDATE users SET change_seq = change_seq + 1 WHERE id = ",
            $user,
            " AND changes() > 0"
        )
    };
}

/// Starts every write transaction: the write lock is taken at once, so a transaction never
/// upgrades from reading to writing (an upgrade fails at once with `SQLITE_BUSY` if another
/// process wrote meanwhile; taking the lock first waits in the busy handler instead).
macro_rules! begin_write {
    () => {
        "BEGIN IMMEDIATE"
    };
}
/// Statements as a whole write transaction, sent in one round trip ([`Writer::run_once`]).
macro_rules! alone {
    ($($sql:expr),+) => {
        concat!($crate::store::sqlite::begin_write!(), "; ", $($sql),+, "; COMMIT")
    };
}

/// The statements alone (`BEGIN IMMEDIATE; …; COMMIT`) when nothing else joins their transaction.
macro_rules! alone_if {
    ($alone:expr, $sql:expr) => {
        if $alone {
            $crate::store::sqlite::alone!($sql)
        } else {
            $sql
        }
    };
}

use {
    account_columns, alone, alone_if, begin_write, category_columns, new_change, take_change, task_columns, task_select,
};

pub struct SqliteStore {
    /// The one connection that writes; writes queue for it in order.
    writer: Writer,
    /// The connections that read (`query_only`).
    pool: SqlitePool,
    options: SqliteConnectOptions,
    limits: Limits,
}

/// Failed logins and signups, counted in this process.
struct Limits {
    login: RateLimiter,
    signup: RateLimiter,
}

/// Readers at most: two per core, 2 to 8. A SQLite read runs on its connection's own thread, so
/// readers beyond two per core only queue for the cores, while each costs ~2.5 MB (page cache,
/// parsed schema, statement cache): on 2 cores, 4 readers instead of 8 took the peak RSS under
/// the bench from 54.5-55.5 MB to 41.7-46.2 with reads within noise.
fn reader_cap() -> u32 {
    (crate::config::cores() * 2).clamp(2, 8)
}

impl SqliteStore {
    pub async fn connect(path: &Path, config: &Config) -> StoreResult<Self> {
        create_private(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses nothing when the process dies; only a power cut can take
            // the last commits, and FULL would cost an fsync per write.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // The writer first: it creates the file and switches it to WAL before readers open it.
        // It checkpoints (copies the WAL back into the database, with an fsync) every 10 000
        // pages rather than SQLite's 1 000: a page that many writes touch, like the owners' index
        // pages, is copied once per checkpoint, not once per write, and a write costs a quarter
        // less CPU. The WAL file is cut back to 64 MiB when it starts over.
        let writer_options = options
            .clone()
            .pragma("wal_autocheckpoint", "10000")
            .pragma("journal_size_limit", (64 * 1024 * 1024).to_string());
        let writer = Writer::connect(writer_options, config.db_acquire_timeout).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(config.db_max_connections.min(reader_cap()))
            .acquire_timeout(config.db_acquire_timeout)
            .test_before_acquire(false)
            // Lists run on readers only, so only they carry the search's function.
            .after_connect(|conn, _| Box::pin(search::register(conn)))
            // 1 MiB of page cache each instead of SQLite's 2: the pages a list needs are few and
            // the OS keeps the file cached anyway, while eight full caches were a third of the
            // process's peak memory.
            .connect_with(options.clone().pragma("query_only", "ON").pragma("cache_size", "-1024"))
            .await?;
        Ok(Self {
            writer,
            pool,
            options,
            limits: Limits {
                login: RateLimiter::per_minute(config.login_limit_per_minute),
                signup: RateLimiter::per_minute(config.signup_limit_per_minute),
            },
        })
    }
}

/// The database holds password hashes: create it readable by its owner only. SQLite gives the
/// `-wal` and `-shm` files the same permissions.
fn create_private(path: &Path) -> StoreResult<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

fn ts(micros: i64) -> StoreResult<Timestamp> {
    Timestamp::from_micros(micros).ok_or_else(|| StoreError::Other(format!("timestamp out of range: {micros}")))
}

fn opt_ts(micros: Option<i64>) -> StoreResult<Option<Timestamp>> {
    micros.map(ts).transpose()
}

fn uuid(text: &str) -> StoreResult<Uuid> {
    Uuid::try_parse(text).map_err(|_| StoreError::Other(format!("not a UUID in the database: {text:?}")))
}

fn micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(Timestamp::as_micros)
}

fn text(id: Option<Uuid>) -> Option<String> {
    id.map(|u| u.hyphenated().to_string())
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
    created_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> StoreResult<Self> {
        Ok(Account {
            user: User {
                user_id: r.id,
                email: r.email,
                name: r.name,
                is_active: r.is_active,
                created_at: ts(r.created_at)?,
            },
            password_hash: r.hashed_password,
            token_version: r.token_version,
            external: r.external,
        })
    }
}

#[derive(FromRow)]
struct TaskRow {
    id: String,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    priority: i16,
    due_date: Option<i64>,
    category_id: Option<String>,
    completed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    change_seq: i64,
    parent_id: Option<String>,
    recurrence_rule: Option<String>,
    recurrence_basis: Option<i16>,
    recurrence_tz: Option<String>,
    /// A JSON array of names.
    tags: String,
}

impl TryFrom<TaskRow> for Versioned<Task> {
    type Error = StoreError;
    fn try_from(r: TaskRow) -> StoreResult<Self> {
        let value = Task {
            id: uuid(&r.id)?,
            user_id: r.user_id,
            title: r.title,
            description: r.description,
            completed: r.completed,
            priority: Priority::from_rank(r.priority).unwrap_or_default(),
            due_date: opt_ts(r.due_date)?,
            category_id: r.category_id.as_deref().map(uuid).transpose()?,
            completed_at: opt_ts(r.completed_at)?,
            created_at: ts(r.created_at)?,
            updated_at: ts(r.updated_at)?,
            tags: sorted(serde_json::from_str(&r.tags).map_err(|e| StoreError::Other(format!("tags of a task: {e}")))?),
            parent_id: r.parent_id.as_deref().map(uuid).transpose()?,
            recurrence: recurrence(r.recurrence_rule, r.recurrence_basis, r.recurrence_tz),
        };
        Ok(Versioned {
            value,
            version: r.change_seq,
        })
    }
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;
    fn try_from(r: TaskRow) -> StoreResult<Self> {
        Versioned::try_from(r).map(|v| v.value)
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
    id: String,
    user_id: String,
    name: String,
    color: String,
    created_at: i64,
    updated_at: i64,
    change_seq: i64,
}

impl TryFrom<CategoryRow> for Versioned<Category> {
    type Error = StoreError;
    fn try_from(r: CategoryRow) -> StoreResult<Self> {
        let value = Category {
            id: uuid(&r.id)?,
            user_id: r.user_id,
            name: r.name,
            color: r.color,
            created_at: ts(r.created_at)?,
            updated_at: ts(r.updated_at)?,
        };
        Ok(Versioned {
            value,
            version: r.change_seq,
        })
    }
}

impl TryFrom<CategoryRow> for Category {
    type Error = StoreError;
    fn try_from(r: CategoryRow) -> StoreResult<Self> {
        Versioned::try_from(r).map(|v| v.value)
    }
}

impl SqliteStore {
    /// A write transaction on the writer connection (waiting for it if another write has it).
    async fn write_tx(&self) -> StoreResult<WriteTx> {
        self.writer.begin().await
    }

    /// A connection for the migrator, with the writer held meanwhile so that nothing else in
    /// this process writes. (The migrator takes a pool: its generic `Acquire` on a borrowed
    /// connection does not make a `Send` future.)
    async fn migration_connection(&self) -> StoreResult<(writer::Held, SqlitePool)> {
        let writer = self.writer.hold().await?;
        let conn = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.clone())
            .await?;
        Ok((writer, conn))
    }
}

impl SqliteStore {
    /// Runs a write whose statements return the written row, and gives that row (`None`: nothing
    /// written). Without an answer to keep the statements must be the whole transaction,
    /// `BEGIN IMMEDIATE; …; COMMIT`, sent in one round trip; with one they run in a transaction
    /// that also saves the answer.
    async fn write_row<'q, R, V>(
        &self,
        query: QueryAs<'q, Sqlite, R, SqliteArguments<'q>>,
        remember: Option<Remember<'_, V>>,
    ) -> StoreResult<Option<V>>
    where
        R: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
        V: TryFrom<R, Error = StoreError>,
    {
        let Some(remember) = remember else {
            let row = self.writer.run_once(query).await?.into_iter().next();
            return row.map(V::try_from).transpose();
        };
        let mut tx = self.write_tx().await?;
        // All rows: `fetch_optional` would stop after the first, before the statements after it.
        let Some(row) = query.fetch_all(&mut *tx).await?.into_iter().next() else {
            return Ok(None);
        };
        let value = V::try_from(row)?;
        sync::save_answer(&mut tx, remember.claim, &(remember.render)(&value)).await?;
        tx.commit().await?;
        Ok(Some(value))
    }
}

/// `BEGIN IMMEDIATE; ` before a builder's statements when they are the whole transaction.
fn begin_alone(alone: bool) -> QueryBuilder<'static, Sqlite> {
    QueryBuilder::new(if alone { concat!(begin_write!(), "; ") } else { "" })
}

/// Takes the number of [`push_new_change`], and ends the transaction begun by [`begin_alone`].
fn push_take_change(qb: &mut QueryBuilder<'_, Sqlite>, user_id: &str, alone: bool) {
    qb.push("; UPDATE users SET change_seq = change_seq + 1 WHERE id = ")
        .push_bind(user_id.to_owned())
        .push(" AND changes() > 0");
    if alone {
        qb.push("; COMMIT");
    }
}

/// [`new_change!`] in a builder.
fn push_new_change(qb: &mut QueryBuilder<'_, Sqlite>, user_id: &str) {
    qb.push("(SELECT change_seq + 1 FROM users WHERE id = ")
        .push_bind(user_id.to_owned())
        .push(")");
}

/// Takes the owner's next change number, first in a write transaction. SQLite has one writer at
/// a time and a transaction's write lock lasts until its commit, so numbers are taken in commit
/// order (see sync.rs). `None`: the owner is gone.
async fn next_change(conn: &mut SqliteConnection, user_id: &str) -> StoreResult<Option<i64>> {
    let seq = sqlx::query_scalar("UPDATE users SET change_seq = change_seq + 1 WHERE id = ?1 RETURNING change_seq")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(seq)
}

/// The versions an `If-Match` names, as a JSON array for `json_each`.
fn expected_json(expected: Option<Expected<'_>>) -> Option<String> {
    expected.map(|Expected(versions)| serde_json::to_string(versions).unwrap_or_else(|_| "[]".to_owned()))
}

/// `AND change_seq IN (…)` for an `If-Match`; nothing without one.
fn push_expected(qb: &mut QueryBuilder<'_, Sqlite>, expected: Option<Expected<'_>>) {
    if let Some(versions) = expected_json(expected) {
        qb.push(" AND change_seq IN (SELECT value FROM json_each(")
            .push_bind(versions)
            .push("))");
    }
}

fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

fn push_task_filters(qb: &mut QueryBuilder<'_, Sqlite>, user_id: &str, query: &TaskQuery) {
    qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
    if let Some(completed) = query.completed {
        qb.push(" AND completed = ").push_bind(completed);
    }
    if let Some(priority) = query.priority {
        qb.push(" AND priority = ").push_bind(priority.rank());
    }
    if let Some(category) = query.category_id {
        qb.push(" AND category_id = ")
            .push_bind(category.hyphenated().to_string());
    }
    if let Some(q) = &query.q {
        search::push_filter(qb, q);
    }
    if query.due_before.is_some() || query.due_after.is_some() {
        // Implied by the ranges; said so that the due date's sort index, which starts with this
        // expression, serves them.
        qb.push(" AND (due_date IS NULL) = 0");
    }
    if let Some(before) = query.due_before {
        qb.push(" AND due_date < ").push_bind(before.as_micros());
    }
    if let Some(after) = query.due_after {
        qb.push(" AND due_date > ").push_bind(after.as_micros());
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
            qb.push(" AND parent_id = ").push_bind(parent.hyphenated().to_string());
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_connections(&self) -> (u32, u32) {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        let (writing, waiting) = if self.writer.busy() { (1, 0) } else { (0, 1) };
        (self.pool.size().saturating_sub(idle) + writing, idle + waiting)
    }

    // Migrations write (the status too: it creates the migrations table when missing).
    async fn migrate_up(&self) -> StoreResult<()> {
        let (_writer, conn) = self.migration_connection().await?;
        migrations::up(&migrations::SQLITE, &conn).await
    }

    async fn migrate_down(&self, steps: usize) -> StoreResult<()> {
        let target = migrations::down_target(&self.migration_status().await?, steps);
        let (_writer, conn) = self.migration_connection().await?;
        migrations::down(&migrations::SQLITE, &conn, target).await
    }

    async fn migration_status(&self) -> StoreResult<Vec<MigrationState>> {
        let mut conn = self.writer.hold().await?;
        migrations::status(&migrations::SQLITE, &mut *conn).await
    }

    async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AccountStore;

    /// A store on a fresh file in `dir`, every migration applied.
    async fn migrated_store(dir: &tempfile::TempDir) -> SqliteStore {
        let path = dir.path().join("t.db");
        let url = format!("sqlite://{}", path.display());
        let config = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| url.clone())).unwrap();
        let store = SqliteStore::connect(&path, &config).await.unwrap();
        store.migrate_up().await.unwrap();
        store
    }

    #[tokio::test]
    async fn readers_refuse_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = migrated_store(&dir).await;
        let refused = sqlx::query("INSERT INTO users (id, created_at) VALUES ('someone', 0)")
            .execute(&store.pool)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");
        assert!(store.list_accounts().await.unwrap().is_empty());
        store.close().await;
    }

    /// What SQLite's planner says it will do, a line a step.
    fn plan(rows: &[SqliteRow]) -> Vec<String> {
        rows.iter().map(|r| sqlx::Row::get(r, "detail")).collect()
    }

    /// The plan of `select` with a list's filters, as the store filters it, for owner "u".
    async fn filtered_plan(store: &SqliteStore, select: &str, query: &TaskQuery) -> Vec<String> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("EXPLAIN QUERY PLAN {select}"));
        push_task_filters(&mut qb, "u", query);
        let rows = qb.build().fetch_all(&store.pool).await.unwrap();
        plan(&rows)
    }

    /// The plans SQLite makes for the writes that find a task's subtasks or a category's tasks:
    /// index lookups, never a read of all the owner's tasks (for 10^5 tasks, tens of milliseconds
    /// with the writer held).
    #[tokio::test]
    async fn writes_find_subtasks_and_category_tasks_through_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = migrated_store(&dir).await;
        for (sql, index) in [
            (tasks::DELETE_WITH_SUBTASKS, "tasks_parent_idx"),
            (
                "SELECT EXISTS (SELECT 1 FROM tasks WHERE parent_id = ?1 AND user_id = ?2)",
                "tasks_parent_idx",
            ),
            (categories::UNSET_CATEGORY, "tasks_category_idx"),
        ] {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(&store.pool)
                .await
                .unwrap();
            let plan = plan(&rows);
            assert!(plan.iter().any(|p| p.contains(index)), "{sql}: {plan:?}");
            assert!(
                !plan
                    .iter()
                    .any(|p| p.contains("tasks_user_") || p.starts_with("SCAN tasks")),
                "{sql}: {plan:?}"
            );
        }
        store.close().await;
    }

    /// A search, filtered as the store filters it, reads the text it matches from the creation
    /// order's index (a covering scan), not from each of the owner's rows.
    #[tokio::test]
    async fn a_search_reads_its_text_from_the_creation_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = migrated_store(&dir).await;
        let query = TaskQuery {
            q: Some("report".to_owned()),
            ..TaskQuery::default()
        };
        let plan = filtered_plan(
            &store,
            "SELECT count(*) FROM tasks INDEXED BY tasks_user_created_idx",
            &query,
        )
        .await;
        assert!(
            plan.iter().any(|p| p.contains("COVERING INDEX tasks_user_created_idx")),
            "{plan:?}"
        );
        store.close().await;
    }

    /// A list's due-date range, filtered as the store filters it, is a range of a due-date index.
    #[tokio::test]
    async fn due_ranges_are_index_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let store = migrated_store(&dir).await;
        let (before, after) = (Timestamp::from_micros(9), Timestamp::from_micros(5));
        for (due_before, due_after) in [(before, None), (None, after), (before, after)] {
            let query = TaskQuery {
                due_before,
                due_after,
                ..TaskQuery::default()
            };
            let plan = filtered_plan(&store, "SELECT count(*) FROM tasks", &query).await;
            assert!(
                plan.iter()
                    .any(|p| p.contains("INDEX tasks_user_due_") && p.contains("due_date")),
                "{query:?}: {plan:?}"
            );
        }
        store.close().await;
    }
}
