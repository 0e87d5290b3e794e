//! Sessions read from Better Auth's own tables (`BETTER_AUTH_DATABASE_URL`), with a small pool of
//! its own. Read only: nothing here writes Better Auth's tables (SQLite is even opened read-only).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, Row, SqlitePool};

use super::SessionUser;
use crate::config::Database;

/// Better Auth's default schema: camelCase columns, quoted. `$1` works on both backends.
const SESSION_BY_TOKEN: &str = r#"SELECT u."id", u."email", u."name", s."expiresAt"
FROM "session" AS s JOIN "user" AS u ON u."id" = s."userId"
WHERE s."token" = $1"#;

/// An expiry that cannot be read counts as long past.
const UNREADABLE: DateTime<Utc> = DateTime::<Utc>::MIN_UTC;

const MAX_CONNECTIONS: u32 = 4;
/// A request waits at most this long for Better Auth's database before its 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

pub enum SessionDatabase {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl SessionDatabase {
    /// Connects lazily: Better Auth's database being down at start stops only session checks.
    pub fn connect(database: &Database) -> Self {
        match database {
            Database::Postgres(target) => Self::Postgres(
                PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .idle_timeout(Duration::from_secs(300))
                    .connect_lazy_with(target.options.clone()),
            ),
            Database::Sqlite(path) => Self::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(
                        SqliteConnectOptions::new()
                            .filename(path)
                            .read_only(true)
                            .create_if_missing(false)
                            .busy_timeout(ACQUIRE_TIMEOUT),
                    ),
            ),
        }
    }

    /// The user of the session with this token, with the session's expiry; `None`: no session.
    pub async fn session(&self, token: &str) -> Result<Option<SessionUser>, sqlx::Error> {
        let user = match self {
            Self::Postgres(pool) => {
                let row = sqlx::query(SESSION_BY_TOKEN).bind(token).fetch_optional(pool).await?;
                row.map(|row| -> Result<_, sqlx::Error> {
                    let expires_at = row
                        .try_get::<DateTime<Utc>, _>(3)
                        .or_else(|_| row.try_get::<NaiveDateTime, _>(3).map(|t| t.and_utc()))
                        .unwrap_or(UNREADABLE);
                    Ok(SessionUser {
                        id: row.try_get(0)?,
                        email: row.try_get(1)?,
                        name: row.try_get(2)?,
                        expires_at: Some(expires_at),
                    })
                })
                .transpose()?
            }
            Self::Sqlite(pool) => {
                let row = sqlx::query(SESSION_BY_TOKEN).bind(token).fetch_optional(pool).await?;
                row.map(|row| -> Result<_, sqlx::Error> {
                    let expires_at = match row.try_get::<String, _>(3) {
                        Ok(text) => parse_sqlite_time(&text),
                        Err(_) => row.try_get::<i64, _>(3).ok().and_then(from_epoch),
                    }
                    .unwrap_or(UNREADABLE);
                    Ok(SessionUser {
                        id: row.try_get(0)?,
                        email: row.try_get(1)?,
                        name: row.try_get(2)?,
                        expires_at: Some(expires_at),
                    })
                })
                .transpose()?
            }
        };
        Ok(user)
    }
}

/// Better Auth's Kysely adapter writes ISO 8601 text (`2026-01-29T10:00:00.000Z`); other tools
/// write SQLite's own `2026-01-29 10:00:00`.
fn parse_sqlite_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Epoch milliseconds (Drizzle, Prisma) or seconds.
fn from_epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_time_forms() {
        let want = DateTime::parse_from_rfc3339("2026-12-09T14:09:46Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_sqlite_time("2026-12-09T14:09:46.000Z"), Some(want));
        assert_eq!(parse_sqlite_time("2026-12-09 14:09:46"), Some(want));
        assert_eq!(from_epoch(want.timestamp_millis()), Some(want));
        assert_eq!(from_epoch(want.timestamp()), Some(want));
        assert_eq!(parse_sqlite_time("tomorrow"), None);
    }
}
