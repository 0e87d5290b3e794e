//! `/api/{user_id}/tasks…`: every handler acts as the path's owner, checked by [`OwnerScope`].

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::conditional::{answer, etag, list_etag, not_modified, with_etag, written, IfMatch, IfNoneMatch};
use super::idempotency::{self, Begun};
use super::json::JsonBody;
use super::openapi as doc;
use super::{location, ResourceId, TOTAL_COUNT};
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::recurrence::Recurrence;
use crate::domain::task::{NewTask, Task, TaskChanges, TaskQuery};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{Remember, Versioned, Written};

const NOT_FOUND: ApiError = ApiError::NotFound("Task not found");
const STALE: ApiError = ApiError::PreconditionFailed("Precondition failed: the task has changed");

fn settled<T>(w: Written<T>) -> ApiResult<T> {
    written(w, NOT_FOUND, STALE)
}

fn ok(task: &Versioned<Task>) -> Response {
    answer(StatusCode::OK, task, None).into_response()
}

/// The caller's tasks, filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    operation_id = "listTasks",
    tag = "tasks",
    params(doc::UserPath, doc::TaskListQuery, doc::IfNoneMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the matching tasks", body = [Task], headers(("X-Total-Count" = u64, description = "How many tasks match the filters, before paging"), ("ETag" = String, description = "Weak: changes whenever anything in this answer could"))),
        (status = 304, response = doc::NotModified),
        doc::AuthErrors,
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    if_none_match: IfNoneMatch,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = TaskQuery::parse(raw.as_deref())?;
    if if_none_match.is_present() {
        // Cheap revalidation: one indexed read of the owner's latest change, no page.
        let tag = list_etag(state.store.latest_change(owner.user_id()).await?, raw.as_deref());
        if if_none_match.matches(&tag) {
            return Ok(not_modified(&tag));
        }
    }
    let (tasks, total, head) = state.store.list_tasks(owner.user_id(), &query).await?;
    let res = ([(&TOTAL_COUNT, HeaderValue::from(total))], Json(tasks)).into_response();
    Ok(with_etag(res, &list_etag(head, raw.as_deref())))
}

/// Create a task.
#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks",
    operation_id = "createTask",
    tag = "tasks",
    params(doc::UserPath, doc::IdempotencyKeyHeader),
    security(("bearer" = [])),
    request_body = doc::TaskCreate,
    responses(
        (status = 201, description = "The new task (or, with `Idempotent-Replayed: true`, the first answer to this key)", body = Task, headers(("Location" = String, description = "The new task's URL, `/api/{user_id}/tasks/{id}`"), ("ETag" = String, description = "The task's strong ETag"))),
        doc::AuthErrors,
        (status = 409, response = doc::KeyInProgress),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    headers: HeaderMap,
    uri: Uri,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let task = NewTask::parse(&body)?;
    ensure_occurs(task.recurrence.as_ref()).await?;
    let user = owner.user_id();
    let claim = match idempotency::begin(&state, user, &headers, &Method::POST, uri.path(), Some(&body)).await? {
        Begun::Replay(res) => return Ok(res),
        Begun::Run(claim) => claim,
    };
    let render = |t: &Versioned<Task>| {
        let url = location(user, "tasks", t.value.id).to_str().ok().map(str::to_owned);
        answer(StatusCode::CREATED, t, url)
    };
    let remember = claim.as_ref().map(|claim| Remember { claim, render: &render });
    let result = state.store.create_task(user, &task, Timestamp::now(), remember).await;
    let task = idempotency::settle(&state, claim.as_ref(), result.map_err(ApiError::from)).await?;
    Ok(render(&task).into_response())
}

/// One task.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "getTask",
    tag = "tasks",
    params(doc::TaskPath, doc::IfNoneMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = Task, headers(("ETag" = String, description = "The task's strong ETag"))),
        (status = 304, response = doc::NotModified),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let task = state.store.task(owner.user_id(), id).await?.ok_or(NOT_FOUND)?;
    let tag = etag(task.version);
    if if_none_match.matches(&tag) {
        return Ok(not_modified(&tag));
    }
    Ok(ok(&task))
}

async fn update(
    state: &AppState,
    owner: &OwnerScope,
    id: uuid::Uuid,
    if_match: &IfMatch,
    changes: TaskChanges,
) -> ApiResult<Response> {
    let w = state
        .store
        .update_task(owner.user_id(), id, &changes, Timestamp::now(), if_match.expected())
        .await?;
    Ok(ok(&settled(w)?))
}

/// Update a task; `title` is required, other fields left out are unchanged.
#[utoipa::path(
    put,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "replaceTask",
    tag = "tasks",
    params(doc::TaskPath, doc::IfMatchHeader),
    security(("bearer" = [])),
    request_body = doc::TaskReplace,
    responses(
        (status = 200, description = "The task as updated", body = Task, headers(("ETag" = String, description = "The task's strong ETag"))),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 412, response = doc::PreconditionFailed),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    if_match: IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let changes = TaskChanges::parse(&body, true)?;
    ensure_occurs(changes.recurrence.as_value()).await?;
    update(&state, &owner, id, &if_match, changes).await
}

/// Update some fields of a task.
#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "patchTask",
    tag = "tasks",
    params(doc::TaskPath, doc::IfMatchHeader),
    security(("bearer" = [])),
    request_body = doc::TaskPatch,
    responses(
        (status = 200, description = "The task as updated", body = Task, headers(("ETag" = String, description = "The task's strong ETag"))),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 412, response = doc::PreconditionFailed),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    if_match: IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let changes = TaskChanges::parse(&body, false)?;
    ensure_occurs(changes.recurrence.as_value()).await?;
    update(&state, &owner, id, &if_match, changes).await
}

/// A recurrence rule that never occurs is a 422. Finding that out runs the rule, which for such
/// a rule takes tens of milliseconds: on a blocking thread, not the async ones.
async fn ensure_occurs(recurrence: Option<&Recurrence>) -> ApiResult<()> {
    let Some(recurrence) = recurrence.cloned() else {
        return Ok(());
    };
    let occurs = tokio::task::spawn_blocking(move || recurrence.occurs())
        .await
        .map_err(ApiError::internal)?;
    if occurs {
        return Ok(());
    }
    Err(ApiError::field(FieldError::new(
        &["body", "recurrence", "rule"],
        "This rule never occurs",
        "value_error",
    )))
}

/// Delete a task.
#[utoipa::path(
    delete,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "deleteTask",
    tag = "tasks",
    params(doc::TaskPath, doc::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The task is deleted"),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 412, response = doc::PreconditionFailed),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let w = state
        .store
        .delete_task(owner.user_id(), id, Timestamp::now(), if_match.expected())
        .await?;
    settled(w).map(|()| StatusCode::NO_CONTENT)
}

/// Flip a task's `completed` (atomically: concurrent toggles are never lost).
#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}/complete",
    operation_id = "toggleTask",
    tag = "tasks",
    params(doc::TaskPath, doc::IfMatchHeader, doc::IdempotencyKeyHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task with `completed` flipped and `completed_at` set or cleared (or, with `Idempotent-Replayed: true`, the first answer to this key)", body = Task, headers(("ETag" = String, description = "The task's strong ETag"))),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::KeyInProgress),
        (status = 412, response = doc::PreconditionFailed),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn toggle(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    if_match: IfMatch,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Response> {
    let user = owner.user_id();
    let claim = match idempotency::begin(&state, user, &headers, &Method::PATCH, uri.path(), None).await? {
        Begun::Replay(res) => return Ok(res),
        Begun::Run(claim) => claim,
    };
    let render = |t: &Versioned<Task>| answer(StatusCode::OK, t, None);
    let remember = claim.as_ref().map(|claim| Remember { claim, render: &render });
    let result = state
        .store
        .toggle_task(user, id, Timestamp::now(), if_match.expected(), remember)
        .await
        .map_err(ApiError::from)
        .and_then(settled);
    let task = idempotency::settle(&state, claim.as_ref(), result).await?;
    Ok(render(&task).into_response())
}
