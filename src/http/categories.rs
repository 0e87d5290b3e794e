//! `/api/{user_id}/categories…`: the same shape as tasks.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::conditional::{answer, etag, list_etag, not_modified, with_etag, written, IfMatch, IfNoneMatch};
use super::idempotency::{self, Begun};
use super::json::JsonBody;
use super::openapi as doc;
use super::{location, ResourceId};
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::category::{Category, CategoryChanges, NewCategory};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::store::{Remember, Versioned, Written};

const NOT_FOUND: ApiError = ApiError::NotFound("Category not found");
const STALE: ApiError = ApiError::PreconditionFailed("Precondition failed: the category has changed");

fn settled<T>(w: Written<T>) -> ApiResult<T> {
    written(w, NOT_FOUND, STALE)
}

fn ok(category: &Versioned<Category>) -> Response {
    answer(StatusCode::OK, category, None).into_response()
}

/// The caller's categories, sorted by name ignoring case.
#[utoipa::path(
    get,
    path = "/api/{user_id}/categories",
    operation_id = "listCategories",
    tag = "categories",
    params(doc::UserPath, doc::IfNoneMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every category of the caller", body = [Category], headers(("ETag" = String, description = "Weak: changes whenever anything in this answer could"))),
        (status = 304, response = doc::NotModified),
        doc::AuthErrors,
        doc::ServerErrors,
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    if_none_match: IfNoneMatch,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    if if_none_match.is_present() {
        let tag = list_etag(state.store.latest_change(owner.user_id()).await?, raw.as_deref());
        if if_none_match.matches(&tag) {
            return Ok(not_modified(&tag));
        }
    }
    let (categories, head) = state.store.list_categories(owner.user_id()).await?;
    Ok(with_etag(
        Json(categories).into_response(),
        &list_etag(head, raw.as_deref()),
    ))
}

/// Create a category.
#[utoipa::path(
    post,
    path = "/api/{user_id}/categories",
    operation_id = "createCategory",
    tag = "categories",
    params(doc::UserPath, doc::IdempotencyKeyHeader),
    security(("bearer" = [])),
    request_body = doc::CategoryCreate,
    responses(
        (status = 201, description = "The new category (or, with `Idempotent-Replayed: true`, the first answer to this key)", body = Category, headers(("Location" = String, description = "The new category's URL, `/api/{user_id}/categories/{id}`"), ("ETag" = String, description = "The category's strong ETag"))),
        doc::AuthErrors,
        (status = 409, response = doc::Conflict),
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
    let category = NewCategory::parse(&body)?;
    let user = owner.user_id();
    let claim = match idempotency::begin(&state, user, &headers, &Method::POST, uri.path(), Some(&body)).await? {
        Begun::Replay(res) => return Ok(res),
        Begun::Run(claim) => claim,
    };
    let render = |c: &Versioned<Category>| {
        let url = location(user, "categories", c.value.id)
            .to_str()
            .ok()
            .map(str::to_owned);
        answer(StatusCode::CREATED, c, url)
    };
    let remember = claim.as_ref().map(|claim| Remember { claim, render: &render });
    let result = state
        .store
        .create_category(user, &category, Timestamp::now(), remember)
        .await;
    let category = idempotency::settle(&state, claim.as_ref(), result.map_err(ApiError::from)).await?;
    Ok(render(&category).into_response())
}

/// One category.
#[utoipa::path(
    get,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "getCategory",
    tag = "categories",
    params(doc::CategoryPath, doc::IfNoneMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The category", body = Category, headers(("ETag" = String, description = "The category's strong ETag"))),
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
    let category = state.store.category(owner.user_id(), id).await?.ok_or(NOT_FOUND)?;
    let tag = etag(category.version);
    if if_none_match.matches(&tag) {
        return Ok(not_modified(&tag));
    }
    Ok(ok(&category))
}

async fn update(
    state: &AppState,
    owner: &OwnerScope,
    id: uuid::Uuid,
    if_match: &IfMatch,
    changes: CategoryChanges,
) -> ApiResult<Response> {
    let w = state
        .store
        .update_category(owner.user_id(), id, &changes, Timestamp::now(), if_match.expected())
        .await?;
    Ok(ok(&settled(w)?))
}

/// Update a category; `name` is required, `color` left out is unchanged.
#[utoipa::path(
    put,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "replaceCategory",
    tag = "categories",
    params(doc::CategoryPath, doc::IfMatchHeader),
    security(("bearer" = [])),
    request_body = doc::CategoryReplace,
    responses(
        (status = 200, description = "The category as updated", body = Category, headers(("ETag" = String, description = "The category's strong ETag"))),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 412, response = doc::PreconditionFailed),
        (status = 409, response = doc::Conflict),
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
    update(&state, &owner, id, &if_match, CategoryChanges::parse(&body, true)?).await
}

/// Update some fields of a category.
#[utoipa::path(
    patch,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "patchCategory",
    tag = "categories",
    params(doc::CategoryPath, doc::IfMatchHeader),
    security(("bearer" = [])),
    request_body = doc::CategoryPatch,
    responses(
        (status = 200, description = "The category as updated", body = Category, headers(("ETag" = String, description = "The category's strong ETag"))),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 412, response = doc::PreconditionFailed),
        (status = 409, response = doc::Conflict),
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
    update(&state, &owner, id, &if_match, CategoryChanges::parse(&body, false)?).await
}

/// Delete a category; its tasks are kept, with `category_id: null`.
#[utoipa::path(
    delete,
    path = "/api/{user_id}/categories/{id}",
    operation_id = "deleteCategory",
    tag = "categories",
    params(doc::CategoryPath, doc::IfMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The category is deleted"),
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
        .delete_category(owner.user_id(), id, Timestamp::now(), if_match.expected())
        .await?;
    settled(w).map(|()| StatusCode::NO_CONTENT)
}
