//! Tags on SQLite: the statements are shared ([`tag_sql`]); the flows are
//! [`task_write`]'s.

use async_trait::async_trait;
use sqlx::FromRow;

use super::task_tx::SqliteTx;
use super::SqliteStore;
use crate::domain::tag::Tag;
use crate::domain::Timestamp;
use crate::store::task_write::{self, tag_sql, TagTx};
use crate::store::{StoreResult, TagStore};

#[derive(FromRow)]
struct TagRow {
    name: String,
    count: i64,
}

#[async_trait]
impl TagTx for SqliteTx {
    async fn touch_tagged(&mut self, user_id: &str, key: &str, now: Timestamp, change: i64) -> StoreResult<u64> {
        let done = sqlx::query(tag_sql::TOUCH_TAGGED)
            .bind(user_id)
            .bind(key)
            .bind(now.as_micros())
            .bind(change)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }

    async fn run(&mut self, sql: &'static str, user_id: &str, params: &[&str]) -> StoreResult<()> {
        let mut query = sqlx::query(sql).bind(user_id);
        for p in params {
            query = query.bind(*p);
        }
        query.execute(&mut *self.0).await?;
        Ok(())
    }

    async fn spelling(&mut self, user_id: &str, key: &str) -> StoreResult<Option<String>> {
        let name = sqlx::query_scalar(tag_sql::SPELLING)
            .bind(user_id)
            .bind(key)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(name)
    }

    async fn count(&mut self, user_id: &str, key: &str) -> StoreResult<i64> {
        let n = sqlx::query_scalar(tag_sql::COUNT)
            .bind(user_id)
            .bind(key)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(n)
    }
}

#[async_trait]
impl TagStore for SqliteStore {
    async fn tags(&self, user_id: &str) -> StoreResult<Vec<Tag>> {
        let rows: Vec<TagRow> = sqlx::query_as(tag_sql::IN_USE)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Tag {
                name: r.name,
                count: r.count,
            })
            .collect())
    }

    async fn rename_tag(&self, user_id: &str, from: &str, to: &str, now: Timestamp) -> StoreResult<Option<Tag>> {
        task_write::rename_tag(SqliteTx(self.pool.begin().await?), user_id, from, to, now).await
    }

    async fn delete_tag(&self, user_id: &str, key: &str, now: Timestamp) -> StoreResult<bool> {
        task_write::delete_tag(SqliteTx(self.pool.begin().await?), user_id, key, now).await
    }
}
