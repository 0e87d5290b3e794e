//! Brute-force limits counted in the database, so that every instance sees every attempt. One row
//! per key holds the times of its counted attempts; an upsert prunes them to the window and adds
//! the new one only below the limit. Concurrent attempts on one key queue on that row's lock and
//! each sees the row as the one before left it, so the limit holds under any concurrency. The
//! database's clock decides the window, so instances with skewed clocks still agree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::{AccountRow, PgStore};
use crate::auth::rate_limit::WINDOW;
use crate::domain::account::Account;
use crate::domain::Timestamp;
use crate::store::{AccountStore, CountedAttempt, LimitStore, LoginAttempt, StoreResult, StreamLease};

/// Counts an attempt of scope `$1`, key `$2` within `$3` seconds, at most `$4` in the window.
/// Yields `admitted`, `at` (the time counted) and `retry_after` (seconds, when refused).
macro_rules! count_attempt {
    () => {
        "attempt AS (\
           INSERT INTO rate_limits AS r (scope, key, events, admitted) VALUES ($1, $2, ARRAY[now()], TRUE) \
           ON CONFLICT (scope, key) DO UPDATE SET \
             admitted = cardinality(ARRAY(SELECT e FROM unnest(r.events) e WHERE e > now() - make_interval(secs => $3))) < $4, \
             events = CASE \
               WHEN cardinality(ARRAY(SELECT e FROM unnest(r.events) e WHERE e > now() - make_interval(secs => $3))) < $4 \
               THEN ARRAY(SELECT e FROM unnest(r.events) e WHERE e > now() - make_interval(secs => $3)) || now() \
               ELSE ARRAY(SELECT e FROM unnest(r.events) e WHERE e > now() - make_interval(secs => $3)) END \
           RETURNING admitted, now() AS at, \
             ceil(extract(epoch FROM (SELECT min(e) FROM unnest(events) e) + make_interval(secs => $3) - now()))::int8 AS retry_after)"
    };
}

const LOGIN: i16 = 0;
const SIGNUP: i16 = 1;

/// The attempt's outcome beside the account, if any.
#[derive(FromRow)]
struct LoginRow {
    admitted: bool,
    at: DateTime<Utc>,
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
    fn account(&self) -> Option<Account> {
        Some(
            AccountRow {
                id: self.id.clone()?,
                email: self.email.clone(),
                hashed_password: self.hashed_password.clone(),
                name: self.name.clone(),
                is_active: self.is_active?,
                external: self.external?,
                token_version: self.token_version?,
                created_at: self.created_at?,
            }
            .into(),
        )
    }
}

/// Whole seconds to wait, at least 1.
fn wait(seconds: Option<i64>) -> u64 {
    seconds.and_then(|s| u64::try_from(s).ok()).unwrap_or(1).max(1)
}

#[async_trait]
impl LimitStore for PgStore {
    async fn login_attempt(&self, email: &str, client: &str) -> StoreResult<LoginAttempt> {
        if self.limits.login == 0 {
            return Ok(LoginAttempt {
                account: self.account_by_email(email).await?,
                admission: Ok(CountedAttempt(None)),
            });
        }
        // Counting rides on the account lookup the login makes anyway: no extra round trip.
        let sql = concat!(
            "WITH ",
            count_attempt!(),
            " SELECT a.admitted, a.at, a.retry_after, u.id, u.email, u.hashed_password, u.name, u.is_active, \
             u.external, u.token_version, u.created_at FROM attempt a LEFT JOIN users u ON lower(u.email) = lower($5)"
        );
        let row: LoginRow = sqlx::query_as(sql)
            .bind(LOGIN)
            .bind(client)
            .bind(WINDOW.as_secs_f64())
            .bind(i64::from(self.limits.login))
            .bind(email)
            .fetch_one(&self.pool)
            .await?;
        let admission = if row.admitted {
            Ok(CountedAttempt(Some(Timestamp::from_datetime(row.at).as_micros())))
        } else {
            Err(wait(row.retry_after))
        };
        Ok(LoginAttempt {
            account: row.account(),
            admission,
        })
    }

    async fn release_login(&self, client: &str, attempt: CountedAttempt) -> StoreResult<()> {
        let Some(at) = attempt.0.and_then(Timestamp::from_micros) else {
            return Ok(());
        };
        sqlx::query("UPDATE rate_limits SET events = array_remove(events, $3) WHERE scope = $1 AND key = $2")
            .bind(LOGIN)
            .bind(client)
            .bind(at.as_datetime())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn admit_signup(&self, client: &str) -> StoreResult<Option<u64>> {
        if self.limits.signup == 0 {
            return Ok(None);
        }
        let sql = concat!("WITH ", count_attempt!(), " SELECT admitted, retry_after FROM attempt");
        let (admitted, retry_after): (bool, Option<i64>) = sqlx::query_as(sql)
            .bind(SIGNUP)
            .bind(client)
            .bind(WINDOW.as_secs_f64())
            .bind(i64::from(self.limits.signup))
            .fetch_one(&self.pool)
            .await?;
        Ok((!admitted).then(|| wait(retry_after)))
    }

    async fn purge_limits(&self) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM rate_limits WHERE coalesce(events[cardinality(events)] <= now() - make_interval(secs => $1), TRUE)",
        )
        .bind(WINDOW.as_secs_f64())
        .execute(&self.pool)
        .await?;
        let lapsed = sqlx::query(super::streams::PURGE).execute(&self.pool).await?;
        Ok(done.rows_affected() + lapsed.rows_affected())
    }

    async fn claim_stream(&self, lease: &StreamLease, max: usize) -> StoreResult<bool> {
        self.claim_stream_place(lease, max).await
    }

    async fn release_streams(&self, leases: &[StreamLease]) -> StoreResult<()> {
        self.release_stream_places(leases).await
    }

    async fn release_instance_streams(&self, instance: uuid::Uuid) -> StoreResult<()> {
        self.release_instance_places(instance).await
    }

    async fn renew_streams(&self, leases: &[StreamLease]) -> StoreResult<()> {
        self.renew_stream_places(leases).await
    }
}
