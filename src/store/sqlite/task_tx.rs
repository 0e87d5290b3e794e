//! The statements of [`task_write`](crate::store::task_write)'s flows on SQLite.

use async_trait::async_trait;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;
use uuid::Uuid;

use super::sync::save_answer;
use super::writer::WriteTx;
use super::{micros, next_change, task_columns, task_select, text, TaskRow};
use crate::domain::tag::tag_key;
use crate::domain::task::Task;
use crate::store::task_write::TaskTx;
use crate::store::{recurrence_columns, KeyClaim, StoreError, StoreResult, StoredResponse, Versioned};

pub(super) struct SqliteTx(pub WriteTx);

/// Binds every column of `task_columns!()` but `id` and `user_id`, from `?3` on.
fn bind_row<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    t: &'q Task,
    change: i64,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let (rule, basis, timezone) = recurrence_columns(t.recurrence.as_ref());
    query
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.completed)
        .bind(t.priority.rank())
        .bind(micros(t.due_date))
        .bind(text(t.category_id))
        .bind(micros(t.completed_at))
        .bind(t.created_at.as_micros())
        .bind(t.updated_at.as_micros())
        .bind(change)
        .bind(text(t.parent_id))
        .bind(rule)
        .bind(basis)
        .bind(timezone)
}

#[async_trait]
impl TaskTx for SqliteTx {
    async fn next_change(&mut self, user_id: &str) -> StoreResult<Option<i64>> {
        next_change(&mut self.0, user_id).await
    }

    async fn task(&mut self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Task>>> {
        let sql = concat!("SELECT ", task_select!(), " FROM tasks WHERE id = ?1 AND user_id = ?2");
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id.hyphenated().to_string())
            .bind(user_id)
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn category_exists(&mut self, user_id: &str, id: Uuid) -> StoreResult<bool> {
        let found = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM categories WHERE id = ?1 AND user_id = ?2)")
            .bind(id.hyphenated().to_string())
            .bind(user_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(found)
    }

    async fn parent_of(&mut self, user_id: &str, id: Uuid) -> StoreResult<Option<Option<Uuid>>> {
        let parent: Option<Option<String>> =
            sqlx::query_scalar("SELECT parent_id FROM tasks WHERE id = ?1 AND user_id = ?2")
                .bind(id.hyphenated().to_string())
                .bind(user_id)
                .fetch_optional(&mut *self.0)
                .await?;
        parent.map(|p| p.as_deref().map(super::uuid).transpose()).transpose()
    }

    async fn has_subtasks(&mut self, user_id: &str, id: Uuid) -> StoreResult<bool> {
        let found = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tasks WHERE parent_id = ?1 AND user_id = ?2)")
            .bind(id.hyphenated().to_string())
            .bind(user_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(found)
    }

    async fn insert(&mut self, t: &Task, change: i64) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO tasks (",
            task_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
        );
        bind_row(
            sqlx::query(sql).bind(t.id.hyphenated().to_string()).bind(&t.user_id),
            t,
            change,
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn write(&mut self, t: &Task, change: i64) -> StoreResult<()> {
        let sql = "UPDATE tasks SET title = ?3, description = ?4, completed = ?5, priority = ?6, due_date = ?7, \
                   category_id = ?8, completed_at = ?9, created_at = ?10, updated_at = ?11, change_seq = ?12, \
                   parent_id = ?13, recurrence_rule = ?14, recurrence_basis = ?15, recurrence_tz = ?16 \
                   WHERE id = ?1 AND user_id = ?2";
        bind_row(
            sqlx::query(sql).bind(t.id.hyphenated().to_string()).bind(&t.user_id),
            t,
            change,
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn set_tags(&mut self, user_id: &str, task_id: Uuid, tags: &[String]) -> StoreResult<()> {
        let keys: Vec<String> = tags.iter().map(|t| tag_key(t)).collect();
        let keys = serde_json::to_string(&keys).map_err(|e| StoreError::Other(e.to_string()))?;
        let names = serde_json::to_string(tags).map_err(|e| StoreError::Other(e.to_string()))?;
        let id = task_id.hyphenated().to_string();
        // Tags the task keeps keep their rows; a new one takes the spelling the owner's other
        // tasks already give it, or its own on first use. (`WHERE true` lets SQLite parse the
        // upsert after a SELECT.)
        sqlx::query(
            "INSERT INTO task_tags (task_id, user_id, tag_key, name) \
             SELECT ?1, ?2, k.value, coalesce((SELECT t.name FROM task_tags t WHERE t.user_id = ?2 AND t.tag_key = k.value LIMIT 1), n.value) \
             FROM json_each(?3) k JOIN json_each(?4) n ON n.key = k.key WHERE true \
             ON CONFLICT (task_id, tag_key) DO NOTHING",
        )
        .bind(&id)
        .bind(user_id)
        .bind(&keys)
        .bind(&names)
        .execute(&mut *self.0)
        .await?;
        sqlx::query("DELETE FROM task_tags WHERE task_id = ?1 AND tag_key NOT IN (SELECT value FROM json_each(?2))")
            .bind(&id)
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
