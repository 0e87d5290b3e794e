//! The statements of [`task_write`](crate::store::task_write)'s flows on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;
use uuid::Uuid;

use super::db::Tx;
use super::sync::save_answer;
use super::{task_columns, task_select, TaskRow, NEXT_CHANGE};
use crate::domain::tag::tag_key;
use crate::domain::task::Task;
use crate::domain::Timestamp;
use crate::store::task_write::TaskTx;
use crate::store::{recurrence_columns, KeyClaim, StoreResult, StoredResponse, Versioned};

pub(super) struct PgTx(pub Tx);

/// Binds every column of `task_columns!()` but `id` and `user_id`, from `$3` on.
fn bind_row<'q>(query: Query<'q, Postgres, PgArguments>, t: &'q Task, change: i64) -> Query<'q, Postgres, PgArguments> {
    let (rule, basis, timezone) = recurrence_columns(t.recurrence.as_ref());
    query
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.completed)
        .bind(t.priority.rank())
        .bind(t.due_date.map(Timestamp::as_datetime))
        .bind(t.category_id)
        .bind(t.completed_at.map(Timestamp::as_datetime))
        .bind(t.created_at.as_datetime())
        .bind(t.updated_at.as_datetime())
        .bind(change)
        .bind(t.parent_id)
        .bind(rule)
        .bind(basis)
        .bind(timezone)
}

#[async_trait]
impl TaskTx for PgTx {
    async fn next_change(&mut self, user_id: &str) -> StoreResult<Option<i64>> {
        let seq = sqlx::query_scalar(NEXT_CHANGE)
            .bind(user_id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(seq)
    }

    async fn task(&mut self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Task>>> {
        let sql = concat!("SELECT ", task_select!(), " FROM tasks WHERE id = $1 AND user_id = $2");
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn category_exists(&mut self, user_id: &str, id: Uuid) -> StoreResult<bool> {
        let found = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM categories WHERE id = $1 AND user_id = $2)")
            .bind(id)
            .bind(user_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(found)
    }

    async fn parent_of(&mut self, user_id: &str, id: Uuid) -> StoreResult<Option<Option<Uuid>>> {
        let parent = sqlx::query_scalar("SELECT parent_id FROM tasks WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(parent)
    }

    async fn has_subtasks(&mut self, user_id: &str, id: Uuid) -> StoreResult<bool> {
        let found = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tasks WHERE parent_id = $1 AND user_id = $2)")
            .bind(id)
            .bind(user_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(found)
    }

    async fn insert(&mut self, t: &Task, change: i64) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO tasks (",
            task_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        );
        bind_row(sqlx::query(sql).bind(t.id).bind(&t.user_id), t, change)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn write(&mut self, t: &Task, change: i64) -> StoreResult<()> {
        let sql = "UPDATE tasks SET title = $3, description = $4, completed = $5, priority = $6, due_date = $7, \
                   category_id = $8, completed_at = $9, created_at = $10, updated_at = $11, change_seq = $12, \
                   parent_id = $13, recurrence_rule = $14, recurrence_basis = $15, recurrence_tz = $16 \
                   WHERE id = $1 AND user_id = $2";
        bind_row(sqlx::query(sql).bind(t.id).bind(&t.user_id), t, change)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_tags(&mut self, user_id: &str, task_id: Uuid, tags: &[String]) -> StoreResult<()> {
        let keys: Vec<String> = tags.iter().map(|t| tag_key(t)).collect();
        // Tags the task keeps keep their rows; a new one takes the spelling the owner's other
        // tasks already give it, or its own on first use.
        sqlx::query(
            "INSERT INTO task_tags (task_id, user_id, tag_key, name) \
             SELECT $1, $2, k, coalesce((SELECT t.name FROM task_tags t WHERE t.user_id = $2 AND t.tag_key = k LIMIT 1), n) \
             FROM unnest($3::text[], $4::text[]) AS x(k, n) ON CONFLICT (task_id, tag_key) DO NOTHING",
        )
        .bind(task_id)
        .bind(user_id)
        .bind(&keys)
        .bind(tags)
        .execute(&mut *self.0)
        .await?;
        sqlx::query("DELETE FROM task_tags WHERE task_id = $1 AND NOT (tag_key = ANY($2))")
            .bind(task_id)
            .bind(&keys)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn save_answer(&mut self, claim: &KeyClaim, answer: &StoredResponse) -> StoreResult<()> {
        save_answer(&mut self.0, claim, answer).await
    }

    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }
}
