//! `/api/{user_id}/categories…`: the same shape as tasks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::json::JsonBody;
use super::openapi as doc;
use super::{location, ResourceId};
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::category::{Category, CategoryChanges, NewCategory};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};

const NOT_FOUND: ApiError = ApiError::NotFound("Category not found");

/// The caller's categories, sorted by name ignoring case.
#[utoipa::path(
    get,
    path = "/api/{user_id}/categories",
    operation_id = "listCategories",
    tag = "categories",
    params(doc::UserPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every category of the caller", body = [Category]),
        doc::AuthErrors,
        doc::ServerErrors,
    )
)]
pub async fn list(State(state): State<Arc<AppState>>, owner: OwnerScope) -> ApiResult<Json<Vec<Category>>> {
    Ok(Json(state.store.list_categories(owner.user_id()).await?))
}

/// Create a category.
#[utoipa::path(
    post,
    path = "/api/{user_id}/categories",
    operation_id = "createCategory",
    tag = "categories",
    params(doc::UserPath),
    security(("bearer" = [])),
    request_body = doc::CategoryCreate,
    responses(
        (status = 201, description = "The new category", body = Category, headers(("Location" = String, description = "The new category's URL, `/api/{user_id}/categories/{id}`"))),
        doc::AuthErrors,
        (status = 409, response = doc::Conflict),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let category = NewCategory::parse(&body)?;
    let category = state
        .store
        .create_category(owner.user_id(), &category, Timestamp::now())
        .await?;
    let location = location(owner.user_id(), "categories", category.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(category)))
}

/// One category.
#[utoipa::path(
    get,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "getCategory",
    tag = "categories",
    params(doc::CategoryPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The category", body = Category),
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
) -> ApiResult<Json<Category>> {
    state
        .store
        .category(owner.user_id(), id)
        .await?
        .map(Json)
        .ok_or(NOT_FOUND)
}

async fn update(
    state: &AppState,
    owner: &OwnerScope,
    id: uuid::Uuid,
    changes: CategoryChanges,
) -> ApiResult<Json<Category>> {
    state
        .store
        .update_category(owner.user_id(), id, &changes, Timestamp::now())
        .await?
        .map(Json)
        .ok_or(NOT_FOUND)
}

/// Update a category; `name` is required, `color` left out is unchanged.
#[utoipa::path(
    put,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "replaceCategory",
    tag = "categories",
    params(doc::CategoryPath),
    security(("bearer" = [])),
    request_body = doc::CategoryReplace,
    responses(
        (status = 200, description = "The category as updated", body = Category),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Category>> {
    update(&state, &owner, id, CategoryChanges::parse(&body, true)?).await
}

/// Update some fields of a category.
#[utoipa::path(
    patch,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "patchCategory",
    tag = "categories",
    params(doc::CategoryPath),
    security(("bearer" = [])),
    request_body = doc::CategoryPatch,
    responses(
        (status = 200, description = "The category as updated", body = Category),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Category>> {
    update(&state, &owner, id, CategoryChanges::parse(&body, false)?).await
}

/// Delete a category; its tasks are kept, with `category_id: null`.
#[utoipa::path(
    delete,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "deleteCategory",
    tag = "categories",
    params(doc::CategoryPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The category is deleted"),
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
    if state.store.delete_category(owner.user_id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NOT_FOUND)
    }
}
