//! Change order, delta sync and idempotency keys on SQLite.
//!
//! Why the change order never lets a sync miss a change: SQLite has one writer at a time, and
//! every write takes its number ([`super::next_change`]) inside its own transaction, which holds
//! the write lock until it commits. Numbers are therefore taken in commit order. A sync reads in
//! one read transaction (one WAL snapshot): if it sees change n it sees every change below n, and
//! `users.change_seq` in that snapshot is the highest visible number. A rolled-back write rolls
//! its number back too.

use async_trait::async_trait;
use sqlx::sqlite::SqliteConnection;
use uuid::Uuid;

use super::{category_columns, task_columns, task_select, uuid, CategoryRow, SqliteStore, TaskRow};
use crate::domain::Timestamp;
use crate::store::{
    sync_page, ClaimOutcome, KeyClaim, ObjectKind, Position, StoreError, StoreResult, StoredResponse, SyncPage,
    SyncStore, CLAIM_LEASE,
};

/// Keeps a write's answer under its claimed key, in the write's transaction. A claim taken over
/// in the meantime (its request was thought dead) fails the write, which then rolls back.
pub(super) async fn save_answer(
    conn: &mut SqliteConnection,
    claim: &KeyClaim,
    answer: &StoredResponse,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET status = ?4, location = ?5, etag = ?6, body = ?7 \
         WHERE user_id = ?1 AND key = ?2 AND claim = ?3 AND status IS NULL",
    )
    .bind(&claim.user_id)
    .bind(&claim.key)
    .bind(claim.claim.hyphenated().to_string())
    .bind(i64::from(answer.status))
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

#[derive(sqlx::FromRow)]
struct DeletionRow {
    change_seq: i64,
    kind: i64,
    id: String,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    status: Option<i64>,
    location: Option<String>,
    etag: Option<String>,
    body: Option<Vec<u8>>,
}

fn micros_of(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2)
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn latest_change(&self, user_id: &str) -> StoreResult<i64> {
        let head: Option<i64> = sqlx::query_scalar("SELECT change_seq FROM users WHERE id = ?1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(head.unwrap_or(0))
    }

    async fn sync(&self, user_id: &str, from: Position, limit: usize, deletions: bool) -> StoreResult<SyncPage> {
        let (change, kind, id) = from.key();
        let id = id.hyphenated().to_string();
        let fetch = limit as i64 + 1;
        // One read transaction: one snapshot for the head and every table.
        let mut tx = self.pool.begin().await?;
        let head: i64 = sqlx::query_scalar("SELECT change_seq FROM users WHERE id = ?1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        let tasks: Vec<TaskRow> = sqlx::query_as(concat!(
            "SELECT ",
            task_select!(),
            " FROM tasks WHERE user_id = ?1 AND change_seq >= ?2 AND (change_seq, 1, id) > (?2, ?3, ?4) \
             ORDER BY change_seq, id LIMIT ?5"
        ))
        .bind(user_id)
        .bind(change)
        .bind(kind)
        .bind(&id)
        .bind(fetch)
        .fetch_all(&mut *tx)
        .await?;
        let categories: Vec<CategoryRow> = sqlx::query_as(concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE user_id = ?1 AND change_seq >= ?2 AND (change_seq, 0, id) > (?2, ?3, ?4) \
             ORDER BY change_seq, id LIMIT ?5"
        ))
        .bind(user_id)
        .bind(change)
        .bind(kind)
        .bind(&id)
        .bind(fetch)
        .fetch_all(&mut *tx)
        .await?;
        let gone: Vec<DeletionRow> = if deletions {
            sqlx::query_as(
                "SELECT change_seq, kind, id FROM deletions WHERE user_id = ?1 AND change_seq >= ?2 \
                 AND (change_seq, kind, id) > (?2, ?3, ?4) ORDER BY change_seq, kind, id LIMIT ?5",
            )
            .bind(user_id)
            .bind(change)
            .bind(kind)
            .bind(&id)
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
                let kind = ObjectKind::from_code(row.kind)
                    .ok_or_else(|| StoreError::Other(format!("unknown deletion kind {}", row.kind)))?;
                Ok((row.change_seq, kind, uuid(&row.id)?))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(sync_page(
            tasks.into_iter().map(TryInto::try_into).collect::<StoreResult<_>>()?,
            categories
                .into_iter()
                .map(TryInto::try_into)
                .collect::<StoreResult<_>>()?,
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
        let claim_text = claim.hyphenated().to_string();
        let now_us = now.as_micros();
        // A new key, an expired one, or one whose request died holding it (same request only).
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, claim, claimed_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, claim = excluded.claim, \
             claimed_at = excluded.claimed_at, expires_at = excluded.expires_at, \
             status = NULL, location = NULL, etag = NULL, body = NULL \
             WHERE idempotency_keys.expires_at <= ?5 OR (idempotency_keys.status IS NULL \
             AND idempotency_keys.claimed_at <= ?7 AND idempotency_keys.fingerprint = excluded.fingerprint) \
             RETURNING claim",
        )
        .bind(user_id)
        .bind(key)
        .bind(fingerprint)
        .bind(&claim_text)
        .bind(now_us)
        .bind(now_us.saturating_add(micros_of(ttl)))
        .bind(now_us.saturating_sub(micros_of(CLAIM_LEASE)))
        .fetch_optional(&mut *self.writer.hold().await?)
        .await?;
        if claimed.as_deref() == Some(claim_text.as_str()) {
            return Ok(ClaimOutcome::Claimed(KeyClaim {
                user_id: user_id.to_owned(),
                key: key.to_owned(),
                claim,
            }));
        }
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT fingerprint, status, location, etag, body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => ClaimOutcome::InProgress,
            Some(r) if r.fingerprint != fingerprint => ClaimOutcome::Mismatch,
            Some(KeyRow {
                status: Some(status),
                location,
                etag,
                body,
                ..
            }) => ClaimOutcome::Replay(StoredResponse {
                status: u16::try_from(status).unwrap_or(200),
                location,
                etag,
                body: body.unwrap_or_default(),
            }),
            Some(_) => ClaimOutcome::InProgress,
        })
    }

    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2 AND claim = ?3 AND status IS NULL")
            .bind(&claim.user_id)
            .bind(&claim.key)
            .bind(claim.claim.hyphenated().to_string())
            .execute(&mut *self.writer.hold().await?)
            .await?;
        Ok(())
    }

    async fn purge(&self, now: Timestamp, tombstones_before: Timestamp) -> StoreResult<u64> {
        let keys = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= ?1")
            .bind(now.as_micros())
            .execute(&mut *self.writer.hold().await?)
            .await?;
        let tombstones = sqlx::query("DELETE FROM deletions WHERE deleted_at < ?1")
            .bind(tombstones_before.as_micros())
            .execute(&mut *self.writer.hold().await?)
            .await?;
        Ok(keys.rows_affected() + tombstones.rows_affected())
    }
}
