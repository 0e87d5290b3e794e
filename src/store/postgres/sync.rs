//! Change order, delta sync and idempotency keys on PostgreSQL.
//!
//! Why the change order never lets a sync miss a change: every write takes its number with
//! `UPDATE users SET change_seq = change_seq + 1` inside its own transaction. That row lock is
//! held until the write commits, and PostgreSQL makes a transaction visible before it releases
//! its locks, so the next writer of the same user reads the new value only after the previous one
//! is visible: per user, numbers are taken in commit order. A sync reads in one snapshot; if that
//! snapshot sees change n, it sees every change below n, and `users.change_seq` in the same
//! snapshot is the highest visible number. A cursor at that number therefore has everything at or
//! below it, and whatever commits later takes a higher number. A rolled-back write rolls its
//! number back too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::query::QueryAs;
use uuid::Uuid;

use super::db::{Db, TxConn};
use super::{category_columns, task_columns, task_select, CategoryRow, PgStore, TaskRow};
use crate::domain::Timestamp;
use crate::store::{
    sync_page, ClaimOutcome, KeyClaim, ObjectKind, Position, Remember, StoreError, StoreResult, StoredResponse,
    SyncPage, SyncStore, CLAIM_LEASE,
};

/// Keeps a write's answer under its claimed key, in the write's transaction. A claim taken over
/// in the meantime (its request was thought dead) fails the write, which then rolls back.
pub(super) async fn save_answer(conn: &mut TxConn, claim: &KeyClaim, answer: &StoredResponse) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET status = $4, location = $5, etag = $6, body = $7 \
         WHERE user_id = $1 AND key = $2 AND claim = $3 AND status IS NULL",
    )
    .bind(&claim.user_id)
    .bind(&claim.key)
    .bind(claim.claim)
    .bind(answer.status as i16)
    .bind(&answer.location)
    .bind(&answer.etag)
    .bind(&answer.body)
    .execute(conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::ClaimLost)
    }
}

/// Runs a write that returns its row; with `remember`, in a transaction that also keeps the
/// answer under its idempotency key.
pub(super) async fn fetch_remembering<'q, R, T>(
    pool: &Db,
    query: QueryAs<'q, Postgres, R, PgArguments>,
    remember: Option<Remember<'_, T>>,
) -> StoreResult<Option<T>>
where
    R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    T: From<R>,
{
    let Some(remember) = remember else {
        return Ok(query.fetch_optional(pool).await?.map(T::from));
    };
    let mut tx = pool.begin().await?;
    let Some(row) = query.fetch_optional(&mut *tx).await? else {
        return Ok(None);
    };
    let value = T::from(row);
    save_answer(&mut tx, remember.claim, &(remember.render)(&value)).await?;
    tx.commit().await?;
    Ok(Some(value))
}

#[derive(sqlx::FromRow)]
struct DeletionRow {
    change_seq: i64,
    kind: i16,
    id: Uuid,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    status: Option<i16>,
    location: Option<String>,
    etag: Option<String>,
    body: Option<Vec<u8>>,
}

#[async_trait]
impl SyncStore for PgStore {
    async fn latest_change(&self, user_id: &str) -> StoreResult<i64> {
        let head: Option<i64> = sqlx::query_scalar("SELECT change_seq FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(head.unwrap_or(0))
    }

    async fn sync(&self, user_id: &str, from: Position, limit: usize, deletions: bool) -> StoreResult<SyncPage> {
        let (change, kind, id) = from.key();
        let fetch = limit as i64 + 1;
        let mut tx = self.pool.begin().await?;
        // One snapshot for the head and every table.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let head: i64 = sqlx::query_scalar("SELECT change_seq FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        let tasks: Vec<TaskRow> = sqlx::query_as(concat!(
            "SELECT ",
            task_select!(),
            " FROM tasks WHERE user_id = $1 AND change_seq >= $2 AND (change_seq, 1::bigint, id) > ($2, $3, $4) \
             ORDER BY change_seq, id LIMIT $5"
        ))
        .bind(user_id)
        .bind(change)
        .bind(kind)
        .bind(id)
        .bind(fetch)
        .fetch_all(&mut *tx)
        .await?;
        let categories: Vec<CategoryRow> = sqlx::query_as(concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE user_id = $1 AND change_seq >= $2 AND (change_seq, 0::bigint, id) > ($2, $3, $4) \
             ORDER BY change_seq, id LIMIT $5"
        ))
        .bind(user_id)
        .bind(change)
        .bind(kind)
        .bind(id)
        .bind(fetch)
        .fetch_all(&mut *tx)
        .await?;
        let gone: Vec<DeletionRow> = if deletions {
            sqlx::query_as(
                "SELECT change_seq, kind, id FROM deletions WHERE user_id = $1 AND change_seq >= $2 \
                 AND (change_seq, kind::bigint, id) > ($2, $3, $4) ORDER BY change_seq, kind, id LIMIT $5",
            )
            .bind(user_id)
            .bind(change)
            .bind(kind)
            .bind(id)
            .bind(fetch)
            .fetch_all(&mut *tx)
            .await?
        } else {
            Vec::new()
        };
        tx.commit().await?;

        let tombstones = gone
            .into_iter()
            .map(|row| {
                let kind = ObjectKind::from_code(row.kind.into())
                    .ok_or_else(|| StoreError::Other(format!("unknown deletion kind {}", row.kind)))?;
                Ok((row.change_seq, kind, row.id))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(sync_page(
            tasks.into_iter().map(Into::into).collect(),
            categories.into_iter().map(Into::into).collect(),
            tombstones,
            head,
            limit,
        ))
    }

    async fn claim_key(
        &self,
        user_id: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        ttl: std::time::Duration,
    ) -> StoreResult<ClaimOutcome> {
        let claim = Uuid::new_v4();
        let now_dt = now.as_datetime();
        let expires: DateTime<Utc> = now_dt + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
        let lease_cutoff = now_dt - chrono::Duration::from_std(CLAIM_LEASE).unwrap_or(chrono::Duration::seconds(30));
        // A new key, an expired one, or one whose request died holding it (same request only).
        let claimed: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, claim, claimed_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, claim = EXCLUDED.claim, \
             claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at, \
             status = NULL, location = NULL, etag = NULL, body = NULL \
             WHERE idempotency_keys.expires_at <= $5 OR (idempotency_keys.status IS NULL \
             AND idempotency_keys.claimed_at <= $7 AND idempotency_keys.fingerprint = EXCLUDED.fingerprint) \
             RETURNING claim",
        )
        .bind(user_id)
        .bind(key)
        .bind(fingerprint)
        .bind(claim)
        .bind(now_dt)
        .bind(expires)
        .bind(lease_cutoff)
        .fetch_optional(&self.pool)
        .await?;
        if claimed == Some(claim) {
            return Ok(ClaimOutcome::Claimed(KeyClaim {
                user_id: user_id.to_owned(),
                key: key.to_owned(),
                claim,
            }));
        }
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT fingerprint, status, location, etag, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            // Purged between the two statements: as good as in progress; a retry claims it.
            None => ClaimOutcome::InProgress,
            Some(r) if r.fingerprint != fingerprint => ClaimOutcome::Mismatch,
            Some(KeyRow {
                status: Some(status),
                location,
                etag,
                body,
                ..
            }) => ClaimOutcome::Replay(StoredResponse {
                status: status as u16,
                location,
                etag,
                body: body.unwrap_or_default(),
            }),
            Some(_) => ClaimOutcome::InProgress,
        })
    }

    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim = $3 AND status IS NULL")
            .bind(&claim.user_id)
            .bind(&claim.key)
            .bind(claim.claim)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge(&self, now: Timestamp, tombstones_before: Timestamp) -> StoreResult<u64> {
        let keys = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now.as_datetime())
            .execute(&self.pool)
            .await?;
        let tombstones = sqlx::query("DELETE FROM deletions WHERE deleted_at < $1")
            .bind(tombstones_before.as_datetime())
            .execute(&self.pool)
            .await?;
        Ok(keys.rows_affected() + tombstones.rows_affected())
    }
}
