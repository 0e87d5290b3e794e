//! Accounts on SQLite.

use async_trait::async_trait;

use super::{account_columns, convert, AccountRow, SqliteStore};
use crate::domain::account::Account;
use crate::domain::Timestamp;
use crate::store::{
    AccountStore, ExternalIdentity, ImportOutcome, ImportedAccount, NewAccount, StoreError, StoreResult,
};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, a: NewAccount) -> StoreResult<Account> {
        let sql = concat!(
            "INSERT INTO users (id, email, hashed_password, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING ",
            account_columns!()
        );
        let row: AccountRow = sqlx::query_as(sql)
            .bind(&a.id)
            .bind(a.email.as_str())
            .bind(&a.password_hash)
            .bind(&a.name)
            .bind(a.created_at.as_micros())
            .fetch_one(&mut *self.writer.hold().await?)
            .await?;
        row.try_into()
    }

    async fn account_by_id(&self, id: &str) -> StoreResult<Option<Account>> {
        let sql = concat!("SELECT ", account_columns!(), " FROM users WHERE id = ?1");
        let row: Option<AccountRow> = sqlx::query_as(sql).bind(id).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        let sql = concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE lower(email) = lower(?1)"
        );
        let row: Option<AccountRow> = sqlx::query_as(sql).bind(email).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn provision_external(&self, identity: ExternalIdentity<'_>, now: Timestamp) -> StoreResult<Account> {
        let insert = "INSERT INTO users (id, email, name, external, created_at) VALUES (?1, ?2, ?3, 1, ?4) \
                      ON CONFLICT (id) DO NOTHING";
        let first = sqlx::query(insert)
            .bind(identity.id)
            .bind(identity.email)
            .bind(identity.name)
            .bind(now.as_micros())
            .execute(&mut *self.writer.hold().await?)
            .await
            .map_err(StoreError::from);
        if let Err(StoreError::EmailTaken) = first {
            sqlx::query(insert)
                .bind(identity.id)
                .bind(None::<&str>)
                .bind(identity.name)
                .bind(now.as_micros())
                .execute(&mut *self.writer.hold().await?)
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
            "UPDATE users SET hashed_password = ?2, token_version = token_version + CASE WHEN ?3 THEN 1 ELSE 0 END \
             WHERE id = ?1 RETURNING token_version",
        )
        .bind(id)
        .bind(hash)
        .bind(revoke)
        .fetch_optional(&mut *self.writer.hold().await?)
        .await?;
        Ok(version)
    }

    async fn set_active(&self, email: &str, active: bool) -> StoreResult<Option<String>> {
        let id: Option<String> =
            sqlx::query_scalar("UPDATE users SET is_active = ?2 WHERE lower(email) = lower(?1) RETURNING id")
                .bind(email)
                .bind(active)
                .fetch_optional(&mut *self.writer.hold().await?)
                .await?;
        Ok(id)
    }

    async fn delete_account(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE id = ?1")
            .bind(id)
            .execute(&mut *self.writer.hold().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let sql = concat!("SELECT ", account_columns!(), " FROM users ORDER BY created_at, id");
        let rows: Vec<AccountRow> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        convert(rows)
    }

    async fn import_accounts(&self, accounts: &[ImportedAccount]) -> StoreResult<ImportOutcome> {
        let mut tx = self.write_tx().await?;
        let mut outcome = ImportOutcome::default();
        for a in accounts {
            let done = sqlx::query(
                "INSERT INTO users (id, email, hashed_password, name, is_active, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&a.id)
            .bind(a.email.as_str())
            .bind(&a.password_hash)
            .bind(&a.name)
            .bind(a.is_active)
            .bind(a.created_at.as_micros())
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
