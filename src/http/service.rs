//! `/`, `/health`, `/health/ready`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;

#[derive(Serialize, ToSchema)]
pub struct ServiceInfo {
    #[schema(example = "Task Manager API")]
    pub name: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    #[schema(example = "/docs")]
    pub docs: &'static str,
    #[schema(example = "/health")]
    pub health: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "healthy")]
    pub status: &'static str,
    #[schema(example = "API is running")]
    pub message: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    #[schema(example = "ok")]
    pub database: &'static str,
}

/// API clients get the service's description; a browser asking for HTML goes to the web app.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "serviceInfo",
    tag = "service",
    responses(
        (status = 200, description = "The service's name and version, and where its docs and health check are", body = ServiceInfo),
        (status = 303, description = "A request accepting `text/html` (a browser) is sent to the web app", headers(("Location" = String, description = "`/app/`"))),
    )
)]
pub async fn root(headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        return Redirect::to("/app/").into_response();
    }
    Json(ServiceInfo {
        name: "Task Manager API",
        version: env!("CARGO_PKG_VERSION"),
        docs: "/docs",
        health: "/health",
    })
    .into_response()
}

/// Liveness: never touches the database.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = "service",
    responses((status = 200, description = "The process is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "healthy",
        message: "API is running",
    })
}

/// Readiness: can the database answer now?
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "ready",
    tag = "service",
    responses(
        (status = 200, description = "The database answers", body = Readiness),
        (status = 503, description = "The database cannot be reached", body = super::openapi::NotReady),
    )
)]
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let breaker = state.store.breaker();
    let answer = if breaker.is_some_and(|b| b.is_open()) {
        Err("the database is known to be unreachable".to_owned())
    } else {
        // Time-boxed: a probe with a 1 s timeout must get an answer, not a hung request.
        match tokio::time::timeout(READY_WITHIN, state.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {READY_WITHIN:?}")),
        }
    };
    match answer {
        Ok(()) => Json(Readiness {
            status: "ready",
            database: "ok",
        })
        .into_response(),
        Err(cause) => {
            tracing::warn!(%cause, "readiness check failed");
            if let Some(breaker) = breaker {
                breaker.report_trouble();
            }
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"detail": "Database unavailable", "status": "not ready", "database": "unavailable"})))
                .into_response()
        }
    }
}

/// How long readiness waits for the database.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);
