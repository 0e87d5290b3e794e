//! Request bodies. Unknown fields are ignored; `id`, `user_id`, `created_at`, `updated_at` are
//! never honoured. No string may hold a NUL character (`^[^\u0000]*$`); a title or a name must also
//! have a character that is not white space (Rust's `char::is_whitespace`, which trimming uses).

use serde_json::json;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::task::Priority;

/// `POST /api/auth/signup`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}))]
pub struct SignupRequest {
    /// An email address: `local@domain` with a dot in the domain and no spaces or control
    /// characters (letters beyond ASCII are accepted); trimmed, stored lower-case, unique ignoring
    /// case. The pattern is the whole rule, which is looser than the `email` format's.
    #[schema(
        max_length = 254,
        pattern = "^[^@\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+@[^@.\\-\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^@.\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*(\\.[^@.\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+)+$"
    )]
    pub email: String,
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub password: String,
    /// Display name; trimmed, and blank is the same as none.
    #[schema(max_length = 100, pattern = "^[^\\u0000]*$")]
    pub name: Option<String>,
}

/// `POST /api/auth/login`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Trimmed and compared ignoring case; an address that is not registered (or not an address
    /// at all) is a 401 like a wrong password.
    #[schema(example = "ada@example.com", pattern = "^[^\\u0000]*$")]
    pub email: String,
    #[schema(format = Password, min_length = 1, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// `POST /api/auth/change-password`.
#[derive(ToSchema)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "staple battery horse"}))]
pub struct ChangePasswordRequest {
    /// Validated as a password (8 to 128 characters: shorter is a 422); a wrong one is a 403.
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub current_password: String,
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub new_password: String,
}

/// `DELETE /api/auth/me`: required for an account with a password; an account of an external
/// identity has none and sends no body.
#[derive(ToSchema)]
#[schema(example = json!({"password": "correct horse battery"}))]
pub struct DeleteAccountRequest {
    /// Validated as a password (8 to 128 characters: shorter is a 422); a wrong one is a 403.
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// `POST /api/{user_id}/tasks`.
#[derive(ToSchema)]
#[schema(example = json!({
    "title": "Buy groceries",
    "description": "Milk, eggs, bread",
    "priority": "high",
    "due_date": "2026-02-01T17:00:00Z",
    "completed": false
}))]
pub struct TaskCreate {
    /// Trimmed; 1 to 255 characters, not only white space.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    #[schema(max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, inline, default = "medium")]
    pub priority: Option<Priority>,
    /// RFC 3339 with an offset; stored in UTC to the microsecond (finer digits are dropped).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date: Option<String>,
    /// One of the caller's own categories; any other id is a 422 at `["body", "category_id"]`.
    pub category_id: Option<Uuid>,
    #[schema(nullable = false, default = false)]
    pub completed: Option<bool>,
    /// 0 to 20 tags, each at most 50 characters as sent, trimmed, not blank, without commas or
    /// control characters; one per name ignoring case, spelled as the caller first spelled it.
    /// `[]` clears; `null` is a 422.
    #[schema(nullable = false, max_items = 20)]
    pub tags: Option<Vec<TagName>>,
    /// Makes this a subtask of another of the caller's top-level tasks (one level only).
    pub parent_id: Option<Uuid>,
    /// Makes the task recur; it needs a `due_date`.
    #[schema(value_type = Option<RecurrenceInput>)]
    pub recurrence: Option<RecurrenceInput>,
}

/// `PUT /api/{user_id}/tasks/{id}`: `title` is required; any other field left out is unchanged,
/// and `null` clears a nullable one.
#[derive(ToSchema)]
#[schema(example = json!({"title": "Buy groceries", "description": null, "priority": "low", "completed": true}))]
pub struct TaskReplace {
    /// Trimmed; 1 to 255 characters, not only white space.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    #[schema(max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, inline)]
    pub priority: Option<Priority>,
    /// RFC 3339 with an offset; stored in UTC to the microsecond.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date: Option<String>,
    /// One of the caller's own categories; any other id is a 422 at `["body", "category_id"]`.
    pub category_id: Option<Uuid>,
    #[schema(nullable = false)]
    pub completed: Option<bool>,
    /// 0 to 20 tags, each at most 50 characters as sent, trimmed, not blank, without commas or
    /// control characters; one per name ignoring case, spelled as the caller first spelled it.
    /// `[]` clears; `null` is a 422.
    #[schema(nullable = false, max_items = 20)]
    pub tags: Option<Vec<TagName>>,
    /// Makes this a subtask of another of the caller's top-level tasks (one level only).
    pub parent_id: Option<Uuid>,
    /// Makes the task recur; it needs a `due_date`.
    #[schema(value_type = Option<RecurrenceInput>)]
    pub recurrence: Option<RecurrenceInput>,
}

/// `PATCH /api/{user_id}/tasks/{id}`: every field optional; one left out is unchanged, `null`
/// clears a nullable one. An empty object changes nothing, `updated_at` included.
#[derive(ToSchema)]
#[schema(example = json!({"completed": true}))]
pub struct TaskPatch {
    /// Trimmed; 1 to 255 characters, not only white space.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: Option<String>,
    #[schema(max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, inline)]
    pub priority: Option<Priority>,
    /// RFC 3339 with an offset; stored in UTC to the microsecond.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date: Option<String>,
    /// One of the caller's own categories; any other id is a 422 at `["body", "category_id"]`.
    pub category_id: Option<Uuid>,
    #[schema(nullable = false)]
    pub completed: Option<bool>,
    /// 0 to 20 tags, each at most 50 characters as sent, trimmed, not blank, without commas or
    /// control characters; one per name ignoring case, spelled as the caller first spelled it.
    /// `[]` clears; `null` is a 422.
    #[schema(nullable = false, max_items = 20)]
    pub tags: Option<Vec<TagName>>,
    /// Makes this a subtask of another of the caller's top-level tasks (one level only).
    pub parent_id: Option<Uuid>,
    /// Makes the task recur; it needs a `due_date`.
    #[schema(value_type = Option<RecurrenceInput>)]
    pub recurrence: Option<RecurrenceInput>,
}

/// A tag name's rule as a pattern: no commas, no control characters, not only white space.
const TAG_PATTERN: &str = "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^,\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^,\\u0000-\\u001f\\u007f-\\u009f]*$";

/// One tag name: at most 50 characters as sent, trimmed, not blank, without commas or control
/// characters.
pub struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(50))
            .pattern(Some(TAG_PATTERN))
            .examples([json!("errands")])
            .into()
    }
}

impl ToSchema for TagName {}

/// `recurrence` in a task body (§10). Completing the task moves its due date to the next
/// occurrence instead of completing it, while one is left.
#[derive(ToSchema)]
#[schema(example = json!({"rule": "FREQ=WEEKLY;BYDAY=MO,WE", "basis": "due", "timezone": "Europe/Berlin"}))]
pub struct RecurrenceInput {
    /// An RFC 5545 RRULE value (an `RRULE:` prefix is accepted): `FREQ` DAILY, WEEKLY, MONTHLY or
    /// YEARLY with any of `INTERVAL`, `COUNT`, `UNTIL`, `BYDAY` (ordinals such as `1MO`, `-1FR`
    /// with MONTHLY/YEARLY), `BYMONTHDAY` (`-1` is the last day), `BYMONTH`, `BYSETPOS`, `WKST`.
    /// Examples: `FREQ=DAILY`, `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR`, `FREQ=MONTHLY;BYMONTHDAY=-1`,
    /// `FREQ=MONTHLY;BYDAY=-1FR`, `FREQ=YEARLY;COUNT=5`, `FREQ=DAILY;INTERVAL=3`. Stored upper
    /// case without the prefix; `UNTIL` is kept in UTC (a bare date means the end of that day in
    /// `timezone`); `COUNT` is the occurrences left and goes down by one each time the task moves.
    #[schema(pattern = "^[^\\u0000]*$", example = "FREQ=WEEKLY;BYDAY=MO,WE")]
    pub rule: String,
    /// `due` (default): the next due date keeps the series' cadence from the current due date,
    /// skipping occurrences already past. `completion`: the series starts again on the day the
    /// task is completed.
    #[schema(nullable = false, inline, default = "due")]
    pub basis: Option<crate::domain::recurrence::Basis>,
    /// The IANA time zone whose wall-clock time occurrences keep across daylight-saving changes.
    #[schema(
        nullable = false,
        default = "UTC",
        example = "Europe/Berlin",
        pattern = "^[^\\u0000]*$"
    )]
    pub timezone: Option<String>,
}

/// `PUT /api/{user_id}/tags/{name}`.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Errands"}))]
pub struct TagRename {
    /// The new name; into a tag already in use, the two merge under that tag's spelling.
    #[schema(
        max_length = 50,
        pattern = "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^,\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^,\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
}

/// `POST /api/{user_id}/categories`.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Work", "color": "#3B82F6"}))]
pub struct CategoryCreate {
    /// Trimmed; 1 to 100 characters, not only white space; unique per user ignoring case.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// `#RRGGBB`.
    #[schema(
        nullable = false,
        min_length = 7,
        max_length = 7,
        pattern = "^#[0-9A-Fa-f]{6}$",
        default = "#3B82F6"
    )]
    pub color: Option<String>,
}

/// `PUT /api/{user_id}/categories/{id}`: `name` is required; `color` left out is unchanged.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Home", "color": "#10B981"}))]
pub struct CategoryReplace {
    /// Trimmed; 1 to 100 characters, not only white space; unique per user ignoring case.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// `#RRGGBB`.
    #[schema(nullable = false, min_length = 7, max_length = 7, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// `PATCH /api/{user_id}/categories/{id}`: each field left out is unchanged.
#[derive(ToSchema)]
#[schema(example = json!({"color": "#EF4444"}))]
pub struct CategoryPatch {
    /// Trimmed; 1 to 100 characters, not only white space; unique per user ignoring case.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: Option<String>,
    /// `#RRGGBB`.
    #[schema(nullable = false, min_length = 7, max_length = 7, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}
