//! The OpenAPI document, generated from the handlers' annotations, and the docs pages.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(info(title = "Task Manager API", description = "Tasks and categories for signed-up users."))]
pub struct ApiDoc;

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
