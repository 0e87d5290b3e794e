//! Task and tag writes that must read what is stored before writing: tags (their stored spelling), a
//! parent (it must exist and be top-level), recurrence (completing moves the due date). The flow
//! is the same on both backends and lives here; each backend supplies the statements
//! ([`TaskTx`]).
//!
//! Every flow starts by taking the owner's next change number, which locks the owner's counter
//! until commit: every other write of that owner waits, so what the flow reads afterwards is the
//! latest committed state and cannot change before the flow commits. Checks and writes are
//! therefore atomic without row locks of their own.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Expected, KeyClaim, Remember, StoreError, StoreResult, StoredResponse, Versioned, Written};
use crate::domain::tag::{tag_key, Tag};
use crate::domain::task::{check_parent, parent_error, NewTask, Task, TaskChanges};
use crate::domain::Timestamp;

/// The statements of one write transaction.
#[async_trait]
pub trait TaskTx: Send {
    /// The owner's next change number (`None`: no such owner).
    async fn next_change(&mut self, user_id: &str) -> StoreResult<Option<i64>>;
    async fn task(&mut self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Task>>>;
    async fn category_exists(&mut self, user_id: &str, id: Uuid) -> StoreResult<bool>;
    /// The `parent_id` of the owner's task `id`: `None` if there is no such task.
    async fn parent_of(&mut self, user_id: &str, id: Uuid) -> StoreResult<Option<Option<Uuid>>>;
    async fn has_subtasks(&mut self, user_id: &str, id: Uuid) -> StoreResult<bool>;
    async fn insert(&mut self, task: &Task, change: i64) -> StoreResult<()>;
    /// Writes every column of the row.
    async fn write(&mut self, task: &Task, change: i64) -> StoreResult<()>;
    /// Makes `tags` the task's tags; each takes the spelling the owner already uses for it.
    async fn set_tags(&mut self, user_id: &str, task_id: Uuid, tags: &[String]) -> StoreResult<()>;
    async fn save_answer(&mut self, claim: &KeyClaim, answer: &StoredResponse) -> StoreResult<()>;
    async fn commit(self) -> StoreResult<()>;
}

/// What a rewrite does to the task it reads.
#[derive(Clone, Copy)]
pub enum Change<'a> {
    Update(&'a TaskChanges),
    /// Flip `completed` (a recurring task that has a next occurrence moves instead).
    Toggle,
}

fn invalid(error: crate::error::FieldError) -> StoreError {
    StoreError::Invalid(error)
}

/// Checks what only the stored state can tell: the category is the owner's, the parent exists
/// and is top-level, and the task does not become a subtask while it has subtasks.
async fn check_references(tx: &mut impl TaskTx, before: Option<&Task>, after: &Task) -> StoreResult<()> {
    let user = after.user_id.as_str();
    if let Some(category) = after.category_id {
        if before.and_then(|b| b.category_id) != Some(category) && !tx.category_exists(user, category).await? {
            return Err(StoreError::UnknownCategory);
        }
    }
    if let Some(parent) = after.parent_id {
        if before.and_then(|b| b.parent_id) != Some(parent) {
            let parents_parent = tx.parent_of(user, parent).await?;
            let has_subtasks = match before {
                Some(b) => tx.has_subtasks(user, b.id).await?,
                None => false,
            };
            check_parent(parents_parent, has_subtasks).map_err(|p| invalid(parent_error(p)))?;
        }
    }
    Ok(())
}

/// Creates a task that has tags or a parent.
pub async fn create(
    mut tx: impl TaskTx,
    user_id: &str,
    new: &NewTask,
    now: Timestamp,
    remember: Option<Remember<'_, Versioned<Task>>>,
) -> StoreResult<Versioned<Task>> {
    let change = tx
        .next_change(user_id)
        .await?
        .ok_or_else(|| StoreError::Other("task owner vanished".into()))?;
    let task = new.into_task(Uuid::now_v7(), user_id, now);
    check_references(&mut tx, None, &task).await?;
    tx.insert(&task, change).await?;
    if !task.tags.is_empty() {
        tx.set_tags(user_id, task.id, &task.tags).await?;
    }
    let stored = tx
        .task(user_id, task.id)
        .await?
        .ok_or_else(|| StoreError::Other("a task vanished while being created".into()))?;
    if let Some(remember) = remember {
        tx.save_answer(remember.claim, &(remember.render)(&stored)).await?;
    }
    tx.commit().await?;
    Ok(stored)
}

/// Reads the task, applies `change` to it and writes the whole row back, in one transaction.
pub async fn rewrite(
    mut tx: impl TaskTx,
    user_id: &str,
    id: Uuid,
    change: Change<'_>,
    now: Timestamp,
    expected: Option<Expected<'_>>,
    remember: Option<Remember<'_, Versioned<Task>>>,
) -> StoreResult<Written<Versioned<Task>>> {
    let Some(seq) = tx.next_change(user_id).await? else {
        return Ok(Written::NotFound);
    };
    let Some(current) = tx.task(user_id, id).await? else {
        return Ok(Written::NotFound);
    };
    if expected.is_some_and(|e| !e.0.contains(&current.version)) {
        return Ok(Written::Stale);
    }
    let toggle;
    let changes = match change {
        Change::Update(c) => c,
        Change::Toggle => {
            toggle = TaskChanges::toggle(&current.value);
            &toggle
        }
    };
    let next = changes.apply(&current.value, now).map_err(invalid)?;
    check_references(&mut tx, Some(&current.value), &next).await?;
    tx.write(&next, seq).await?;
    if changes.tags.is_some() {
        tx.set_tags(user_id, id, &next.tags).await?;
    }
    let stored = tx
        .task(user_id, id)
        .await?
        .ok_or_else(|| StoreError::Other("a task vanished while being written".into()))?;
    if let Some(remember) = remember {
        tx.save_answer(remember.claim, &(remember.render)(&stored)).await?;
    }
    tx.commit().await?;
    Ok(Written::Done(stored))
}

/// Tag statements, the same text on both backends (`$n` numbered in order of first use, as
/// SQLite counts them too).
pub mod tag_sql {
    pub const IN_USE: &str = "SELECT min(name) AS name, count(*) AS count FROM task_tags WHERE user_id = $1 \
                              GROUP BY tag_key ORDER BY tag_key";
    /// Marks every task carrying the tag as changed; how many tells whether the tag is in use.
    pub const TOUCH_TAGGED: &str = "UPDATE tasks SET updated_at = $3, change_seq = $4 WHERE user_id = $1 \
                                    AND id IN (SELECT task_id FROM task_tags WHERE user_id = $1 AND tag_key = $2)";
    pub const SPELLING: &str = "SELECT name FROM task_tags WHERE user_id = $1 AND tag_key = $2 LIMIT 1";
    /// Before a merge: tasks carrying both tags keep only the target's row.
    pub const DROP_DOUBLES: &str = "DELETE FROM task_tags WHERE user_id = $1 AND tag_key = $2 \
                                    AND task_id IN (SELECT task_id FROM task_tags WHERE user_id = $1 AND tag_key = $3)";
    pub const RENAME: &str = "UPDATE task_tags SET tag_key = $3, name = $4 WHERE user_id = $1 AND tag_key = $2";
    pub const COUNT: &str = "SELECT count(*) FROM task_tags WHERE user_id = $1 AND tag_key = $2";
    pub const DELETE: &str = "DELETE FROM task_tags WHERE user_id = $1 AND tag_key = $2";
}

/// The tag statements of one write transaction.
#[async_trait]
pub trait TagTx: TaskTx {
    /// Runs [`tag_sql::TOUCH_TAGGED`]: how many tasks carry the tag.
    async fn touch_tagged(&mut self, user_id: &str, key: &str, now: Timestamp, change: i64) -> StoreResult<u64>;
    /// Runs a statement of [`tag_sql`] with `$1` the user and the given text parameters after it.
    async fn run(&mut self, sql: &'static str, user_id: &str, params: &[&str]) -> StoreResult<()>;
    async fn spelling(&mut self, user_id: &str, key: &str) -> StoreResult<Option<String>>;
    async fn count(&mut self, user_id: &str, key: &str) -> StoreResult<i64>;
}

/// Renames the tag `from` (a key) to `to` on every task carrying it (§10).
pub async fn rename_tag(
    mut tx: impl TagTx,
    user_id: &str,
    from: &str,
    to: &str,
    now: Timestamp,
) -> StoreResult<Option<Tag>> {
    let change = tx
        .next_change(user_id)
        .await?
        .ok_or_else(|| StoreError::Other("tag owner vanished".into()))?;
    if tx.touch_tagged(user_id, from, now, change).await? == 0 {
        return Ok(None);
    }
    let to_key = tag_key(to);
    // Into another tag in use: the two merge under the spelling that tag already has.
    let name = match to_key != from {
        true => tx.spelling(user_id, &to_key).await?.unwrap_or_else(|| to.to_owned()),
        false => to.to_owned(),
    };
    if to_key != from {
        tx.run(tag_sql::DROP_DOUBLES, user_id, &[from, &to_key]).await?;
    }
    tx.run(tag_sql::RENAME, user_id, &[from, &to_key, &name]).await?;
    let count = tx.count(user_id, &to_key).await?;
    tx.commit().await?;
    Ok(Some(Tag { name, count }))
}

/// Takes the tag (a key) off every task carrying it; `false` if none did.
pub async fn delete_tag(mut tx: impl TagTx, user_id: &str, key: &str, now: Timestamp) -> StoreResult<bool> {
    let change = tx
        .next_change(user_id)
        .await?
        .ok_or_else(|| StoreError::Other("tag owner vanished".into()))?;
    if tx.touch_tagged(user_id, key, now, change).await? == 0 {
        return Ok(false);
    }
    tx.run(tag_sql::DELETE, user_id, &[key]).await?;
    tx.commit().await?;
    Ok(true)
}

/// `TagTx` and `TagStore` for a backend whose transaction wrapper holds a `sqlx::Transaction` in
/// `.0`, whose store reads through its pool in `.pool`, and whose timestamps bind through `$now`
/// (the statements are shared, so the implementations are too). Write transactions begin with
/// `self.pool.begin()`, or with the store's own call given as `begin: …`.
macro_rules! tag_store {
    ($store:ty, $tx:ident, $now:ident) => {
        $crate::store::task_write::tag_store!($store, $tx, $now, begin: pool.begin());
    };
    ($store:ty, $tx:ident, $now:ident, begin: $($begin:tt)+) => {
        #[derive(sqlx::FromRow)]
        struct TagRow {
            name: String,
            count: i64,
        }

        #[async_trait::async_trait]
        impl $crate::store::task_write::TagTx for $tx {
            async fn touch_tagged(
                &mut self,
                user_id: &str,
                key: &str,
                now: $crate::domain::Timestamp,
                change: i64,
            ) -> $crate::store::StoreResult<u64> {
                let done = sqlx::query($crate::store::task_write::tag_sql::TOUCH_TAGGED)
                    .bind(user_id)
                    .bind(key)
                    .bind(now.$now())
                    .bind(change)
                    .execute(&mut *self.0)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn run(
                &mut self,
                sql: &'static str,
                user_id: &str,
                params: &[&str],
            ) -> $crate::store::StoreResult<()> {
                let mut query = sqlx::query(sql).bind(user_id);
                for p in params {
                    query = query.bind(*p);
                }
                query.execute(&mut *self.0).await?;
                Ok(())
            }

            async fn spelling(&mut self, user_id: &str, key: &str) -> $crate::store::StoreResult<Option<String>> {
                let name = sqlx::query_scalar($crate::store::task_write::tag_sql::SPELLING)
                    .bind(user_id)
                    .bind(key)
                    .fetch_optional(&mut *self.0)
                    .await?;
                Ok(name)
            }

            async fn count(&mut self, user_id: &str, key: &str) -> $crate::store::StoreResult<i64> {
                let n = sqlx::query_scalar($crate::store::task_write::tag_sql::COUNT)
                    .bind(user_id)
                    .bind(key)
                    .fetch_one(&mut *self.0)
                    .await?;
                Ok(n)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::TagStore for $store {
            async fn tags(&self, user_id: &str) -> $crate::store::StoreResult<Vec<$crate::domain::tag::Tag>> {
                let rows: Vec<TagRow> = sqlx::query_as($crate::store::task_write::tag_sql::IN_USE)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| $crate::domain::tag::Tag {
                        name: r.name,
                        count: r.count,
                    })
                    .collect())
            }

            async fn rename_tag(
                &self,
                user_id: &str,
                from: &str,
                to: &str,
                now: $crate::domain::Timestamp,
            ) -> $crate::store::StoreResult<Option<$crate::domain::tag::Tag>> {
                $crate::store::task_write::rename_tag($tx(self.$($begin)+.await?), user_id, from, to, now).await
            }

            async fn delete_tag(
                &self,
                user_id: &str,
                key: &str,
                now: $crate::domain::Timestamp,
            ) -> $crate::store::StoreResult<bool> {
                $crate::store::task_write::delete_tag($tx(self.$($begin)+.await?), user_id, key, now).await
            }
        }
    };
}
pub(crate) use tag_store;
