//! `/api/{user_id}/tasks…`: every handler acts as the path's owner, checked by [`OwnerScope`].

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::json::JsonBody;
use super::{location, ResourceId, TOTAL_COUNT};
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::task::{NewTask, Task, TaskChanges, TaskQuery};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};

const NOT_FOUND: ApiError = ApiError::NotFound("Task not found");

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

pub async fn create(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let task = NewTask::parse(&body)?;
    let task = state.store.create_task(owner.user_id(), &task, Timestamp::now()).await?;
    let location = location(owner.user_id(), "tasks", task.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(task)))
}

pub async fn get(State(state): State<Arc<AppState>>, owner: OwnerScope, ResourceId(id): ResourceId) -> ApiResult<Json<Task>> {
    state.store.task(owner.user_id(), id).await?.map(Json).ok_or(NOT_FOUND)
}

async fn update(state: &AppState, owner: &OwnerScope, id: uuid::Uuid, changes: TaskChanges) -> ApiResult<Json<Task>> {
    state.store.update_task(owner.user_id(), id, &changes, Timestamp::now()).await?.map(Json).ok_or(NOT_FOUND)
}

pub async fn replace(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Task>> {
    update(&state, &owner, id, TaskChanges::parse(&body, true)?).await
}

pub async fn patch(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Task>> {
    update(&state, &owner, id, TaskChanges::parse(&body, false)?).await
}

pub async fn delete(State(state): State<Arc<AppState>>, owner: OwnerScope, ResourceId(id): ResourceId) -> ApiResult<StatusCode> {
    if state.store.delete_task(owner.user_id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NOT_FOUND)
    }
}

pub async fn toggle(State(state): State<Arc<AppState>>, owner: OwnerScope, ResourceId(id): ResourceId) -> ApiResult<Json<Task>> {
    state.store.toggle_task(owner.user_id(), id, Timestamp::now()).await?.map(Json).ok_or(NOT_FOUND)
}
