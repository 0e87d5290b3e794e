//! `/api/{user_id}/tasks…`: every handler acts as the path's owner, checked by [`OwnerScope`].

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::json::JsonBody;
use super::openapi as doc;
use super::{location, ResourceId, TOTAL_COUNT};
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::task::{NewTask, Task, TaskChanges, TaskQuery};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};

const NOT_FOUND: ApiError = ApiError::NotFound("Task not found");

/// The caller's tasks, filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    operation_id = "listTasks",
    tag = "tasks",
    params(doc::UserPath, doc::TaskListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the matching tasks", body = [Task], headers(("X-Total-Count" = u64, description = "How many tasks match the filters, before paging"))),
        doc::AuthErrors,
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let query = TaskQuery::parse(query.as_deref())?;
    let (tasks, total) = state.store.list_tasks(owner.user_id(), &query).await?;
    let mut headers = HeaderMap::new();
    headers.insert(&TOTAL_COUNT, HeaderValue::from(total));
    Ok((headers, Json(tasks)))
}

/// Create a task.
#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks",
    operation_id = "createTask",
    tag = "tasks",
    params(doc::UserPath),
    security(("bearer" = [])),
    request_body = doc::TaskCreate,
    responses(
        (status = 201, description = "The new task", body = Task, headers(("Location" = String, description = "The new task's URL, `/api/{user_id}/tasks/{id}`"))),
        doc::AuthErrors,
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let task = NewTask::parse(&body)?;
    let task = state
        .store
        .create_task(owner.user_id(), &task, Timestamp::now())
        .await?;
    let location = location(owner.user_id(), "tasks", task.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(task)))
}

/// One task.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "getTask",
    tag = "tasks",
    params(doc::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = Task),
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
) -> ApiResult<Json<Task>> {
    state.store.task(owner.user_id(), id).await?.map(Json).ok_or(NOT_FOUND)
}

async fn update(state: &AppState, owner: &OwnerScope, id: uuid::Uuid, changes: TaskChanges) -> ApiResult<Json<Task>> {
    state
        .store
        .update_task(owner.user_id(), id, &changes, Timestamp::now())
        .await?
        .map(Json)
        .ok_or(NOT_FOUND)
}

/// Update a task; `title` is required, other fields left out are unchanged.
#[utoipa::path(
    put,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "replaceTask",
    tag = "tasks",
    params(doc::TaskPath),
    security(("bearer" = [])),
    request_body = doc::TaskReplace,
    responses(
        (status = 200, description = "The task as updated", body = Task),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Task>> {
    update(&state, &owner, id, TaskChanges::parse(&body, true)?).await
}

/// Update some fields of a task.
#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "patchTask",
    tag = "tasks",
    params(doc::TaskPath),
    security(("bearer" = [])),
    request_body = doc::TaskPatch,
    responses(
        (status = 200, description = "The task as updated", body = Task),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Task>> {
    update(&state, &owner, id, TaskChanges::parse(&body, false)?).await
}

/// Delete a task.
#[utoipa::path(
    delete,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "deleteTask",
    tag = "tasks",
    params(doc::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The task is deleted"),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
) -> ApiResult<StatusCode> {
    if state.store.delete_task(owner.user_id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NOT_FOUND)
    }
}

/// Flip a task's `completed` (atomically: concurrent toggles are never lost).
#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}/complete",
    operation_id = "toggleTask",
    tag = "tasks",
    params(doc::TaskPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task with `completed` flipped and `completed_at` set or cleared", body = Task),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn toggle(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
) -> ApiResult<Json<Task>> {
    state
        .store
        .toggle_task(owner.user_id(), id, Timestamp::now())
        .await?
        .map(Json)
        .ok_or(NOT_FOUND)
}
