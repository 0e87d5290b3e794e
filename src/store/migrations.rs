//! Migrations are embedded in the binary, one set per backend, each reversible.

use sqlx::migrate::{Migrate, Migrator};

use super::{StoreError, StoreResult};

pub static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");
pub static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");

/// One migration and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub version: i64,
    pub name: String,
    pub applied: bool,
}

fn migrate_error(err: sqlx::migrate::MigrateError) -> StoreError {
    match err {
        sqlx::migrate::MigrateError::Execute(e) => StoreError::from(e),
        other => StoreError::Other(other.to_string()),
    }
}

/// Every embedded (up) migration with its state.
pub async fn status(migrator: &Migrator, conn: &mut (impl Migrate + Send)) -> StoreResult<Vec<MigrationState>> {
    conn.ensure_migrations_table().await.map_err(migrate_error)?;
    let applied = conn.list_applied_migrations().await.map_err(migrate_error)?;
    Ok(migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationState {
            version: m.version,
            name: m.description.to_string(),
            applied: applied.iter().any(|a| a.version == m.version),
        })
        .collect())
}

/// Applies every pending migration. On PostgreSQL the migrator holds an advisory lock while it
/// works, so two instances starting at once do not race.
pub async fn up<'a, A>(migrator: &Migrator, pool: A) -> StoreResult<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: Migrate,
{
    migrator.run(pool).await.map_err(migrate_error)
}

/// The version to undo down to so that the last `steps` applied migrations are reverted.
pub fn down_target(states: &[MigrationState], steps: usize) -> i64 {
    let mut applied: Vec<i64> = states.iter().filter(|s| s.applied).map(|s| s.version).collect();
    applied.sort_unstable_by(|a, b| b.cmp(a));
    applied.get(steps).copied().unwrap_or(0)
}

/// Reverts applied migrations newer than `target`.
pub async fn down<'a, A>(migrator: &Migrator, pool: A, target: i64) -> StoreResult<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: Migrate,
{
    migrator.undo(pool, target).await.map_err(migrate_error)
}
