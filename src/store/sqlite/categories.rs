//! Categories on SQLite; writes take the owner's next change number as tasks do.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::sync::save_answer;
use super::{category_columns, next_change, push_expected, CategoryRow, SqliteStore};
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

/// The tasks of the owner (`?1`) in category `?2` leave it (found through `tasks_category_idx`,
/// see the store's plan test).
pub(super) const UNSET_CATEGORY: &str = "UPDATE tasks SET category_id = NULL, updated_at = ?3, change_seq = ?4 \
     WHERE user_id = ?1 AND category_id = ?2";

#[async_trait]
impl CategoryStore for SqliteStore {
    async fn create_category(
        &self,
        user_id: &str,
        c: &NewCategory,
        now: Timestamp,
        remember: Option<Remember<'_, Versioned<Category>>>,
    ) -> StoreResult<Versioned<Category>> {
        let mut tx = self.write_tx().await?;
        let seq = next_change(&mut tx, user_id)
            .await?
            .ok_or_else(|| StoreError::Other("category owner vanished".into()))?;
        let sql = concat!(
            "INSERT INTO categories (id, user_id, name, name_key, color, created_at, updated_at, change_seq) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) RETURNING ",
            category_columns!()
        );
        let row: CategoryRow = sqlx::query_as(sql)
            .bind(Uuid::now_v7().hyphenated().to_string())
            .bind(user_id)
            .bind(&c.name)
            .bind(name_key(&c.name))
            .bind(&c.color)
            .bind(now.as_micros())
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
        let category = Versioned::try_from(row)?;
        if let Some(remember) = remember {
            save_answer(&mut tx, remember.claim, &(remember.render)(&category)).await?;
        }
        tx.commit().await?;
        Ok(category)
    }

    async fn category(&self, user_id: &str, id: Uuid) -> StoreResult<Option<Versioned<Category>>> {
        let sql = concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE id = ?1 AND user_id = ?2"
        );
        let row: Option<CategoryRow> = sqlx::query_as(sql)
            .bind(id.hyphenated().to_string())
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_categories(&self, user_id: &str) -> StoreResult<(Vec<Category>, i64)> {
        let sql = concat!(
            "SELECT ",
            category_columns!(),
            ", (SELECT change_seq FROM users WHERE id = ?1) AS head FROM categories WHERE user_id = ?1 ORDER BY name_key, id"
        );
        let rows: Vec<ListedCategoryRow> = sqlx::query_as(sql).bind(user_id).fetch_all(&self.pool).await?;
        let head = match rows.first() {
            Some(r) => r.head,
            None => self.latest_change(user_id).await?,
        };
        let categories = rows
            .into_iter()
            .map(|r| Category::try_from(r.category))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((categories, head))
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
        let mut tx = self.write_tx().await?;
        let Some(seq) = next_change(&mut tx, user_id).await? else {
            return Ok(Written::NotFound);
        };
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE categories SET change_seq = ");
        qb.push_bind(seq).push(", updated_at = ").push_bind(now.as_micros());
        if let Some(name) = &c.name {
            qb.push(", name = ")
                .push_bind(name.clone())
                .push(", name_key = ")
                .push_bind(name_key(name));
        }
        if let Some(color) = &c.color {
            qb.push(", color = ").push_bind(color.clone());
        }
        qb.push(" WHERE id = ")
            .push_bind(id.hyphenated().to_string())
            .push(" AND user_id = ")
            .push_bind(user_id.to_owned());
        push_expected(&mut qb, expected);
        qb.push(" RETURNING ").push(category_columns!());
        let row: Option<CategoryRow> = qb.build_query_as().fetch_optional(&mut *tx).await?;
        match row {
            Some(row) => {
                let category = Versioned::try_from(row)?;
                tx.commit().await?;
                Ok(Written::Done(category))
            }
            None => {
                drop(tx);
                Ok(miss(self.category(user_id, id).await?.map(|c| c.version), expected))
            }
        }
    }

    async fn delete_category(
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
        // Its tasks lose it first and count as changed, with the same change number; the foreign
        // key's own SET NULL then finds nothing left to do. A refused delete rolls this back.
        sqlx::query(UNSET_CATEGORY)
            .bind(user_id)
            .bind(&id_text)
            .bind(now.as_micros())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM categories WHERE id = ");
        qb.push_bind(id_text.clone())
            .push(" AND user_id = ")
            .push_bind(user_id.to_owned());
        push_expected(&mut qb, expected);
        let done = qb.build().execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            drop(tx);
            return Ok(miss(self.category(user_id, id).await?.map(|c| c.version), expected));
        }
        sqlx::query("INSERT INTO deletions (user_id, change_seq, kind, id, deleted_at) VALUES (?1, ?2, 0, ?3, ?4)")
            .bind(user_id)
            .bind(seq)
            .bind(&id_text)
            .bind(now.as_micros())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Written::Done(()))
    }
}
