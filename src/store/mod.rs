//! Storage: the one interface handlers use, with a PostgreSQL and an SQLite implementation.
//!
//! Every statement that reads or writes a task or category is filtered by its owner's id in SQL,
//! so one user can never reach another's rows, whatever a handler does.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::config::{Config, Database};
use crate::domain::account::{Account, Email};
use crate::domain::category::{Category, CategoryChanges, NewCategory};
use crate::domain::recurrence::{Basis, Recurrence};
use crate::domain::tag::{sort_tags, Tag};
use crate::domain::task::{NewTask, ParentFilter, Task, TaskChanges, TaskQuery, TotalBy};
use crate::domain::Timestamp;
use crate::error::FieldError;

/// SQL that is the same on both backends, as macros so that statements are `concat!`-ed at
/// compile time. Defined before the backends' modules, which use them.
macro_rules! tag_filter {
    () => {
        "SELECT 1 FROM task_tags WHERE task_tags.task_id = tasks.id AND task_tags.tag_key"
    };
}

pub mod breaker;
pub mod migrations;
pub mod postgres;
pub mod sqlite;
pub mod task_write;

/// What can go wrong in storage, in the terms handlers need.
#[derive(Debug)]
pub enum StoreError {
    /// The database cannot be reached or no connection was free in time: 503.
    Unavailable(String),
    /// The configured server did not take a connection at start: says which variable, host and
    /// port (never the password).
    Unreachable(String),
    EmailTaken,
    CategoryNameTaken,
    /// A task named a category that is not its owner's.
    UnknownCategory,
    /// An idempotency claim was taken over before its request finished: nothing was written.
    ClaimLost,
    /// The write breaks a rule that only the stored state could tell (a parent that is not the
    /// owner's top-level task, …): 422, nothing written.
    Invalid(FieldError),
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "database unavailable: {cause}"),
            Self::Unreachable(what) => f.write_str(what),
            Self::EmailTaken => f.write_str("email already registered"),
            Self::CategoryNameTaken => f.write_str("category already exists"),
            Self::UnknownCategory => f.write_str("category not found"),
            Self::ClaimLost => f.write_str("idempotency claim lost"),
            Self::Invalid(e) => write!(f, "invalid: {}", e.msg),
            Self::Other(cause) => f.write_str(cause),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error::*;
        match &err {
            // A protocol error means the connection broke mid-message (a server going away).
            PoolTimedOut | PoolClosed | Io(_) | Tls(_) | WorkerCrashed | Protocol(_) => {
                Self::Unavailable(err.to_string())
            }
            Database(db) => match db.constraint() {
                Some("users_email_key") => Self::EmailTaken,
                Some("categories_user_name_key") => Self::CategoryNameTaken,
                // A category deleted while a task was being moved into it.
                Some("tasks_category_id_fkey") => Self::UnknownCategory,
                _ if is_unavailable_code(db.code().as_deref()) => Self::Unavailable(err.to_string()),
                // SQLite names no constraint; its message names the columns.
                _ if db.message().contains("categories.user_id, categories.name_key") => Self::CategoryNameTaken,
                _ if db.message().contains("users.email") || db.message().contains("index 'users_email_key'") => {
                    Self::EmailTaken
                }
                _ => Self::Other(err.to_string()),
            },
            _ => Self::Other(err.to_string()),
        }
    }
}

/// PostgreSQL's connection exceptions (class 08) and shutdowns or refusals (57P..), too many
/// connections, and SQLite's busy/locked after the timeout.
fn is_unavailable_code(code: Option<&str>) -> bool {
    match code {
        Some(c) if c.starts_with("08") || c.starts_with("57P") => true,
        Some(c) => matches!(c, "53300" | "5" | "6" | "517"),
        None => false,
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A new local account.
pub struct NewAccount {
    pub id: String,
    pub email: Email,
    pub password_hash: String,
    pub name: Option<String>,
    pub created_at: Timestamp,
}

/// An account exported from the FastAPI system, or any other source of JSON lines.
#[derive(Debug, Clone)]
pub struct ImportedAccount {
    pub id: String,
    pub email: Email,
    pub password_hash: String,
    pub name: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub imported: u64,
    pub skipped: u64,
}

/// An external identity seen for the first time.
pub struct ExternalIdentity<'a> {
    pub id: &'a str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// An object with the number of its last change in its owner's change order: its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

/// An `If-Match` condition on a write: the versions the client holds (empty: none can match).
/// `If-Match: *` needs no condition: the object only has to exist, as for any write.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a>(pub &'a [i64]);

/// What a conditional or plain write found.
#[derive(Debug)]
pub enum Written<T> {
    Done(T),
    NotFound,
    /// The object exists but its version is none of the expected ones; nothing was written.
    Stale,
}

impl<T> Written<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        match self {
            Self::Done(v) => Written::Done(f(v)),
            Self::NotFound => Written::NotFound,
            Self::Stale => Written::Stale,
        }
    }
}

/// Which of the two kinds of synced object; the number orders them within one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectKind {
    Category = 0,
    Task = 1,
}

impl ObjectKind {
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Category),
            1 => Some(Self::Task),
            _ => None,
        }
    }
}

/// A place in a user's change order: objects are ordered by (change, kind, id). `after: None`
/// stands after every object of `change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub change: i64,
    pub after: Option<(ObjectKind, Uuid)>,
}

impl Position {
    /// Before everything: a sync from the start.
    pub const START: Self = Self {
        change: -1,
        after: None,
    };

    /// The (change, kind, id) triple an SQL row comparison `>` takes.
    pub fn key(self) -> (i64, i64, Uuid) {
        match self.after {
            Some((kind, id)) => (self.change, kind as i64, id),
            None => (self.change, i64::MAX, Uuid::max()),
        }
    }
}

/// One answer of delta sync, read in one snapshot.
#[derive(Debug, Default)]
pub struct SyncPage {
    pub tasks: Vec<Task>,
    pub categories: Vec<Category>,
    pub deleted_tasks: Vec<Uuid>,
    pub deleted_categories: Vec<Uuid>,
    /// Where the next answer starts: the last object returned, or the user's latest change when
    /// everything up to it was returned.
    pub next: Option<Position>,
    pub more: bool,
    /// Every object of the page in change order: where it stands, and whether it was deleted.
    pub entries: Vec<SyncEntry>,
}

/// One object of a sync page, for live events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncEntry {
    pub position: Position,
    pub kind: ObjectKind,
    pub id: Uuid,
    pub deleted: bool,
}

/// A tombstone as the store reads it: (change, kind, id).
pub type Tombstone = (i64, ObjectKind, Uuid);

enum SyncItem {
    Task(Task),
    Category(Category),
    Deleted(ObjectKind, Uuid),
}

/// Merges what each table returned (each in change order, at most `limit + 1` rows) into one
/// page of at most `limit` objects, and says where the next one starts.
pub fn sync_page(
    tasks: Vec<Versioned<Task>>,
    categories: Vec<Versioned<Category>>,
    tombstones: Vec<Tombstone>,
    head: i64,
    limit: usize,
) -> SyncPage {
    let at = |change, kind, id| Position {
        change,
        after: Some((kind, id)),
    };
    let mut items: Vec<(Position, SyncItem)> = Vec::with_capacity(tasks.len() + categories.len() + tombstones.len());
    items.extend(
        tasks
            .into_iter()
            .map(|t| (at(t.version, ObjectKind::Task, t.value.id), SyncItem::Task(t.value))),
    );
    items.extend(categories.into_iter().map(|c| {
        (
            at(c.version, ObjectKind::Category, c.value.id),
            SyncItem::Category(c.value),
        )
    }));
    items.extend(
        tombstones
            .into_iter()
            .map(|(change, kind, id)| (at(change, kind, id), SyncItem::Deleted(kind, id))),
    );
    items.sort_by_key(|(p, _)| p.key());
    let more = items.len() > limit;
    items.truncate(limit);
    let everything_to_head = Position {
        change: head,
        after: None,
    };
    let mut page = SyncPage {
        next: Some(match items.last() {
            Some((p, _)) if more => *p,
            _ => everything_to_head,
        }),
        more,
        ..SyncPage::default()
    };
    for (position, item) in items {
        let (kind, id, deleted) = match &item {
            SyncItem::Task(t) => (ObjectKind::Task, t.id, false),
            SyncItem::Category(c) => (ObjectKind::Category, c.id, false),
            SyncItem::Deleted(kind, id) => (*kind, *id, true),
        };
        page.entries.push(SyncEntry {
            position,
            kind,
            id,
            deleted,
        });
        match item {
            SyncItem::Task(t) => page.tasks.push(t),
            SyncItem::Category(c) => page.categories.push(c),
            SyncItem::Deleted(ObjectKind::Task, id) => page.deleted_tasks.push(id),
            SyncItem::Deleted(ObjectKind::Category, id) => page.deleted_categories.push(id),
        }
    }
    page
}

/// Why a write found no row to change, given the object's current version (if it exists).
pub fn miss<T>(current: Option<i64>, expected: Option<Expected<'_>>) -> Written<T> {
    match (current, expected) {
        (None, _) => Written::NotFound,
        (Some(v), Some(e)) if !e.0.contains(&v) => Written::Stale,
        (Some(_), _) => Written::NotFound,
    }
}

/// A write with nothing to change: the object as it is, if it exists and the precondition holds.
pub fn unchanged<T>(current: Option<Versioned<T>>, expected: Option<Expected<'_>>) -> Written<Versioned<T>> {
    match current {
        Some(v) if expected.is_none_or(|e| e.0.contains(&v.version)) => Written::Done(v),
        other => miss(other.map(|v| v.version), expected),
    }
}

/// Tags as both backends read them, sorted as tasks list them.
fn sorted(mut tags: Vec<String>) -> Vec<String> {
    sort_tags(&mut tags);
    tags
}

/// A task's recurrence columns read back (the application wrote them, so they are whole).
fn recurrence(rule: Option<String>, basis: Option<i16>, timezone: Option<String>) -> Option<Recurrence> {
    rule.map(|rule| Recurrence {
        rule,
        basis: Basis::from_code(basis.unwrap_or_default()),
        timezone: timezone.unwrap_or_else(|| "UTC".to_owned()),
    })
}

/// A task's recurrence columns, to write.
fn recurrence_columns(r: Option<&Recurrence>) -> (Option<&str>, Option<i16>, Option<&str>) {
    match r {
        Some(r) => (Some(r.rule.as_str()), Some(r.basis.code()), Some(r.timezone.as_str())),
        None => (None, None, None),
    }
}

/// A 2xx answer kept for an `Idempotency-Key`, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

/// Who holds an `Idempotency-Key` while its first request runs.
#[derive(Debug, Clone)]
pub struct KeyClaim {
    pub user_id: String,
    pub key: String,
    pub claim: Uuid,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum ClaimOutcome {
    /// New (or expired, or abandoned by a request that died): run the request.
    Claimed(KeyClaim),
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for another request.
    Mismatch,
    Replay(StoredResponse),
}

/// Stores a write's answer under its key, in the write's own transaction.
pub struct Remember<'a, T> {
    pub claim: &'a KeyClaim,
    pub render: &'a (dyn Fn(&T) -> StoredResponse + Send + Sync),
}

impl<T> Clone for Remember<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Remember<'_, T> {}

/// Accounts: local and external identities.
#[async_trait]
pub trait AccountStore {
    async fn create_account(&self, account: NewAccount) -> StoreResult<Account>;
    async fn account_by_id(&self, id: &str) -> StoreResult<Option<Account>>;
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>>;
    /// Creates the local row of an external identity if it has none (an email that belongs to
    /// another account is left out), and returns the row.
    async fn provision_external(&self, identity: ExternalIdentity<'_>, now: Timestamp) -> StoreResult<Account>;
    /// Replaces the hash. With `revoke`, bumps the token version so every earlier token stops
    /// working; returns the new version, or `None` if the account is gone.
    async fn set_password(&self, id: &str, hash: &str, revoke: bool) -> StoreResult<Option<i32>>;
    /// Returns the account's id, or `None` for an unknown email.
    async fn set_active(&self, email: &str, active: bool) -> StoreResult<Option<String>>;
    /// Deletes the account with its tasks and categories; `false` if it was already gone.
    async fn delete_account(&self, id: &str) -> StoreResult<bool>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    /// All or nothing: one transaction; emails already present are skipped and counted.
    async fn import_accounts(&self, accounts: &[ImportedAccount]) -> StoreResult<ImportOutcome>;
}

/// Tasks. Every write takes the next place in the owner's change order, atomically with the
/// write; `expected` makes it conditional on the task's version, checked in the same statement.
#[async_trait]
pub trait TaskStore {
    async fn create_task(
        &self,
        user_id: &str,
        task: &NewTask,
        now: Timestamp,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Versioned<Task>>;
    async fn task(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Task>>>;
    /// One page in the query's order, the number of tasks matching the filters, and the user's
    /// latest change (read in the same snapshot).
    async fn list_tasks(&self, user_id: &str, query: &TaskQuery) -> StoreResult<(Vec<Task>, i64, i64)>;
    async fn update_task(
        &self,
        user_id: &str,
        id: Uuid,
        changes: &TaskChanges,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<Versioned<Task>>>;
    /// Flips `completed` in one statement, so concurrent toggles never lose one.
    async fn toggle_task(
        &self,
        user_id: &str,
        id: Uuid,
        now: Timestamp,
        expected: Option<Expected<'_>>,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Written<Versioned<Task>>>;
    async fn delete_task(
        &self,
        user_id: &str,
        id: Uuid,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<()>>;
}

/// Categories; writes as for tasks. Deleting one changes its tasks (their category is cleared).
#[async_trait]
pub trait CategoryStore {
    async fn create_category(
        &self,
        user_id: &str,
        category: &NewCategory,
        now: Timestamp,
        remember: Option<Remember<'_, Versioned<Category>>>,
    ) -> StoreResult<Versioned<Category>>;
    async fn category(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Category>>>;
    /// Every category by name, and the user's latest change.
    async fn list_categories(&self, user_id: &str) -> StoreResult<(Vec<Category>, i64)>;
    async fn update_category(
        &self,
        user_id: &str,
        id: Uuid,
        changes: &CategoryChanges,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<Versioned<Category>>>;
    async fn delete_category(
        &self,
        user_id: &str,
        id: Uuid,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<()>>;
}

/// Tags: there is no tag without a task carrying it. Renames and deletions change every task that
/// carried the tag (one change number for all of them).
#[async_trait]
pub trait TagStore {
    /// The owner's tags in use, by name ignoring case, with how many tasks carry each.
    async fn tags(&self, user_id: &str) -> StoreResult<Vec<Tag>>;
    /// Renames the tag `from` (a key) to `to` on every task; into a tag already in use, the two
    /// merge under that tag's spelling. `None` if no task carries `from`.
    async fn rename_tag(&self, user_id: &str, from: &str, to: &str, now: Timestamp) -> StoreResult<Option<Tag>>;
    /// Takes the tag (a key) off every task; `false` if no task carried it.
    async fn delete_tag(&self, user_id: &str, key: &str, now: Timestamp) -> StoreResult<bool>;
}

/// Change order, delta sync, idempotency keys and their upkeep.
#[async_trait]
pub trait SyncStore {
    /// The user's latest change (0 before the first): what list ETags are made of.
    async fn latest_change(&self, user_id: &str) -> StoreResult<i64>;
    /// Changes after `from` in change order, at most `limit` objects, tombstones included when
    /// `deletions` is set.
    async fn sync(&self, user_id: &str, from: Position, limit: usize, deletions: bool) -> StoreResult<SyncPage>;
    /// Claims `key` for a request with this fingerprint, or says why not.
    async fn claim_key(
        &self,
        user_id: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        ttl: std::time::Duration,
    ) -> StoreResult<ClaimOutcome>;
    /// Gives a claim up (the request failed): a retry runs again.
    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()>;
    /// Removes expired idempotency keys and tombstones older than `tombstones_before`.
    async fn purge(&self, now: Timestamp, tombstones_before: Timestamp) -> StoreResult<u64>;
}

/// Brute-force limits of SPEC §3. PostgreSQL counts in the database, shared by every instance
/// (§12); SQLite counts in memory, per process. An attempt is counted as it is let through, so
/// concurrent attempts cannot overrun the limit; a successful login is released again.
#[async_trait]
pub trait LimitStore {
    /// Lets a login attempt of `client` through (and counts it) or refuses it, together with the
    /// account `email` names: one round trip.
    async fn login_attempt(&self, email: &str, client: &str) -> StoreResult<LoginAttempt>;
    /// The login succeeded: it does not count.
    async fn release_login(&self, client: &str, attempt: CountedAttempt) -> StoreResult<()>;
    /// Counts a signup from `client`, unless it has used up its signups: `Some(seconds to wait)`.
    async fn admit_signup(&self, client: &str) -> StoreResult<Option<u64>>;
    /// Forgets keys whose attempts have all left the window (and, on PostgreSQL, users whose
    /// stream places have all lapsed).
    async fn purge_limits(&self) -> StoreResult<u64>;
    /// Takes one of `max` places for an event stream of `lease.user_id` (SPEC §9), held for
    /// [`STREAM_LEASE`] unless renewed: `false` when all are held. On PostgreSQL the places are
    /// in the database, shared by every instance; on SQLite the hub counts per process, and this
    /// admits.
    async fn claim_stream(&self, _lease: &StreamLease, _max: usize) -> StoreResult<bool> {
        Ok(true)
    }
    /// Gives places back: their streams closed.
    async fn release_streams(&self, _leases: &[StreamLease]) -> StoreResult<()> {
        Ok(())
    }
    /// Gives back every place `instance` holds (it is shutting down), whatever its streams are
    /// doing: closed streams' own give-backs may still be on their way.
    async fn release_instance_streams(&self, _instance: Uuid) -> StoreResult<()> {
        Ok(())
    }
    /// Holds the places of this instance's open streams for another [`STREAM_LEASE`]; those of
    /// the same users not in `leases` go (their streams closed). All of one instance.
    async fn renew_streams(&self, _leases: &[StreamLease]) -> StoreResult<()> {
        Ok(())
    }
}

/// How long an event stream's place is held without a renewal: an instance renews its streams'
/// places three times in this time, and those of an instance that died lapse after it.
pub const STREAM_LEASE: std::time::Duration = std::time::Duration::from_secs(15);

/// The place one open event stream holds among its owner's `SSE_MAX_PER_USER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLease {
    pub user_id: String,
    pub id: Uuid,
    /// The process holding it.
    pub instance: Uuid,
}

/// What [`LimitStore::login_attempt`] found.
pub struct LoginAttempt {
    pub account: Option<Account>,
    /// `Ok` with the counted attempt (released if the login succeeds), or `Err(seconds to wait)`.
    pub admission: Result<CountedAttempt, u64>,
}

/// A counted attempt, as its backend identifies it (opaque elsewhere). `None`: no limit is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedAttempt(pub Option<i64>);

/// The storage interface: named after what the application needs, one SQL statement (or one
/// transaction) per call.
#[async_trait]
pub trait Store:
    AccountStore + LimitStore + TaskStore + CategoryStore + TagStore + SyncStore + Send + Sync + 'static
{
    /// A trivial query: is the database there?
    async fn ping(&self) -> StoreResult<()>;

    /// The fail-fast state of a networked database (PostgreSQL); `None` for the embedded one,
    /// whose file cannot go away like a server (a locked file is a busy timeout, not an outage).
    fn breaker(&self) -> Option<&breaker::Breaker> {
        None
    }

    /// Connections of the pool: (in use, idle).
    fn pool_connections(&self) -> (u32, u32);

    /// Applies every pending migration (safe to call from several instances at once).
    async fn migrate_up(&self) -> StoreResult<()>;
    /// Reverts the last `steps` applied migrations.
    async fn migrate_down(&self, steps: usize) -> StoreResult<()>;
    async fn migration_status(&self) -> StoreResult<Vec<migrations::MigrationState>>;

    /// Closes the pool; used at shutdown.
    async fn close(&self);
}

/// How long a claim protects a request that may have died before it finished: after this a
/// retry takes the key over.
pub const CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// Connects to the configured database (creating the SQLite file if needed).
pub async fn connect(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    match &config.database {
        Database::Postgres(target) => Ok(Arc::new(
            postgres::PgStore::connect(target, config.database_direct.as_deref(), config).await?,
        )),
        Database::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::connect(path, config).await?)),
    }
}

/// Appends a list's filters (`WHERE …`), as each backend writes them.
type PushFilters<'a, DB> = fn(&mut sqlx::QueryBuilder<'a, DB>, &str, &TaskQuery);

/// A list's total ([`TotalBy`]). `in_page`: beside the page's own rows, where a window count may
/// ride along (else a statement of its own, which has no rows to count over). The counters are a
/// scalar subquery: the same statement, so the same snapshot, as the page beside it.
fn push_list_total<'a, DB>(
    qb: &mut sqlx::QueryBuilder<'a, DB>,
    user_id: &str,
    query: &TaskQuery,
    in_page: bool,
    push_filters: PushFilters<'a, DB>,
) where
    DB: sqlx::Database,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match query.total_by() {
        TotalBy::Counters => {
            qb.push("(SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM task_counts WHERE user_id = ")
                .push_bind(user_id.to_owned());
            if let Some(completed) = query.completed {
                qb.push(" AND completed = ").push_bind(completed);
            }
            if query.parent == ParentFilter::TopLevel {
                qb.push(" AND top_level = TRUE");
            }
            qb.push(")");
        }
        TotalBy::Window if in_page => {
            qb.push("count(*) OVER ()");
        }
        TotalBy::Window | TotalBy::Count => {
            qb.push("(SELECT count(*) FROM tasks");
            push_filters(qb, user_id, query);
            qb.push(")");
        }
    }
}

/// A `LIKE` pattern matching `s` as a substring, literally: its wildcards and the escape character
/// (`\`, PostgreSQL's default, which SQLite is told) escaped.
fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod like_tests {
    #[test]
    fn like_pattern_escapes_wildcards_and_the_escape() {
        assert_eq!(super::like_pattern(r"50%_off\n"), r"%50\%\_off\\n%");
    }
}
