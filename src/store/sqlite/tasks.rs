//! Tasks on SQLite. Every write is one transaction that first takes the owner's next change
//! number ([`next_change`]); writes that must read the stored state first (tags, parents,
//! recurrence) are [`task_write`]'s flows.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::task_tx::SqliteTx;
use super::{
    alone_if, begin_alone, expected_json, micros, new_change, next_change, push_expected, push_new_change,
    push_take_change, push_task_filters, take_change, task_columns, task_select, text, CountedTaskRow, SqliteStore,
    TaskRow,
};
use crate::domain::body::Patch;
use crate::domain::task::{NewTask, Task, TaskChanges, TaskQuery};
use crate::domain::Timestamp;
use crate::store::task_write::{self, Change};
use crate::store::{
    miss, push_list_total, recurrence_columns, unchanged, Expected, Remember, StoreError, StoreResult, SyncStore,
    TaskStore, Versioned, Written,
};

/// A task (`?2`, the owner's `?1`) and its subtasks, found by their ids. Written as `user_id = ?1
/// AND (id = ?2 OR parent_id = ?2)`, SQLite (which has no statistics here) read every task of the
/// owner to find them; the `+` keeps it from choosing an owner's index for the owner's check.
pub(super) const DELETE_WITH_SUBTASKS: &str = "DELETE FROM tasks WHERE +user_id = ?1 \
     AND id IN (SELECT ?2 UNION ALL SELECT id FROM tasks WHERE parent_id = ?2) RETURNING id";

#[async_trait]
impl TaskStore for SqliteStore {
    async fn create_task(
        &self,
        user_id: &str,
        t: &NewTask,
        now: Timestamp,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Versioned<Task>> {
        if !t.is_plain() {
            return task_write::create(SqliteTx(self.write_tx().await?), user_id, t, now, remember).await;
        }
        macro_rules! insert {
            () => {
                concat!(
                    "INSERT INTO tasks (",
                    task_columns!(),
                    ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?5 THEN ?9 END, ?9, ?9, ",
                    new_change!("?2"),
                    ", NULL, ?10, ?11, ?12 \
                     WHERE ?8 IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = ?8 AND user_id = ?2) RETURNING ",
                    task_select!(),
                    take_change!("?2")
                )
            };
        }
        let sql = alone_if!(remember.is_none(), insert!());
        let (rule, basis, timezone) = recurrence_columns(t.recurrence.as_ref());
        let query = sqlx::query_as::<_, TaskRow>(sql)
            .bind(Uuid::now_v7().hyphenated().to_string())
            .bind(user_id.to_owned())
            .bind(t.title.clone())
            .bind(t.description.clone())
            .bind(t.completed)
            .bind(t.priority.rank())
            .bind(micros(t.due_date))
            .bind(text(t.category_id))
            .bind(now.as_micros())
            .bind(rule.map(str::to_owned))
            .bind(basis)
            .bind(timezone.map(str::to_owned));
        self.write_row(query, remember)
            .await?
            .ok_or(StoreError::UnknownCategory)
    }

    async fn task(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Task>>> {
        let sql = concat!("SELECT ", task_select!(), " FROM tasks WHERE id = ?1 AND user_id = ?2");
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id.hyphenated().to_string())
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_tasks(&self, user_id: &str, query: &TaskQuery) -> StoreResult<(Vec<Task>, i64, i64)> {
        // The page, its total and the owner's latest change in one statement: one snapshot, so
        // the total is exact for the page it comes with ([`TotalBy`] says where it is read).
        let mut qb = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            task_select!(),
            ", (SELECT change_seq FROM users WHERE id = "
        ));
        qb.push_bind(user_id.to_owned()).push(") AS head, ");
        push_list_total(&mut qb, user_id, query, true, push_task_filters);
        qb.push(" AS total FROM tasks");
        if query.q.is_some() {
            // A search reads every row of the owner (no index can answer LIKE '%…%'), and the
            // total counts them all anyway. Every sort index starts with user_id, so SQLite picks
            // one of them by chance, and one in title order visits the table at random: 200 ms
            // for 10^5 tasks against 28 ms in creation order, which is the table's own order. The
            // creation order's index also carries the searched text (migration 0009), so the scan
            // fetches only the matching rows from the table.
            qb.push(" INDEXED BY tasks_user_created_idx");
        }
        push_task_filters(&mut qb, user_id, query);
        qb.push(" ORDER BY ").push(query.sort.sqlite_order_by());
        qb.push(" LIMIT ")
            .push_bind(query.limit)
            .push(" OFFSET ")
            .push_bind(query.offset);
        let rows: Vec<CountedTaskRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let (total, head) = match rows.first() {
            Some(r) => (r.total, r.head),
            // No row to carry them: ask on their own, the change first (an older change with a
            // newer answer only makes a client ask again).
            None => {
                let head = self.latest_change(user_id).await?;
                let total = if query.offset > 0 {
                    let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
                    push_list_total(&mut qb, user_id, query, false, push_task_filters);
                    qb.build_query_scalar().fetch_one(&self.pool).await?
                } else {
                    0
                };
                (total, head)
            }
        };
        let tasks = rows
            .into_iter()
            .map(|r| Task::try_from(r.task))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((tasks, total, head))
    }

    async fn update_task(
        &self,
        user_id: &str,
        id: Uuid,
        c: &TaskChanges,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<Versioned<Task>>> {
        if c.is_empty() {
            // Nothing to write; the precondition still applies.
            return Ok(unchanged(self.task(user_id, id).await?, expected));
        }
        if c.needs_current_state() {
            return self.rewrite(user_id, id, Change::Update(c), now, expected, None).await;
        }
        let mut qb = begin_alone(true);
        qb.push("UPDATE tasks SET change_seq = ");
        push_new_change(&mut qb, user_id);
        qb.push(", updated_at = ").push_bind(now.as_micros());
        if let Some(title) = &c.title {
            qb.push(", title = ").push_bind(title.clone());
        }
        if let Some(description) = c.description.clone().into_change() {
            qb.push(", description = ").push_bind(description);
        }
        if let Some(priority) = c.priority {
            qb.push(", priority = ").push_bind(priority.rank());
        }
        if let Some(due) = c.due_date.clone().into_change() {
            qb.push(", due_date = ").push_bind(micros(due));
        }
        if let Some(category) = c.category_id.clone().into_change() {
            qb.push(", category_id = ").push_bind(text(category));
        }
        if let Some(completed) = c.completed {
            qb.push(", completed = ").push_bind(completed);
            qb.push(", completed_at = CASE WHEN ").push_bind(completed);
            qb.push(" THEN coalesce(completed_at, ")
                .push_bind(now.as_micros())
                .push(") END");
        }
        qb.push(" WHERE id = ")
            .push_bind(id.hyphenated().to_string())
            .push(" AND user_id = ")
            .push_bind(user_id.to_owned());
        push_expected(&mut qb, expected);
        if let Patch::Value(category) = c.category_id {
            qb.push(" AND EXISTS (SELECT 1 FROM categories WHERE id = ")
                .push_bind(category.hyphenated().to_string());
            qb.push(" AND user_id = ").push_bind(user_id.to_owned()).push(")");
        }
        if c.touches_recurrence() {
            // A recurring task completed or given another due date follows §10's rules.
            qb.push(" AND recurrence_rule IS NULL");
        }
        qb.push(" RETURNING ").push(task_select!());
        push_take_change(&mut qb, user_id, true);
        let row = self
            .writer
            .run_once(qb.build_query_as::<TaskRow>())
            .await?
            .into_iter()
            .next();
        if let Some(row) = row {
            return Ok(Written::Done(Versioned::try_from(row)?));
        }
        // No row: no such task, a stale version, a category that is not the owner's, or a
        // recurring task.
        let current = self.task(user_id, id).await?;
        if current.as_ref().is_some_and(|t| t.value.recurrence.is_some()) && c.touches_recurrence() {
            return self.rewrite(user_id, id, Change::Update(c), now, expected, None).await;
        }
        let current = current.map(|t| t.version);
        match miss::<Versioned<Task>>(current, expected) {
            Written::NotFound if current.is_some() && matches!(c.category_id, Patch::Value(_)) => {
                Err(StoreError::UnknownCategory)
            }
            other => Ok(other),
        }
    }

    async fn toggle_task(
        &self,
        user_id: &str,
        id: Uuid,
        now: Timestamp,
        expected: Option<Expected<'_>>,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Written<Versioned<Task>>> {
        macro_rules! toggle {
            () => {
                concat!(
                    "UPDATE tasks SET completed = NOT completed, completed_at = CASE WHEN completed THEN NULL ELSE ?1 END, \
                     updated_at = ?1, change_seq = ",
                    new_change!("?2"),
                    " WHERE id = ?3 AND user_id = ?2 \
                     AND (?4 IS NULL OR change_seq IN (SELECT value FROM json_each(?4))) \
                     AND recurrence_rule IS NULL RETURNING ",
                    task_select!(),
                    take_change!("?2")
                )
            };
        }
        let sql = alone_if!(remember.is_none(), toggle!());
        let query = sqlx::query_as::<_, TaskRow>(sql)
            .bind(now.as_micros())
            .bind(user_id.to_owned())
            .bind(id.hyphenated().to_string())
            .bind(expected_json(expected));
        if let Some(task) = self.write_row(query, remember).await? {
            return Ok(Written::Done(task));
        }
        match self.task(user_id, id).await? {
            Some(t) if t.value.recurrence.is_some() => {
                self.rewrite(user_id, id, Change::Toggle, now, expected, remember).await
            }
            current => Ok(miss(current.map(|t| t.version), expected)),
        }
    }

    async fn delete_task(
        &self,
        user_id: &str,
        id: Uuid,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<()>> {
        let mut tx = self.write_tx().await?;
        let Some(seq) = next_change(&mut tx, user_id).await? else {
            return Ok(Written::NotFound);
        };
        let id_text = id.hyphenated().to_string();
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT 1 FROM tasks WHERE id = ");
        qb.push_bind(id_text.clone())
            .push(" AND user_id = ")
            .push_bind(user_id.to_owned());
        push_expected(&mut qb, expected);
        let found: Option<i64> = qb.build_query_scalar().fetch_optional(&mut *tx).await?;
        if found.is_none() {
            drop(tx);
            return Ok(miss(self.task(user_id, id).await?.map(|t| t.version), expected));
        }
        // The task and its subtasks go, each with a tombstone.
        let gone: Vec<String> = sqlx::query_scalar(DELETE_WITH_SUBTASKS)
            .bind(user_id)
            .bind(&id_text)
            .fetch_all(&mut *tx)
            .await?;
        for gone_id in &gone {
            sqlx::query("INSERT INTO deletions (user_id, change_seq, kind, id, deleted_at) VALUES (?1, ?2, 1, ?3, ?4)")
                .bind(user_id)
                .bind(seq)
                .bind(gone_id)
                .bind(now.as_micros())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Written::Done(()))
    }
}

impl SqliteStore {
    async fn rewrite(
        &self,
        user_id: &str,
        id: Uuid,
        change: Change<'_>,
        now: Timestamp,
        expected: Option<Expected<'_>>,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Written<Versioned<Task>>> {
        let tx = SqliteTx(self.write_tx().await?);
        task_write::rewrite(tx, user_id, id, change, now, expected, remember).await
    }
}
