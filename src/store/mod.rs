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
use crate::domain::task::{NewTask, Task, TaskChanges, TaskQuery};
use crate::domain::Timestamp;

pub mod migrations;
pub mod postgres;
pub mod sqlite;

/// What can go wrong in storage, in the terms handlers need.
#[derive(Debug)]
pub enum StoreError {
    /// The database cannot be reached or no connection was free in time: 503.
    Unavailable(String),
    EmailTaken,
    CategoryNameTaken,
    /// A task named a category that is not its owner's.
    UnknownCategory,
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "database unavailable: {cause}"),
            Self::EmailTaken => f.write_str("email already registered"),
            Self::CategoryNameTaken => f.write_str("category already exists"),
            Self::UnknownCategory => f.write_str("category not found"),
            Self::Other(cause) => f.write_str(cause),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error::*;
        match &err {
            PoolTimedOut | PoolClosed | Io(_) | Tls(_) | WorkerCrashed => Self::Unavailable(err.to_string()),
            Database(db) => match db.constraint() {
                Some("users_email_key") => Self::EmailTaken,
                Some("categories_user_name_key") => Self::CategoryNameTaken,
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

/// PostgreSQL shutting down or refusing connections, and SQLite's busy/locked after the timeout.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "08000" | "08003" | "08006" | "5" | "6" | "517")
    )
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

/// The storage interface: named after what the application needs, one SQL statement (or one
/// transaction) per call.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A trivial query: is the database there?
    async fn ping(&self) -> StoreResult<()>;

    /// Applies every pending migration (safe to call from several instances at once).
    async fn migrate_up(&self) -> StoreResult<()>;
    /// Reverts the last `steps` applied migrations.
    async fn migrate_down(&self, steps: usize) -> StoreResult<()>;
    async fn migration_status(&self) -> StoreResult<Vec<migrations::MigrationState>>;

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

    async fn create_task(&self, user_id: &str, task: &NewTask, now: Timestamp) -> StoreResult<Task>;
    async fn task(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Task>>;
    /// One page in the query's order, and the number of tasks matching the filters.
    async fn list_tasks(&self, user_id: &str, query: &TaskQuery) -> StoreResult<(Vec<Task>, i64)>;
    async fn update_task(
        &self,
        user_id: &str,
        id: Uuid,
        changes: &TaskChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Task>>;
    /// Flips `completed` in one statement, so concurrent toggles never lose one.
    async fn toggle_task(&self, user_id: &str, id: Uuid, now: Timestamp) -> StoreResult<Option<Task>>;
    async fn delete_task(&self, user_id: &str, id: Uuid) -> StoreResult<bool>;

    async fn create_category(&self, user_id: &str, category: &NewCategory, now: Timestamp) -> StoreResult<Category>;
    async fn category(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Category>>;
    async fn list_categories(&self, user_id: &str) -> StoreResult<Vec<Category>>;
    async fn update_category(
        &self,
        user_id: &str,
        id: Uuid,
        changes: &CategoryChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Category>>;
    async fn delete_category(&self, user_id: &str, id: Uuid) -> StoreResult<bool>;

    /// Closes the pool; used at shutdown.
    async fn close(&self);
}

/// Connects to the configured database (creating the SQLite file if needed).
pub async fn connect(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    match &config.database {
        Database::Postgres(options) => Ok(Arc::new(postgres::PgStore::connect(options, config).await?)),
        Database::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::connect(path, config).await?)),
    }
}
