//! `/api/{user_id}/categories…`: the same shape as tasks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::json::JsonBody;
use super::{location, ResourceId};
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::category::{Category, CategoryChanges, NewCategory};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};

const NOT_FOUND: ApiError = ApiError::NotFound("Category not found");

pub async fn list(State(state): State<Arc<AppState>>, owner: OwnerScope) -> ApiResult<Json<Vec<Category>>> {
    Ok(Json(state.store.list_categories(owner.user_id()).await?))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let category = NewCategory::parse(&body)?;
    let category = state.store.create_category(owner.user_id(), &category, Timestamp::now()).await?;
    let location = location(owner.user_id(), "categories", category.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(category)))
}

pub async fn get(State(state): State<Arc<AppState>>, owner: OwnerScope, ResourceId(id): ResourceId) -> ApiResult<Json<Category>> {
    state.store.category(owner.user_id(), id).await?.map(Json).ok_or(NOT_FOUND)
}

async fn update(state: &AppState, owner: &OwnerScope, id: uuid::Uuid, changes: CategoryChanges) -> ApiResult<Json<Category>> {
    state.store.update_category(owner.user_id(), id, &changes, Timestamp::now()).await?.map(Json).ok_or(NOT_FOUND)
}

pub async fn replace(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Category>> {
    update(&state, &owner, id, CategoryChanges::parse(&body, true)?).await
}

pub async fn patch(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Category>> {
    update(&state, &owner, id, CategoryChanges::parse(&body, false)?).await
}

pub async fn delete(State(state): State<Arc<AppState>>, owner: OwnerScope, ResourceId(id): ResourceId) -> ApiResult<StatusCode> {
    if state.store.delete_category(owner.user_id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NOT_FOUND)
    }
}
