//! The list query of `GET /api/{user_id}/tasks`: filters, sort and paging, validated.

use uuid::Uuid;

use super::{Priority, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX};
use crate::domain::tag::{tag_key, tag_name};
use crate::domain::Timestamp;
use crate::error::{ApiError, FieldError};

/// More `tag` filters than a task can carry tags could never match.
const MAX_TAG_FILTERS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    CreatedAt,
    UpdatedAt,
    DueDate,
    Priority,
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self {
            key: SortKey::CreatedAt,
            descending: true,
        }
    }
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let key = match name {
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            "due_date" => SortKey::DueDate,
            "priority" => SortKey::Priority,
            "title" => SortKey::Title,
            _ => return None,
        };
        Some(Self { key, descending })
    }

    /// The `ORDER BY` clause, identical on both backends. Ties are broken by id in the same
    /// direction, so the order is total and paging never repeats or skips a task.
    pub fn order_by(self) -> &'static str {
        use SortKey::*;
        match (self.key, self.descending) {
            (CreatedAt, false) => "created_at ASC, id ASC",
            (CreatedAt, true) => "created_at DESC, id DESC",
            (UpdatedAt, false) => "updated_at ASC, id ASC",
            (UpdatedAt, true) => "updated_at DESC, id DESC",
            (DueDate, false) => "due_date ASC NULLS LAST, id ASC",
            (DueDate, true) => "due_date DESC NULLS LAST, id DESC",
            (Priority, false) => "priority ASC, id ASC",
            (Priority, true) => "priority DESC, id DESC",
            (Title, false) => "lower(title) ASC, id ASC",
            (Title, true) => "lower(title) DESC, id DESC",
        }
    }

    /// [`Self::order_by`] for SQLite, whose indexes cannot say `NULLS LAST`: the due date orders
    /// put `due_date IS NULL` first, which an expression index serves (same order).
    pub fn sqlite_order_by(self) -> &'static str {
        match (self.key, self.descending) {
            (SortKey::DueDate, false) => "due_date IS NULL, due_date ASC, id ASC",
            (SortKey::DueDate, true) => "due_date IS NULL, due_date DESC, id DESC",
            _ => self.order_by(),
        }
    }
}

/// Where a list's `X-Total-Count` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalBy {
    /// The per-user counters (`task_counts`, kept by triggers): the only filters are `completed`
    /// and `parent_id=null`, which they are kept by.
    Counters,
    /// `count(*) OVER ()` beside the page: a search reads every candidate row anyway, so the page
    /// and the count are one pass instead of two.
    Window,
    /// A `count(*)` of its own: the other filters are selective and index-served, while the page
    /// stops after `limit` rows read in index order.
    Count,
}

/// The `parent_id` list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentFilter {
    /// Every task, subtasks included.
    Any,
    /// `parent_id=null`: top-level tasks only.
    TopLevel,
    /// The subtasks of this task.
    Of(Uuid),
}

/// `GET /api/{user_id}/tasks` query parameters, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub completed: Option<bool>,
    pub priority: Option<Priority>,
    pub category_id: Option<Uuid>,
    /// Lower-cased search text, matched literally.
    pub q: Option<String>,
    pub due_before: Option<Timestamp>,
    pub due_after: Option<Timestamp>,
    /// Keys of the tags every task must carry (`tag`, repeatable).
    pub tags: Vec<String>,
    pub parent: ParentFilter,
    pub sort: Sort,
    pub limit: i64,
    pub offset: i64,
}

impl Default for TaskQuery {
    fn default() -> Self {
        Self {
            completed: None,
            priority: None,
            category_id: None,
            q: None,
            due_before: None,
            due_after: None,
            tags: Vec::new(),
            parent: ParentFilter::Any,
            sort: Sort::default(),
            limit: LIST_LIMIT_DEFAULT,
            offset: 0,
        }
    }
}

impl TaskQuery {
    /// See [`TotalBy`].
    pub fn total_by(&self) -> TotalBy {
        if self.q.is_some() {
            TotalBy::Window
        } else if self.priority.is_none()
            && self.category_id.is_none()
            && self.due_before.is_none()
            && self.due_after.is_none()
            && self.tags.is_empty()
            && !matches!(self.parent, ParentFilter::Of(_))
        {
            TotalBy::Counters
        } else {
            TotalBy::Count
        }
    }

    /// Parses a raw query string; unknown parameters are ignored, the first of repeated ones wins
    /// (but `tag`, where each one counts).
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut query = Self::default();
        let mut errors = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if name == "tag" {
                match tag_name(&value) {
                    Ok(tag) if query.tags.len() < MAX_TAG_FILTERS => query.tags.push(tag_key(&tag)),
                    Ok(_) => errors.push(FieldError::query("tag", "At most 20 tag filters", "too_long")),
                    Err(msg) => errors.push(FieldError::query("tag", msg, "value_error")),
                }
                continue;
            }
            if seen.iter().any(|s| *s == name) {
                continue;
            }
            seen.push(name.to_string());
            let value = value.as_ref();
            let result: Result<(), FieldError> = match name.as_ref() {
                "completed" => parse_bool(value)
                    .map(|b| query.completed = Some(b))
                    .ok_or_else(|| FieldError::query("completed", "Input should be a valid boolean", "bool_parsing")),
                "priority" => Priority::parse(value)
                    .map(|p| query.priority = Some(p))
                    .ok_or_else(|| FieldError::query("priority", "Input should be 'low', 'medium' or 'high'", "enum")),
                "category_id" => Uuid::try_parse(value)
                    .map(|id| query.category_id = Some(id))
                    .map_err(|_| FieldError::query("category_id", "Input should be a valid UUID", "uuid_parsing")),
                "q" if value.contains('\0') => {
                    Err(FieldError::query("q", "String should not contain NUL characters", "string_pattern_mismatch"))
                }
                "q" => {
                    query.q = (!value.is_empty()).then(|| value.to_lowercase());
                    Ok(())
                }
                "due_before" => query_timestamp(value).map(|t| query.due_before = Some(t)).ok_or_else(|| {
                    FieldError::query("due_before", "Input should be an RFC 3339 date-time with a time zone offset", "datetime_parsing")
                }),
                "due_after" => query_timestamp(value).map(|t| query.due_after = Some(t)).ok_or_else(|| {
                    FieldError::query("due_after", "Input should be an RFC 3339 date-time with a time zone offset", "datetime_parsing")
                }),
                "sort" => Sort::parse(value).map(|s| query.sort = s).ok_or_else(|| {
                    FieldError::query(
                        "sort",
                        "Input should be one of created_at, updated_at, due_date, priority, title, optionally prefixed with -",
                        "enum",
                    )
                }),
                "parent_id" if value == "null" => {
                    query.parent = ParentFilter::TopLevel;
                    Ok(())
                }
                "parent_id" => Uuid::try_parse(value).map(|id| query.parent = ParentFilter::Of(id)).map_err(|_| {
                    FieldError::query("parent_id", "Input should be a valid UUID or null", "uuid_parsing")
                }),
                "limit" => query_limit(value).map(|n| query.limit = n),
                "offset" => match value.parse::<i64>() {
                    Ok(n) if n >= 0 => {
                        query.offset = n;
                        Ok(())
                    }
                    Ok(_) => Err(FieldError::query("offset", "Input should be greater than or equal to 0", "greater_than_equal")),
                    Err(_) => Err(FieldError::query("offset", "Input should be a valid integer", "int_parsing")),
                },
                _ => Ok(()),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// A `limit` query parameter: 1..=1000.
pub fn query_limit(value: &str) -> Result<i64, FieldError> {
    match value.parse::<i64>() {
        Ok(n) if (1..=LIST_LIMIT_MAX).contains(&n) => Ok(n),
        Ok(n) if n < 1 => Err(FieldError::query(
            "limit",
            "Input should be greater than or equal to 1",
            "greater_than_equal",
        )),
        Ok(_) => Err(FieldError::query(
            "limit",
            "Input should be less than or equal to 1000",
            "less_than_equal",
        )),
        Err(_) => Err(FieldError::query(
            "limit",
            "Input should be a valid integer",
            "int_parsing",
        )),
    }
}

/// An RFC 3339 date-time in a query string. A `+` offset sent unencoded arrives as a space; it is
/// read back as the `+` it was.
fn query_timestamp(value: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(value).or_else(|| match value.rfind(' ') {
        Some(i) if i >= 19 => Timestamp::parse_rfc3339(&format!("{}+{}", &value[..i], &value[i + 1..])),
        _ => None,
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = TaskQuery::parse(Some(
            "completed=true&priority=high&q=50%25_off&sort=-due_date&limit=7&offset=14&unknown=1",
        ))
        .unwrap();
        assert_eq!(q.completed, Some(true));
        assert_eq!(q.priority, Some(Priority::High));
        assert_eq!(q.q.as_deref(), Some("50%_off"));
        assert_eq!(
            q.sort,
            Sort {
                key: SortKey::DueDate,
                descending: true
            }
        );
        assert_eq!((q.limit, q.offset), (7, 14));
        let q = TaskQuery::parse(Some("due_before=2026-01-01T10:00:00+02:00")).unwrap();
        assert_eq!(q.due_before.unwrap().to_string(), "2026-01-01T08:00:00.000000Z");
        assert!(TaskQuery::parse(Some("q=a%00b")).is_err());
        let q = TaskQuery::parse(Some("tag=Work&tag=%20home%20&parent_id=null")).unwrap();
        assert_eq!(
            (q.tags.as_slice(), q.parent),
            (&["work".to_owned(), "home".to_owned()][..], ParentFilter::TopLevel)
        );
        let id = Uuid::now_v7();
        assert_eq!(
            TaskQuery::parse(Some(&format!("parent_id={id}"))).unwrap().parent,
            ParentFilter::Of(id)
        );
        for (bad, name) in [
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("offset=-1", "offset"),
            ("sort=name", "sort"),
            ("completed=maybe", "completed"),
            ("due_before=2026-01-01", "due_before"),
            ("category_id=1", "category_id"),
            ("parent_id=none", "parent_id"),
            ("tag=", "tag"),
            ("tag=a%2Cb", "tag"),
        ] {
            match TaskQuery::parse(Some(bad)) {
                Err(ApiError::Validation(errs)) => assert_eq!(errs[0].loc, ["query", name]),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
