//! Brute-force limits counted in the database, so that every instance sees every attempt. The
//! database's clock decides the window, so instances with skewed clocks still agree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{AccountRow, PgStore};
use crate::auth::rate_limit::WINDOW;
use crate::domain::account::Account;
use crate::store::{AccountStore, LimitStore, StoreResult};

/// The scope of failed logins; signups are scope 1, spelled in their statement.
const LOGIN: i16 = 0;

// `$W` seconds of window, `$N` = limit − 1: the limit-th newest event in the window, if there is
// one, says the key is limited until it leaves the window.
macro_rules! limited_until {
    ($scope:literal, $key:literal, $window:literal, $offset:literal) => {
        concat!(
            "SELECT ceil(extract(epoch FROM at + make_interval(secs => ",
            $window,
            ") - now()))::int8 AS retry_after FROM rate_limit_events WHERE scope = ",
            $scope,
            " AND key = ",
            $key,
            " AND at > now() - make_interval(secs => ",
            $window,
            ") ORDER BY at DESC OFFSET ",
            $offset,
            " LIMIT 1"
        )
    };
}

/// The account (if any) beside the limit check: one row, whatever exists.
#[derive(FromRow)]
struct LoginRow {
    retry_after: Option<i64>,
    id: Option<String>,
    email: Option<String>,
    hashed_password: Option<String>,
    name: Option<String>,
    is_active: Option<bool>,
    external: Option<bool>,
    token_version: Option<i32>,
    created_at: Option<DateTime<Utc>>,
}

impl LoginRow {
    fn account(self) -> Option<Account> {
        Some(
            AccountRow {
                id: self.id?,
                email: self.email,
                hashed_password: self.hashed_password,
                name: self.name,
                is_active: self.is_active?,
                external: self.external?,
                token_version: self.token_version?,
                created_at: self.created_at?,
            }
            .into(),
        )
    }
}

fn wait(seconds: i64) -> u64 {
    u64::try_from(seconds).unwrap_or(0).max(1)
}

#[async_trait]
impl LimitStore for PgStore {
    async fn login_account(&self, email: &str, client: &str) -> StoreResult<(Option<Account>, Option<u64>)> {
        if self.limits.login == 0 {
            return Ok((self.account_by_email(email).await?, None));
        }
        // The check rides on the account lookup the login makes anyway: no extra round trip.
        let sql = concat!(
            "SELECT (",
            limited_until!("0", "$2", "$3", "$4"),
            ") AS retry_after, u.id, u.email, u.hashed_password, u.name, u.is_active, u.external, \
             u.token_version, u.created_at FROM (SELECT 1) AS one LEFT JOIN users u ON lower(u.email) = lower($1)"
        );
        let row: LoginRow = sqlx::query_as(sql)
            .bind(email)
            .bind(client)
            .bind(WINDOW.as_secs_f64())
            .bind(i64::from(self.limits.login) - 1)
            .fetch_one(&self.pool)
            .await?;
        let limited = row.retry_after.map(wait);
        Ok((row.account(), limited))
    }

    async fn login_failed(&self, client: &str) -> StoreResult<()> {
        if self.limits.login == 0 {
            return Ok(());
        }
        sqlx::query("INSERT INTO rate_limit_events (scope, key) VALUES ($1, $2)")
            .bind(LOGIN)
            .bind(client)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn admit_signup(&self, client: &str) -> StoreResult<Option<u64>> {
        if self.limits.signup == 0 {
            return Ok(None);
        }
        // Check and count in one statement.
        let sql = concat!(
            "WITH past AS (",
            limited_until!("1", "$1", "$2", "$3"),
            "), counted AS (INSERT INTO rate_limit_events (scope, key) SELECT 1, $1 \
             WHERE NOT EXISTS (SELECT 1 FROM past)) SELECT retry_after FROM past"
        );
        let limited: Option<i64> = sqlx::query_scalar(sql)
            .bind(client)
            .bind(WINDOW.as_secs_f64())
            .bind(i64::from(self.limits.signup) - 1)
            .fetch_optional(&self.pool)
            .await?;
        Ok(limited.map(wait))
    }

    async fn purge_limits(&self) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM rate_limit_events WHERE at <= now() - make_interval(secs => $1)")
            .bind(WINDOW.as_secs_f64())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
