//! Tasks on PostgreSQL.
//!
//! A plain write is one statement that starts by taking the owner's next change number
//! (`WITH seq AS (UPDATE users …)`): the users row is locked first, always, so writers of one user
//! queue on it and never deadlock on each other's task rows. Writes that must read the stored
//! state first (tags, parents, recurrence, a deletion that takes subtasks along) take the number
//! in a statement of their own at the start of a transaction, then read afresh
//! ([`task_write`]).

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::sync::fetch_remembering;
use super::task_tx::PgTx;
use super::{
    expected_versions, locked_change, push_task_filters, task_columns, task_select, CountedTaskRow, PgStore, TaskRow,
};
use crate::domain::body::Patch;
use crate::domain::task::{NewTask, Task, TaskChanges, TaskQuery};
use crate::domain::Timestamp;
use crate::store::task_write::{self, Change};
use crate::store::{
    miss, push_list_total, recurrence_columns, unchanged, Expected, Remember, StoreError, StoreResult, SyncStore,
    TaskStore, Versioned, Written,
};

/// The first part of every write: the owner's next change number, as `seq.next_seq`.
macro_rules! next_change {
    () => {
        "WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = $2 RETURNING change_seq AS next_seq) "
    };
}
pub(super) use next_change;

#[async_trait]
impl TaskStore for PgStore {
    async fn create_task(
        &self,
        user_id: &str,
        t: &NewTask,
        now: Timestamp,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Versioned<Task>> {
        if !t.is_plain() {
            let tx = PgTx(self.pool.begin().await?);
            return task_write::create(tx, user_id, t, now, remember).await;
        }
        // The category check rides in the same statement: no row comes back when the category is
        // not the owner's.
        let sql = concat!(
            next_change!(),
            "INSERT INTO tasks (",
            task_columns!(),
            ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $5 THEN $9 END, $9, $9, seq.next_seq, NULL, $10, $11, $12 \
             FROM seq WHERE $8::uuid IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = $8 AND user_id = $2) RETURNING ",
            task_select!()
        );
        let (rule, basis, timezone) = recurrence_columns(t.recurrence.as_ref());
        let query = sqlx::query_as::<_, TaskRow>(sql)
            .bind(Uuid::now_v7())
            .bind(user_id)
            .bind(&t.title)
            .bind(&t.description)
            .bind(t.completed)
            .bind(t.priority.rank())
            .bind(t.due_date.map(Timestamp::as_datetime))
            .bind(t.category_id)
            .bind(now.as_datetime())
            .bind(rule)
            .bind(basis)
            .bind(timezone);
        let row = fetch_remembering(&self.pool, query, remember).await?;
        row.ok_or(StoreError::UnknownCategory)
    }

    async fn task(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Task>>> {
        let sql = concat!("SELECT ", task_select!(), " FROM tasks WHERE id = $1 AND user_id = $2");
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn list_tasks(&self, user_id: &str, query: &TaskQuery) -> StoreResult<(Vec<Task>, i64, i64)> {
        // The page, its total and the owner's latest change in one statement: one snapshot, so
        // the total is exact for the page it comes with ([`TotalBy`] says where it is read).
        let mut qb = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            task_select!(),
            ", (SELECT change_seq FROM users WHERE id = "
        ));
        qb.push_bind(user_id.to_owned()).push(") AS head, ");
        push_list_total(&mut qb, user_id, query, true, push_task_filters);
        qb.push(" AS total FROM tasks");
        push_task_filters(&mut qb, user_id, query);
        qb.push(" ORDER BY ").push(query.sort.order_by());
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
                    let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
                    push_list_total(&mut qb, user_id, query, false, push_task_filters);
                    qb.build_query_scalar().fetch_one(&self.pool).await?
                } else {
                    0
                };
                (total, head)
            }
        };
        Ok((rows.into_iter().map(|r| r.task.into()).collect(), total, head))
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
        let mut qb =
            QueryBuilder::<Postgres>::new("WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = ");
        qb.push_bind(user_id.to_owned())
            .push(" RETURNING change_seq AS next_seq) UPDATE tasks SET change_seq = seq.next_seq, updated_at = ");
        qb.push_bind(now.as_datetime());
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
            qb.push(", due_date = ").push_bind(due.map(Timestamp::as_datetime));
        }
        if let Some(category) = c.category_id.clone().into_change() {
            qb.push(", category_id = ").push_bind(category);
        }
        if let Some(completed) = c.completed {
            qb.push(", completed = ").push_bind(completed);
            qb.push(", completed_at = CASE WHEN ").push_bind(completed);
            qb.push(" THEN coalesce(completed_at, ")
                .push_bind(now.as_datetime())
                .push(") END");
        }
        qb.push(" FROM seq WHERE id = ")
            .push_bind(id)
            .push(" AND user_id = ")
            .push_bind(user_id.to_owned());
        if let Some(versions) = expected_versions(expected) {
            qb.push(" AND change_seq = ANY(").push_bind(versions).push(")");
        }
        if let Patch::Value(category) = c.category_id {
            qb.push(" AND EXISTS (SELECT 1 FROM categories WHERE id = ")
                .push_bind(category);
            qb.push(" AND user_id = ").push_bind(user_id.to_owned()).push(")");
        }
        if c.touches_recurrence() {
            // A recurring task completed or given another due date follows §10's rules.
            qb.push(" AND recurrence_rule IS NULL");
        }
        qb.push(" RETURNING ").push(task_select!());
        let row: Option<TaskRow> = qb.build_query_as().fetch_optional(&self.pool).await?;
        if let Some(row) = row {
            return Ok(Written::Done(row.into()));
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
        let sql = concat!(
            next_change!(),
            "UPDATE tasks SET completed = NOT completed, completed_at = CASE WHEN completed THEN NULL ELSE $3 END, \
             updated_at = $3, change_seq = seq.next_seq FROM seq \
             WHERE id = $1 AND user_id = $2 AND ($4::bigint[] IS NULL OR change_seq = ANY($4)) \
             AND recurrence_rule IS NULL RETURNING ",
            task_select!()
        );
        let query = sqlx::query_as::<_, TaskRow>(sql)
            .bind(id)
            .bind(user_id)
            .bind(now.as_datetime())
            .bind(expected_versions(expected));
        let row = fetch_remembering(&self.pool, query, remember).await?;
        if let Some(task) = row {
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
        // The change number first, in a statement of its own, so that the deletion reads every
        // subtask committed before it. The task and its subtasks go, each with a tombstone.
        let Some((mut tx, seq)) = locked_change(&self.pool, user_id).await? else {
            return Ok(Written::NotFound);
        };
        let sql = "WITH gone AS (DELETE FROM tasks WHERE user_id = $2 AND (id = $1 OR parent_id = $1) \
                   AND ($4::bigint[] IS NULL OR (SELECT change_seq FROM tasks WHERE id = $1 AND user_id = $2) = ANY($4)) \
                   RETURNING id) \
                   INSERT INTO deletions (user_id, change_seq, kind, id, deleted_at) SELECT $2, $5, 1, id, $3 FROM gone";
        let done = sqlx::query(sql)
            .bind(id)
            .bind(user_id)
            .bind(now.as_datetime())
            .bind(expected_versions(expected))
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            tx.commit().await?;
            return Ok(Written::Done(()));
        }
        drop(tx);
        Ok(miss(self.task(user_id, id).await?.map(|t| t.version), expected))
    }
}

impl PgStore {
    async fn rewrite(
        &self,
        user_id: &str,
        id: Uuid,
        change: Change<'_>,
        now: Timestamp,
        expected: Option<Expected<'_>>,
        remember: Option<Remember<'_, Versioned<Task>>>,
    ) -> StoreResult<Written<Versioned<Task>>> {
        let tx = PgTx(self.pool.begin().await?);
        task_write::rewrite(tx, user_id, id, change, now, expected, remember).await
    }
}
