//! Path, query and header parameters.

use serde_json::json;
use utoipa::openapi::{ObjectBuilder, Schema, Type};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::domain::task::Priority;

/// `/api/{user_id}/tasks` and `/api/{user_id}/categories`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The caller's own user id: the token's subject (`user_id` in signup's and login's answer).
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
}

/// `/api/{user_id}/tasks/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The caller's own user id: the token's subject.
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// The task's id.
    pub id: Uuid,
}

/// `GET /api/{user_id}/events`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The bearer token, for clients that cannot send headers (`EventSource`); never logged.
    /// Ignored when an `Authorization` header is sent.
    #[param(nullable = false)]
    pub access_token: Option<String>,
}

/// `/api/{user_id}/tags/{name}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TagPath {
    /// The caller's own user id: the token's subject.
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// The tag's name, percent-encoded, matched ignoring case.
    #[param(
        max_length = 50,
        pattern = "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^,\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^,\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
}

/// `/api/{user_id}/categories/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CategoryPath {
    /// The caller's own user id: the token's subject.
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// The category's id.
    pub id: Uuid,
}

/// `If-Match` on a write: the write happens only when one of the listed ETags is current.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// `*`, or a comma-separated list of quoted ETags (`"12", "15"`). None current: 412; malformed: 422.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// `If-None-Match` on a read: 304 when one of the listed ETags is current.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatchHeader {
    /// `*`, or a comma-separated list of quoted ETags.
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

/// `Idempotency-Key`: a retry with the same key gets the first answer again, with
/// `Idempotent-Replayed: true`, and writes nothing.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1 to 255 printable ASCII characters, unique per request (a UUID, say). Kept 24 hours.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[ -~]{1,255}$"
    )]
    pub idempotency_key: Option<String>,
}

/// `GET /api/{user_id}/sync`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `cursor` of an earlier answer; without it, the whole state.
    pub since: Option<String>,
    /// At most this many objects per answer.
    #[param(minimum = 1, maximum = 1000, default = 500)]
    pub limit: Option<i64>,
}

fn sort_schema() -> Schema {
    let keys = ["created_at", "updated_at", "due_date", "priority", "title"];
    let values: Vec<String> = keys.iter().flat_map(|k| [(*k).to_owned(), format!("-{k}")]).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .default(Some(json!("-created_at")))
        .into()
}

/// `GET /api/{user_id}/tasks`: filters, order and page, all optional. A bad value is a 422 with
/// `loc ["query", name]`; unknown parameters are ignored.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// Only completed (`true`) or only open (`false`) tasks.
    #[param(nullable = false)]
    pub completed: Option<bool>,
    /// Only tasks of this priority.
    #[param(nullable = false, inline)]
    pub priority: Option<Priority>,
    /// Only tasks in this category.
    #[param(nullable = false)]
    pub category_id: Option<Uuid>,
    /// Case-insensitive substring of the title or the description; `%` and `_` are literal.
    #[param(nullable = false, pattern = "^[^\\u0000]*$")]
    pub q: Option<String>,
    /// Only tasks due strictly before this instant (RFC 3339 with an offset); tasks without a
    /// due date never match.
    #[param(nullable = false, value_type = Option<String>, format = DateTime)]
    pub due_before: Option<String>,
    /// Only tasks due strictly after this instant (RFC 3339 with an offset); tasks without a due
    /// date never match.
    #[param(nullable = false, value_type = Option<String>, format = DateTime)]
    pub due_after: Option<String>,
    /// Only tasks carrying this tag (ignoring case); repeat it for tasks carrying every one named.
    #[param(nullable = false, style = Form, explode)]
    pub tag: Option<Vec<String>>,
    /// `null`: top-level tasks only; a task id: that task's subtasks. Left out: every task.
    #[param(nullable = false, example = "null")]
    pub parent_id: Option<String>,
    /// Order: a field, optionally prefixed `-` for descending. `due_date` puts tasks without one
    /// last both ways; `priority` ascending is low → medium → high; `title` ignores case. Ties are
    /// broken by id, so paging never repeats or skips a task.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Page size.
    #[param(nullable = false, minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Tasks to skip.
    #[param(nullable = false, minimum = 0, default = 0)]
    pub offset: Option<i64>,
}
