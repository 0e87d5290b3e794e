//! Routes and handlers: thin functions from parsed input to one store call to JSON.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{get, patch, post, put};
use axum::Router;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use uuid::Uuid;

use crate::app::AppState;
use crate::error::{ApiError, FieldError};

pub mod auth;
pub mod categories;
pub mod compression;
pub mod conditional;
pub mod events;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod service;
pub mod sync;
pub mod tags;
pub mod tasks;
pub mod webapp;

pub static TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

/// The `{id}` of a task or category route, parsed: 422 when it is not a UUID.
pub struct ResourceId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || {
            ApiError::field(FieldError::new(
                &["path", "id"],
                "Input should be a valid UUID",
                "uuid_parsing",
            ))
        };
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid())?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, v)| v)
            .ok_or_else(invalid)?;
        Uuid::try_parse(raw).map(Self).map_err(|_| invalid())
    }
}

/// `Location` of a created resource; the user id is percent-encoded, since external ids are any
/// string.
pub fn location(user_id: &str, collection: &str, id: Uuid) -> HeaderValue {
    /// Everything but RFC 3986's unreserved characters.
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    let user = utf8_percent_encode(user_id, SEGMENT);
    HeaderValue::try_from(format!("/api/{user}/{collection}/{id}")).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

/// Every API route.
pub fn api_router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/auth/signup", post(auth::signup))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/me", get(auth::me).delete(auth::delete_me))
        .route("/api/auth/change-password", post(auth::change_password))
        .route("/api/{user_id}/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/api/{user_id}/tasks/{id}",
            get(tasks::get)
                .put(tasks::replace)
                .patch(tasks::patch)
                .delete(tasks::delete),
        )
        .route("/api/{user_id}/tasks/{id}/complete", patch(tasks::toggle))
        .route("/api/{user_id}/sync", get(sync::sync))
        .route("/api/{user_id}/events", get(events::events))
        .route("/api/{user_id}/tags", get(tags::list))
        .route("/api/{user_id}/tags/{name}", put(tags::rename).delete(tags::delete))
        .route(
            "/api/{user_id}/categories",
            get(categories::list).post(categories::create),
        )
        .route(
            "/api/{user_id}/categories/{id}",
            get(categories::get)
                .put(categories::replace)
                .patch(categories::patch)
                .delete(categories::delete),
        )
}
