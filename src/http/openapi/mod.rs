//! The OpenAPI document, generated from the handlers' annotations, and the docs pages.
//!
//! Request bodies are read by hand from JSON values (see `crate::domain`), so the types of
//! `bodies` and `params` exist only to describe them: keep their constraints in step with the
//! parsing code.

mod bodies;
mod params;
mod responses;

pub use bodies::*;
pub use params::*;
pub use responses::*;

use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::Required;
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::ApiError;

/// The document, with every route of the contract.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Task Manager API",
        description = "Tasks and categories for signed-up users.\n\n\
            Every error has a JSON body `{\"detail\": ...}`: a string, or for a validation error (422) \
            a list of `{loc, msg, type}` where `loc[0]` is `body`, `path`, `query` or `header`.\n\n\
            Routes under `/api/{user_id}/` and `/api/auth/me`, `/api/auth/change-password` need \
            `Authorization: Bearer <token>`, with the token from signup or login; `{user_id}` must be \
            the token's own user id.\n\n\
            No string, in a body or a query, may contain a NUL character (U+0000): that is a 422."
    ),
    paths(
        crate::http::auth::signup,
        crate::http::auth::login,
        crate::http::auth::me,
        crate::http::auth::change_password,
        crate::http::auth::delete_me,
        crate::http::tasks::list,
        crate::http::tasks::create,
        crate::http::tasks::get,
        crate::http::tasks::replace,
        crate::http::tasks::patch,
        crate::http::tasks::delete,
        crate::http::tasks::toggle,
        crate::http::categories::list,
        crate::http::categories::create,
        crate::http::categories::get,
        crate::http::categories::replace,
        crate::http::categories::patch,
        crate::http::categories::delete,
        crate::http::sync::sync,
        crate::http::events::events,
        crate::http::tags::list,
        crate::http::tags::rename,
        crate::http::tags::delete,
        crate::http::service::root,
        crate::http::service::health,
        crate::http::service::ready,
        openapi_json,
        swagger_ui,
        redoc,
    ),
    components(
        schemas(ErrorDetail, ValidationError, ValidationItem, LocPart, NotReady, crate::http::sync::SyncAnswer, crate::http::sync::Deleted),
        responses(
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            TooManyRequests,
            InternalError,
            Unavailable,
            NotModified,
            PreconditionFailed,
            KeyInProgress,
            CursorExpired
        ),
    ),
    modifiers(&BearerScheme, &OptionalBodies),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "tasks", description = "The caller's tasks"),
        (name = "categories", description = "The caller's categories"),
        (name = "tags", description = "The caller's tags: every name on at least one task, renamed or deleted on all of them at once"),
        (name = "sync", description = "Delta sync: every change after a cursor, in the caller's change order"),
        (name = "service", description = "Service information, health and documentation"),
    )
)]
pub struct ApiDoc;

/// The name of the bearer security scheme, as the handlers' `security(("bearer" = []))` spell it.
pub const BEARER: &str = "bearer";
/// Better Auth's session cookie, accepted wherever the bearer token is.
pub const SESSION_COOKIE: &str = "betterAuthSession";

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "The `token` (or `access_token`) that signup, login and change-password return; a \
                 Better Auth JWT (JWKS); or, when Better Auth sessions are configured, a Better Auth \
                 session token (`token.signature` or the bare token).",
            ))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
        let cookie = ApiKeyValue::with_description(
            crate::auth::better_auth::credential::COOKIE_NAMES[0],
            "Better Auth's session cookie (also under `__Secure-better-auth.session_token`), when \
             Better Auth sessions are configured. Writes need an allowed `Origin`.",
        );
        components.add_security_scheme(SESSION_COOKIE, SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
        // Either credential authenticates: every route that takes the bearer token takes the cookie.
        let bearer_only = [SecurityRequirement::new(BEARER, Vec::<String>::new())];
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                if op.security.as_deref() == Some(&bearer_only[..]) {
                    op.security = Some(vec![
                        SecurityRequirement::new(BEARER, Vec::<String>::new()),
                        SecurityRequirement::new(SESSION_COOKIE, Vec::<String>::new()),
                    ]);
                }
            }
        }
    }
}

/// `DELETE /api/auth/me` takes a body only from accounts that have a password.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let body = openapi
            .paths
            .paths
            .get_mut("/api/auth/me")
            .and_then(|item| item.delete.as_mut())
            .and_then(|op| op.request_body.as_mut());
        if let Some(body) = body {
            body.required = Some(Required::False);
        }
    }
}

/// Links from a created task or category to the operations on it, so that clients (and
/// stateful testers) know where the new id goes: `(collection path, noun, operation ids)`.
const CREATED_LINKS: [(&str, &str, &[&str]); 2] = [
    (
        "/api/{user_id}/tasks",
        "Task",
        &["getTask", "replaceTask", "patchTask", "toggleTask", "deleteTask"],
    ),
    (
        "/api/{user_id}/categories",
        "Category",
        &["getCategory", "replaceCategory", "patchCategory", "deleteCategory"],
    ),
];

/// Adds [`CREATED_LINKS`] to the `201` of each collection's `POST`. Done on the JSON rather than
/// with utoipa's `Link`, which in utoipa 5 serialises its fields in snake case (`operation_id`),
/// not as the OpenAPI names them.
fn add_links(document: &mut serde_json::Value) {
    for (path, noun, operation_ids) in CREATED_LINKS {
        let Some(created) = document.pointer_mut(&format!("/paths/{}/post/responses/201", path.replace('/', "~1")))
        else {
            continue;
        };
        let links: serde_json::Map<String, serde_json::Value> = operation_ids
            .iter()
            .map(|operation_id| {
                let name = operation_id.replace(noun, &format!("Created{noun}"));
                let link = json!({
                    "operationId": operation_id,
                    "parameters": {"user_id": "$request.path.user_id", "id": "$response.body#/id"},
                    "description": format!("The created {} is the one `{operation_id}` acts on.", noun.to_lowercase()),
                });
                (name, link)
            })
            .collect();
        created["links"] = serde_json::Value::Object(links);
    }
}

/// The document as served at `/openapi.json`.
pub fn openapi_document() -> serde_json::Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    add_links(&mut document);
    document
}

// ---------------------------------------------------------------------------------------------
// The document and the docs pages

/// The ReDoc page: the standalone bundle served from this binary, the document from
/// `/openapi.json`; nothing is fetched from another host.
const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Task Manager API - ReDoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

/// ReDoc 2's standalone bundle, from the npm package `redoc` (see `assets/README.md`).
static REDOC_JS: &[u8] = include_bytes!("../../../assets/redoc.standalone.js");

fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| openapi_document().to_string())
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document(),
    )
        .into_response()
}

/// Swagger UI. `GET /docs` redirects to `/docs/`, the page itself; its assets are under `/docs/`.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "swaggerUi",
    tag = "service",
    responses((status = 303, description = "Redirect to the Swagger UI page, `/docs/`", headers(("Location" = String, description = "`/docs/`"))))
)]
#[allow(dead_code)]
async fn swagger_ui() {}

/// ReDoc.
#[utoipa::path(
    get,
    path = "/redoc",
    operation_id = "redoc",
    tag = "service",
    responses((status = 200, description = "The ReDoc page of this document", content_type = "text/html", body = String))
)]
pub async fn redoc() -> Html<&'static str> {
    Html(REDOC_HTML)
}

async fn redoc_js() -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        REDOC_JS,
    )
        .into_response()
}

/// Swagger UI's own router answers an unknown file with an empty 404; the contract wants
/// `{"detail": ...}` on every error.
async fn contract_errors(response: Response) -> Response {
    match response.status() {
        StatusCode::NOT_FOUND => ApiError::NotFound("Not found").into_response(),
        status if status.is_server_error() => {
            ApiError::internal(format!("Swagger UI answered {status}")).into_response()
        }
        _ => response,
    }
}

/// `/openapi.json`, Swagger UI at `/docs` and ReDoc at `/redoc`, all served from the binary.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = Config::new(["/openapi.json"])
        .validator_url("none")
        .persist_authorization(true)
        .try_it_out_enabled(true)
        .display_request_duration(true);
    let swagger_ui: Router<S> = SwaggerUi::new("/docs").config(config).into();
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/redoc", get(redoc))
        .route("/redoc/redoc.standalone.js", get(redoc_js))
        .merge(swagger_ui.layer(axum::middleware::map_response(contract_errors)))
}
