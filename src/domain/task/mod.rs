//! Tasks: the object, the bodies that create and change one, and the list query.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::body::{self, bounded, trimmed, Fields, ParseResult, Patch};
use super::recurrence::{Next, Recurrence};
use super::tag::tag_list;
use super::Timestamp;
use crate::error::{ApiError, FieldError};

mod query;
pub use query::{query_limit, ParentFilter, Sort, SortKey, TaskQuery, TotalBy};

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
    /// Sorted ignoring case.
    #[schema(example = json!(["errands", "Home"]))]
    pub tags: Vec<String>,
    /// The task this one is a subtask of (one level only).
    pub parent_id: Option<Uuid>,
    pub recurrence: Option<Recurrence>,
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

fn needs_due_date() -> FieldError {
    FieldError::new(
        &["body", "recurrence"],
        "A recurring task needs a due date",
        "value_error",
    )
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
    pub tags: Vec<String>,
    pub parent_id: Option<Uuid>,
    pub recurrence: Option<Recurrence>,
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
        let tags = f.optional("tags", tag_list).unwrap_or_default();
        let parent_id = f.patch("parent_id", body::uuid).into_change().flatten();
        let recurrence = f.nested("recurrence", Recurrence::parse).into_change().flatten();
        if recurrence.is_some() && due_date.is_none() && f.is_clean() {
            f.push(needs_due_date());
        }
        let task = title.map(|title| Self {
            title,
            description,
            priority,
            due_date,
            category_id,
            completed,
            tags,
            parent_id,
            recurrence,
        });
        f.finish(task)
    }

    /// Whether storing it needs more than the task's own row.
    pub fn is_plain(&self) -> bool {
        self.tags.is_empty() && self.parent_id.is_none()
    }

    /// The task as it is created at `now`, with id `id`; tags not yet in their stored spelling.
    pub fn into_task(&self, id: Uuid, user_id: &str, now: Timestamp) -> Task {
        Task {
            id,
            user_id: user_id.to_owned(),
            title: self.title.clone(),
            description: self.description.clone(),
            completed: self.completed,
            priority: self.priority,
            due_date: self.due_date,
            category_id: self.category_id,
            completed_at: self.completed.then_some(now),
            created_at: now,
            updated_at: now,
            tags: self.tags.clone(),
            parent_id: self.parent_id,
            recurrence: self.recurrence.clone(),
        }
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
    pub tags: Option<Vec<String>>,
    pub parent_id: Patch<Uuid>,
    pub recurrence: Patch<Recurrence>,
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
            tags: f.optional("tags", tag_list),
            parent_id: f.patch("parent_id", body::uuid),
            recurrence: f.nested("recurrence", Recurrence::parse),
        };
        f.finish(Some(changes))
    }

    /// The toggle, as a change: the opposite of what the task is.
    pub fn toggle(current: &Task) -> Self {
        Self {
            completed: Some(!current.completed),
            ..Self::default()
        }
    }

    /// Whether the change can break a rule that only the stored state can check (tags take their
    /// stored spelling, a parent must exist, a recurring task keeps a due date and recurs when
    /// completed). Other changes are written by one plain statement.
    pub fn needs_current_state(&self) -> bool {
        self.tags.is_some() || !self.parent_id.is_absent() || !self.recurrence.is_absent()
    }

    /// Changes that are plain unless the task recurs.
    pub fn touches_recurrence(&self) -> bool {
        !self.due_date.is_absent() || self.completed == Some(true)
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_absent()
            && self.priority.is_none()
            && self.due_date.is_absent()
            && self.category_id.is_absent()
            && self.completed.is_none()
            && self.tags.is_none()
            && self.parent_id.is_absent()
            && self.recurrence.is_absent()
    }

    /// The task as these changes leave it at `now`, before the checks that need the database
    /// (category, parent) and before tags take their stored spelling.
    ///
    /// Completing a recurring task that has a next occurrence moves its due date instead (§10).
    pub fn apply(&self, current: &Task, now: Timestamp) -> Result<Task, FieldError> {
        let mut t = current.clone();
        if let Some(title) = &self.title {
            t.title.clone_from(title);
        }
        if let Some(description) = self.description.clone().into_change() {
            t.description = description;
        }
        if let Some(priority) = self.priority {
            t.priority = priority;
        }
        if let Some(due) = self.due_date.clone().into_change() {
            t.due_date = due;
        }
        if let Some(category) = self.category_id.clone().into_change() {
            t.category_id = category;
        }
        if let Some(tags) = &self.tags {
            t.tags.clone_from(tags);
        }
        if let Some(parent) = self.parent_id.clone().into_change() {
            t.parent_id = parent;
        }
        if let Some(recurrence) = self.recurrence.clone().into_change() {
            t.recurrence = recurrence;
        }
        if t.recurrence.is_some() && t.due_date.is_none() {
            return Err(needs_due_date());
        }
        if t.parent_id == Some(t.id) {
            return Err(parent_error(ParentProblem::Itself));
        }
        match self.completed {
            Some(true) if !current.completed => complete(&mut t, now),
            Some(true) => {}
            Some(false) => {
                t.completed = false;
                t.completed_at = None;
            }
            None => {}
        }
        t.updated_at = now;
        Ok(t)
    }
}

/// Completes `t`, or, when it recurs and has a next occurrence, moves it there and leaves it open.
fn complete(t: &mut Task, now: Timestamp) {
    if let (Some(recurrence), Some(due)) = (&t.recurrence, t.due_date) {
        if let Next::Moved { due, recurrence } = recurrence.next(due, now) {
            t.due_date = Some(due);
            t.recurrence = Some(recurrence);
            t.completed = false;
            t.completed_at = None;
            return;
        }
    }
    t.completed = true;
    t.completed_at = Some(now);
}

/// Why a `parent_id` cannot be: the §10 cases, all `422 ["body","parent_id"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentProblem {
    Unknown,
    Itself,
    ParentIsSubtask,
    HasSubtasks,
}

pub fn parent_error(problem: ParentProblem) -> FieldError {
    let msg = match problem {
        ParentProblem::Unknown => "Parent task not found",
        ParentProblem::Itself => "A task cannot be its own parent",
        ParentProblem::ParentIsSubtask => "The parent is itself a subtask; subtasks have one level",
        ParentProblem::HasSubtasks => "A task with subtasks cannot become a subtask",
    };
    FieldError::body("parent_id", msg, "value_error")
}

/// Checks a new parent against what the database holds: `parent` is the parent's own
/// `parent_id` (`None` if no such task of the owner's), `has_subtasks` whether the task being
/// changed has subtasks.
pub fn check_parent(parent: Option<Option<Uuid>>, has_subtasks: bool) -> Result<(), ParentProblem> {
    match parent {
        None => Err(ParentProblem::Unknown),
        Some(Some(_)) => Err(ParentProblem::ParentIsSubtask),
        Some(None) if has_subtasks => Err(ParentProblem::HasSubtasks),
        Some(None) => Ok(()),
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
}
