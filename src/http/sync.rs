//! `GET /api/{user_id}/sync` (SPEC §9): delta sync in the owner's change order.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::openapi as doc;
use crate::app::AppState;
use crate::auth::OwnerScope;
use crate::domain::category::Category;
use crate::domain::sync::Cursor;
use crate::domain::task::{query_limit, Task};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::Position;

const DEFAULT_LIMIT: usize = 500;
const EXPIRED: ApiError = ApiError::Gone("Sync cursor expired; sync again without since");

/// What was deleted after the cursor.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub tasks: Vec<Uuid>,
    pub categories: Vec<Uuid>,
}

/// One answer of delta sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncAnswer {
    /// Opaque: pass it as `since` next time.
    pub cursor: String,
    /// More changes wait: call again with `cursor` at once.
    pub more: bool,
    pub tasks: Vec<Task>,
    pub categories: Vec<Category>,
    pub deleted: Deleted,
}

struct SyncQuery {
    since: Option<Cursor>,
    limit: usize,
}

fn parse_query(raw: Option<&str>, user_id: &str) -> ApiResult<SyncQuery> {
    let mut since = None;
    let mut limit = None;
    let mut errors = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "since" if since.is_none() => match Cursor::decode(&value, user_id) {
                Some(c) => since = Some(c),
                None => errors.push(FieldError::query(
                    "since",
                    "Not a sync cursor of this user",
                    "cursor_invalid",
                )),
            },
            "limit" if limit.is_none() => match query_limit(&value) {
                Ok(n) => limit = Some(n as usize),
                Err(e) => errors.push(e),
            },
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(SyncQuery {
        since,
        limit: limit.unwrap_or(DEFAULT_LIMIT),
    })
}

/// Everything that changed after `since`: each changed object once in its current state, each
/// deleted one by id. Without `since`, the whole state.
#[utoipa::path(
    get,
    path = "/api/{user_id}/sync",
    operation_id = "sync",
    tag = "sync",
    params(doc::UserPath, doc::SyncQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changes after `since`, in change order", body = SyncAnswer),
        doc::AuthErrors,
        (status = 410, response = doc::CursorExpired),
        (status = 422, response = doc::ValidationFailed),
        doc::ServerErrors,
    )
)]
pub async fn sync(
    State(state): State<Arc<AppState>>,
    owner: OwnerScope,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SyncAnswer>> {
    let user = owner.user_id();
    let query = parse_query(raw.as_deref(), user)?;
    let now = Timestamp::now();
    let now_ms = now.as_micros() / 1_000;
    let retention = i64::try_from(state.sync_retention.as_millis()).unwrap_or(i64::MAX);
    let from = match query.since {
        Some(c) if now_ms.saturating_sub(c.issued) > retention => return Err(EXPIRED),
        Some(c) => c.position,
        None => Position::START,
    };
    let page = state.store.sync(user, from, query.limit, query.since.is_some()).await?;
    // A cursor's age bounds the tombstones it needs. Mid-way through a chain of pages, the copy
    // is only as fresh as where the chain started, so the chain keeps its first issue time.
    let issued = match query.since {
        Some(c) if page.more => c.issued,
        _ => now_ms,
    };
    let cursor = Cursor {
        position: page.next.unwrap_or(from),
        issued,
    };
    Ok(Json(SyncAnswer {
        cursor: cursor.encode(user),
        more: page.more,
        tasks: page.tasks,
        categories: page.categories,
        deleted: Deleted {
            tasks: page.deleted_tasks,
            categories: page.deleted_categories,
        },
    }))
}
