//! Accounts on PostgreSQL.

use async_trait::async_trait;

use super::{account_columns, AccountRow, PgStore};
use crate::domain::account::Account;
use crate::domain::Timestamp;
use crate::store::{
    AccountStore, ExternalIdentity, ImportOutcome, ImportedAccount, NewAccount, StoreError, StoreResult,
};

#[async_trait]
impl AccountStore for PgStore {
    async fn create_account(&self, a: NewAccount) -> StoreResult<Account> {
        let sql = concat!(
            "INSERT INTO users (id, email, hashed_password, name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
            account_columns!()
        );
        let row: AccountRow = sqlx::query_as(sql)
            .bind(&a.id)
            .bind(a.email.as_str())
            .bind(&a.password_hash)
            .bind(&a.name)
            .bind(a.created_at.as_datetime())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.into())
    }

    async fn account_by_id(&self, id: &str) -> StoreResult<Option<Account>> {
        let sql = concat!("SELECT ", account_columns!(), " FROM users WHERE id = $1");
        let row: Option<AccountRow> = sqlx::query_as(sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(Into::into))
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        let sql = concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE lower(email) = lower($1)"
        );
        let row: Option<AccountRow> = sqlx::query_as(sql).bind(email).fetch_optional(&self.pool).await?;
        Ok(row.map(Into::into))
    }

    async fn provision_external(&self, identity: ExternalIdentity<'_>, now: Timestamp) -> StoreResult<Account> {
        let insert = "INSERT INTO users (id, email, name, external, created_at) VALUES ($1, $2, $3, TRUE, $4) \
                      ON CONFLICT (id) DO NOTHING";
        let first = sqlx::query(insert)
            .bind(identity.id)
            .bind(identity.email)
            .bind(identity.name)
            .bind(now.as_datetime())
            .execute(&self.pool)
            .await
            .map_err(StoreError::from);
        if let Err(StoreError::EmailTaken) = first {
            // The email belongs to another account: never merge, keep the identity without it.
            sqlx::query(insert)
                .bind(identity.id)
                .bind(None::<&str>)
                .bind(identity.name)
                .bind(now.as_datetime())
                .execute(&self.pool)
                .await?;
        } else {
            first?;
        }
        self.account_by_id(identity.id)
            .await?
            .ok_or_else(|| StoreError::Other("provisioned account vanished".into()))
    }

    async fn set_password(&self, id: &str, hash: &str, revoke: bool) -> StoreResult<Option<i32>> {
        let version: Option<i32> = sqlx::query_scalar(
            "UPDATE users SET hashed_password = $2, token_version = token_version + CASE WHEN $3 THEN 1 ELSE 0 END \
             WHERE id = $1 RETURNING token_version, CASE WHEN $3 THEN pg_notify('taskapi_accounts', id)::text END",
        )
        .bind(id)
        .bind(hash)
        .bind(revoke)
        .fetch_optional(&self.pool)
        .await?;
        Ok(version)
    }

    async fn set_active(&self, email: &str, active: bool) -> StoreResult<Option<String>> {
        let id: Option<String> =
            sqlx::query_scalar("UPDATE users SET is_active = $2 WHERE lower(email) = lower($1) RETURNING id, pg_notify('taskapi_accounts', id)")
                .bind(email)
                .bind(active)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id)
    }

    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1 RETURNING pg_notify('taskapi_accounts', id)")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let sql = concat!("SELECT ", account_columns!(), " FROM users ORDER BY created_at, id");
        let rows: Vec<AccountRow> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn import_accounts(&self, accounts: &[ImportedAccount]) -> StoreResult<ImportOutcome> {
        let mut tx = self.pool.begin().await?;
        let mut outcome = ImportOutcome::default();
        for a in accounts {
            let done = sqlx::query(
                "INSERT INTO users (id, email, hashed_password, name, is_active, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&a.id)
            .bind(a.email.as_str())
            .bind(&a.password_hash)
            .bind(&a.name)
            .bind(a.is_active)
            .bind(a.created_at.as_datetime())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                outcome.imported += 1;
            } else {
                outcome.skipped += 1;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }
}
