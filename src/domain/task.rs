//! Tasks: the object, the bodies that create and change one, and the list query.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::body::{self, bounded, trimmed, Fields, ParseResult, Patch};
use super::Timestamp;
use crate::error::{ApiError, FieldError};

pub const TITLE_MAX: usize = 255;
pub const DESCRIPTION_MAX: usize = 2000;
pub const LIST_LIMIT_MAX: i64 = 1000;
pub const LIST_LIMIT_DEFAULT: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    /// Stored as a small integer so that sorting by rank is sorting by column.
    pub fn rank(self) -> i16 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }

    pub fn from_rank(rank: i16) -> Option<Self> {
        match rank {
            0 => Some(Self::Low),
            1 => Some(Self::Medium),
            2 => Some(Self::High),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub user_id: String,
    #[schema(example = "Buy groceries")]
    pub title: String,
    #[schema(example = "Milk, eggs, bread")]
    pub description: Option<String>,
    pub completed: bool,
    pub priority: Priority,
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-02-01T17:00:00.000000Z")]
    pub due_date: Option<Timestamp>,
    pub category_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime, example = "2026-01-29T10:00:00.123456Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime, example = "2026-01-29T10:00:00.123456Z")]
    pub updated_at: Timestamp,
}

fn title(v: &Value) -> ParseResult<String> {
    trimmed(v, 1, TITLE_MAX)
}

fn description(v: &Value) -> ParseResult<String> {
    bounded(v, DESCRIPTION_MAX)
}

fn priority(v: &Value) -> ParseResult<Priority> {
    Priority::parse(body::string(v)?).ok_or(("Input should be 'low', 'medium' or 'high'".into(), "enum"))
}

/// `POST /api/{user_id}/tasks`.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub due_date: Option<Timestamp>,
    pub category_id: Option<Uuid>,
    pub completed: bool,
}

impl NewTask {
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let title = f.required("title", title);
        let description = f.patch("description", description).into_change().flatten();
        let priority = f.optional("priority", priority).unwrap_or_default();
        let due_date = f.patch("due_date", body::timestamp).into_change().flatten();
        let category_id = f.patch("category_id", body::uuid).into_change().flatten();
        let completed = f.optional("completed", body::boolean).unwrap_or(false);
        let task = title.map(|title| Self {
            title,
            description,
            priority,
            due_date,
            category_id,
            completed,
        });
        f.finish(task)
    }
}

/// `PUT`/`PATCH`: each field left out is unchanged; `null` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Patch<String>,
    pub priority: Option<Priority>,
    pub due_date: Patch<Timestamp>,
    pub category_id: Patch<Uuid>,
    pub completed: Option<bool>,
}

impl TaskChanges {
    /// `require_title` is PUT's rule.
    pub fn parse(body: &Value, require_title: bool) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let title = if require_title {
            f.required("title", title)
        } else {
            f.optional("title", title)
        };
        let changes = Self {
            title,
            description: f.patch("description", description),
            priority: f.optional("priority", priority),
            due_date: f.patch("due_date", body::timestamp),
            category_id: f.patch("category_id", body::uuid),
            completed: f.optional("completed", body::boolean),
        };
        f.finish(Some(changes))
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_absent()
            && self.priority.is_none()
            && self.due_date.is_absent()
            && self.category_id.is_absent()
            && self.completed.is_none()
    }
}

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
            sort: Sort::default(),
            limit: LIST_LIMIT_DEFAULT,
            offset: 0,
        }
    }
}

impl TaskQuery {
    /// Parses a raw query string; unknown parameters are ignored, the first of repeated ones wins.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut query = Self::default();
        let mut errors = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
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
    use serde_json::json;

    #[test]
    fn new_task_defaults_and_bounds() {
        let t = NewTask::parse(&json!({"title": "  Buy milk  "})).unwrap();
        assert_eq!(
            (t.title.as_str(), t.priority, t.completed),
            ("Buy milk", Priority::Medium, false)
        );
        assert!(NewTask::parse(&json!({"title": "x".repeat(255)})).is_ok());
        assert!(
            NewTask::parse(&json!({"title": format!("{} ", "x".repeat(255))})).is_err(),
            "the bound is on what is sent"
        );
        for bad in [
            json!({}),
            json!({"title": "   "}),
            json!({"title": "x".repeat(256)}),
            json!({"title": null}),
            json!({"title": 5}),
            json!([]),
        ] {
            assert!(matches!(NewTask::parse(&bad), Err(ApiError::Validation(_))), "{bad}");
        }
        match NewTask::parse(&json!({"title": "", "priority": "urgent", "due_date": "soon"})) {
            Err(ApiError::Validation(errs)) => {
                let locs: Vec<_> = errs.iter().map(|e| e.loc[1].to_string()).collect();
                assert_eq!(locs, ["title", "priority", "due_date"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn changes_tell_null_from_absent() {
        let c = TaskChanges::parse(&json!({"description": null}), false).unwrap();
        assert_eq!(c.description, Patch::Null);
        assert!(c.due_date.is_absent() && !c.is_empty());
        assert!(TaskChanges::parse(&json!({}), false).unwrap().is_empty());
        assert!(TaskChanges::parse(&json!({}), true).is_err());
        assert!(TaskChanges::parse(&json!({"priority": null}), false).is_err());
        assert!(TaskChanges::parse(&json!({"completed": null}), false).is_err());
    }

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
        for (bad, name) in [
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("offset=-1", "offset"),
            ("sort=name", "sort"),
            ("completed=maybe", "completed"),
            ("due_before=2026-01-01", "due_before"),
            ("category_id=1", "category_id"),
        ] {
            match TaskQuery::parse(Some(bad)) {
                Err(ApiError::Validation(errs)) => assert_eq!(errs[0].loc, ["query", name]),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
