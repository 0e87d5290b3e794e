//! `/api/{user_id}/tags…`: the caller's tags in use, renamed or deleted on every task at once.

use std::sync::Arc;

use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::conditional::{list_etag, not_modified, with_etag, IfNoneMatch};
use super::json::JsonBody;
use super::openapi as doc;
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::tag::{parse_rename, path_name, tag_key, Tag};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};

const NOT_FOUND: ApiError = ApiError::NotFound("Tag not found");

/// The `{name}` segment, percent-decoded by the router, as a tag key.
fn tag_in_path(params: &RawPathParams) -> ApiResult<String> {
    let raw = params
        .iter()
        .find(|(name, _)| *name == "name")
        .map(|(_, v)| v)
        .unwrap_or_default();
    Ok(tag_key(&path_name(raw)?))
}

/// The caller's tags in use, sorted by name ignoring case, with how many tasks carry each.
#[utoipa::path(
    get,
    path = "/api/{user_id}/tags",
    operation_id = "listTags",
    tag = "tags",
    params(doc::UserPath, doc::IfNoneMatchHeader),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every tag on at least one of the caller's tasks", body = [Tag], headers(("ETag" = String, description = "Weak: changes whenever anything in this answer could"))),
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
    // Tags change only with the tasks that carry them, so the owner's latest change dates them.
    // It is read before the tags: a newer answer under an older tag only makes a client ask
    // again, while the other way round would keep a stale answer fresh.
    let tag = list_etag(state.store.latest_change(owner.user_id()).await?, raw.as_deref());
    if if_none_match.matches(&tag) {
        return Ok(not_modified(&tag));
    }
    Ok(with_etag(
        Json(state.store.tags(owner.user_id()).await?).into_response(),
        &tag,
    ))
}

/// Rename a tag on every task; renaming into a tag already in use merges the two (under that
/// tag's spelling).
#[utoipa::path(
    put,
    path = "/api/{user_id}/tags/{name}",
    operation_id = "renameTag",
    tag = "tags",
    params(doc::TagPath),
    security(("bearer" = [])),
    request_body = doc::TagRename,
    responses(
        (status = 200, description = "The tag as it now is, with the tasks that carry it", body = Tag),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn rename(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    params: RawPathParams,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Tag>> {
    let from = tag_in_path(&params)?;
    let to = parse_rename(&body)?;
    let tag = state
        .store
        .rename_tag(owner.user_id(), &from, &to, Timestamp::now())
        .await?
        .ok_or(NOT_FOUND)?;
    Ok(Json(tag))
}

/// Take a tag off every task.
#[utoipa::path(
    delete,
    path = "/api/{user_id}/tags/{name}",
    operation_id = "deleteTag",
    tag = "tags",
    params(doc::TagPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "No task carries the tag any more"),
        doc::AuthErrors,
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    params: RawPathParams,
) -> ApiResult<StatusCode> {
    let key = tag_in_path(&params)?;
    if state.store.delete_tag(owner.user_id(), &key, Timestamp::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NOT_FOUND)
    }
}
