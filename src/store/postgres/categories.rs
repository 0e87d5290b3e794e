//! Categories on PostgreSQL; writes take the owner's next change number as tasks do.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::sync::fetch_remembering;
use super::tasks::next_change;
use super::{category_columns, expected_versions, locked_change, CategoryRow, PgStore};
use crate::domain::category::{name_key, Category, CategoryChanges, NewCategory};
use crate::domain::Timestamp;
use crate::store::{
    miss, unchanged, CategoryStore, Expected, Remember, StoreError, StoreResult, SyncStore, Versioned, Written,
};

#[derive(sqlx::FromRow)]
struct ListedCategoryRow {
    #[sqlx(flatten)]
    category: CategoryRow,
    head: i64,
}

#[async_trait]
impl CategoryStore for PgStore {
    async fn create_category(
        &self,
        user_id: &str,
        c: &NewCategory,
        now: Timestamp,
        remember: Option<Remember<'_, Versioned<Category>>>,
    ) -> StoreResult<Versioned<Category>> {
        let sql = concat!(
            next_change!(),
            "INSERT INTO categories (id, user_id, name, name_key, color, created_at, updated_at, change_seq) \
             SELECT $1, $2, $3, $4, $5, $6, $6, seq.next_seq FROM seq RETURNING ",
            category_columns!()
        );
        let query = sqlx::query_as::<_, CategoryRow>(sql)
            .bind(Uuid::now_v7())
            .bind(user_id)
            .bind(&c.name)
            .bind(name_key(&c.name))
            .bind(&c.color)
            .bind(now.as_datetime());
        let row = fetch_remembering(&self.pool, query, remember).await?;
        row.ok_or_else(|| StoreError::Other("category owner vanished".into()))
    }

    async fn category(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Category>>> {
        let sql = concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE id = $1 AND user_id = $2"
        );
        let row: Option<CategoryRow> = sqlx::query_as(sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn list_categories(&self, user_id: &str) -> StoreResult<(Vec<Category>, i64)> {
        let sql = concat!(
            "SELECT ",
            category_columns!(),
            ", (SELECT change_seq FROM users WHERE id = $1) AS head FROM categories WHERE user_id = $1 ORDER BY name_key, id"
        );
        let rows: Vec<ListedCategoryRow> = sqlx::query_as(sql).bind(user_id).fetch_all(&self.pool).await?;
        let head = match rows.first() {
            Some(r) => r.head,
            None => self.latest_change(user_id).await?,
        };
        Ok((rows.into_iter().map(|r| r.category.into()).collect(), head))
    }

    async fn update_category(
        &self,
        user_id: &str,
        id: Uuid,
        c: &CategoryChanges,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<Versioned<Category>>> {
        if c.is_empty() {
            return Ok(unchanged(self.category(user_id, id).await?, expected));
        }
        let mut qb =
            QueryBuilder::<Postgres>::new("WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = ");
        qb.push_bind(user_id.to_owned())
            .push(" RETURNING change_seq AS next_seq) UPDATE categories SET change_seq = seq.next_seq, updated_at = ");
        qb.push_bind(now.as_datetime());
        if let Some(name) = &c.name {
            qb.push(", name = ")
                .push_bind(name.clone())
                .push(", name_key = ")
                .push_bind(name_key(name));
        }
        if let Some(color) = &c.color {
            qb.push(", color = ").push_bind(color.clone());
        }
        qb.push(" FROM seq WHERE id = ")
            .push_bind(id)
            .push(" AND user_id = ")
            .push_bind(user_id.to_owned());
        if let Some(versions) = expected_versions(expected) {
            qb.push(" AND change_seq = ANY(").push_bind(versions).push(")");
        }
        qb.push(" RETURNING ").push(category_columns!());
        let row: Option<CategoryRow> = qb.build_query_as().fetch_optional(&self.pool).await?;
        match row {
            Some(row) => Ok(Written::Done(row.into())),
            None => Ok(miss(self.category(user_id, id).await?.map(|c| c.version), expected)),
        }
    }

    async fn delete_category(
        &self,
        user_id: &str,
        id: Uuid,
        now: Timestamp,
        expected: Option<Expected<'_>>,
    ) -> StoreResult<Written<()>> {
        // The change number first, in a statement of its own, so that the deletion reads every
        // task moved into the category before it. Then one statement: the category goes, its
        // tasks lose it and count as changed (same change number), and its tombstone is
        // written. The foreign key's own SET NULL then finds nothing left to do.
        let Some((mut tx, seq)) = locked_change(&self.pool, user_id).await? else {
            return Ok(Written::NotFound);
        };
        let sql = "WITH gone AS (DELETE FROM categories WHERE id = $1 AND user_id = $2 \
                   AND ($4::bigint[] IS NULL OR change_seq = ANY($4)) RETURNING id), \
                   moved AS (UPDATE tasks SET category_id = NULL, updated_at = $3, change_seq = $5 FROM gone \
                   WHERE tasks.user_id = $2 AND tasks.category_id = gone.id) \
                   INSERT INTO deletions (user_id, change_seq, kind, id, deleted_at) SELECT $2, $5, 0, id, $3 FROM gone";
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
        Ok(miss(self.category(user_id, id).await?.map(|c| c.version), expected))
    }
}
