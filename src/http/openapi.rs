//! The OpenAPI document, generated from the handlers' annotations, and the docs pages.
//!
//! Request bodies are read by hand from JSON values (see `crate::domain`), so the types below
//! exist only to describe them: keep their constraints in step with the parsing code.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Required, Schema, Type};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToResponse, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};
use uuid::Uuid;

use crate::domain::task::Priority;
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
// Errors

/// Every error but a validation error: `{"detail": "..."}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": "Task not found"}))]
pub struct ErrorDetail {
    pub detail: String,
}

/// A validation error (422): every problem found in the request.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": [{"loc": ["body", "title"], "msg": "Field required", "type": "missing"}]}))]
pub struct ValidationError {
    #[schema(min_items = 1)]
    pub detail: Vec<ValidationItem>,
}

/// One problem: where (`["body", "title"]`, `["query", "limit"]`, `["path", "id"]`, `["body"]`),
/// what, and a machine-readable type.
#[derive(Serialize, ToSchema)]
pub struct ValidationItem {
    /// `loc[0]` is `body`, `path`, `query` or `header`; the rest names the field.
    #[schema(min_items = 1, example = json!(["body", "title"]))]
    pub loc: Vec<LocPart>,
    #[schema(example = "Field required")]
    pub msg: String,
    #[serde(rename = "type")]
    #[schema(example = "missing")]
    pub kind: String,
}

/// A field name, or an index into a list.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LocPart {
    Name(String),
    Index(i64),
}

/// `GET /health/ready` when the database cannot be reached.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": "Database unavailable", "status": "not ready", "database": "unavailable"}))]
pub struct NotReady {
    pub detail: String,
    #[schema(example = "not ready")]
    pub status: String,
    #[schema(example = "unavailable")]
    pub database: String,
}

fn json_body(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}

fn detail(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", json_body("ErrorDetail"))
}

fn header(schema: impl Into<RefOr<Schema>>, description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(schema)
        .description(Some(description))
        .build()
}

/// A reusable response, defined under `components/responses` and referred to by name.
macro_rules! error_response {
    ($name:ident, $response:expr) => {
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<ApiResponse>) {
                (stringify!($name), $response.build().into())
            }
        }
    };
}

error_response!(
    Unauthorized,
    detail("Missing, malformed, badly signed, expired or revoked token (or, for login, a wrong email or password).")
        .header(
            "WWW-Authenticate",
            header(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["Bearer"])),
                "Always `Bearer`."
            ),
        )
);
error_response!(
    Forbidden,
    detail("`{user_id}` is not the token's user, the account is disabled, or the password given is wrong.")
);
error_response!(
    NotFound,
    detail("No such resource among the caller's own (another user's is never revealed).")
);
error_response!(
    Conflict,
    detail("Already exists: the email is registered, or the category name is taken (ignoring case).")
);
error_response!(PayloadTooLarge, detail("The request body is larger than 64 KiB."));
error_response!(
    UnsupportedMediaType,
    detail("The body was sent with a Content-Type other than `application/json`.")
);
error_response!(
    ValidationFailed,
    ResponseBuilder::new()
        .description("Validation failed: bad JSON, a missing or invalid field, or a bad path or query parameter.")
        .content("application/json", json_body("ValidationError"))
);
error_response!(
    TooManyRequests,
    detail("Too many attempts from this client (and, for login, this email); try again later.").header(
        "Retry-After",
        header(
            ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)),
            "Seconds to wait, at least 1."
        ),
    )
);
error_response!(
    InternalError,
    detail("A fault in the server: the body never tells more than `Internal server error`.")
);
error_response!(
    Unavailable,
    detail("The database cannot be reached, or no connection came free in time.")
);

error_response!(
    NotModified,
    ResponseBuilder::new()
        .description("`If-None-Match` names the current ETag: no body.")
        .header(
            "ETag",
            header(ObjectBuilder::new().schema_type(Type::String), "The current ETag.")
        )
);
error_response!(
    PreconditionFailed,
    detail("`If-Match` names no current ETag of the object: nothing was written.")
);
error_response!(
    KeyInProgress,
    detail("A request with this `Idempotency-Key` is still running; retry later to get its answer.")
);
error_response!(
    CursorExpired,
    detail("The cursor is older than the sync retention: sync again without `since`.")
);

fn refer(names: &[(&str, &str)]) -> BTreeMap<String, RefOr<ApiResponse>> {
    names
        .iter()
        .map(|(status, name)| ((*status).to_owned(), RefOr::Ref(Ref::from_response_name(*name))))
        .collect()
}

/// What any route that reads the database can answer: 500 and 503.
pub struct ServerErrors;

impl IntoResponses for ServerErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        refer(&[("500", "InternalError"), ("503", "Unavailable")])
    }
}

/// What a route behind a bearer token can answer before its own work: 401 and 403.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        refer(&[("401", "Unauthorized"), ("403", "Forbidden")])
    }
}

/// What a route that takes a JSON body can answer about it: 413, 415 and 422.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        refer(&[
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "ValidationFailed"),
        ])
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters

/// `/api/{user_id}/tasks` and `/api/{user_id}/categories`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The caller's own user id: the token's subject (`user_id` in signup's and login's answer).
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
}

/// `/api/{user_id}/tasks/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The caller's own user id: the token's subject.
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// The task's id.
    pub id: Uuid,
}

/// `GET /api/{user_id}/events`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The bearer token, for clients that cannot send headers (`EventSource`); never logged.
    /// Ignored when an `Authorization` header is sent.
    #[param(nullable = false)]
    pub access_token: Option<String>,
}

/// `/api/{user_id}/tags/{name}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TagPath {
    /// The caller's own user id: the token's subject.
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// The tag's name, percent-encoded, matched ignoring case.
    #[param(
        max_length = 50,
        pattern = "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^,\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^,\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
}

/// `/api/{user_id}/categories/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CategoryPath {
    /// The caller's own user id: the token's subject.
    #[param(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// The category's id.
    pub id: Uuid,
}

/// `If-Match` on a write: the write happens only when one of the listed ETags is current.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// `*`, or a comma-separated list of quoted ETags (`"12", "15"`). None current: 412; malformed: 422.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// `If-None-Match` on a read: 304 when one of the listed ETags is current.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatchHeader {
    /// `*`, or a comma-separated list of quoted ETags.
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

/// `Idempotency-Key`: a retry with the same key gets the first answer again, with
/// `Idempotent-Replayed: true`, and writes nothing.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1 to 255 printable ASCII characters, unique per request (a UUID, say). Kept 24 hours.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[ -~]{1,255}$"
    )]
    pub idempotency_key: Option<String>,
}

/// `GET /api/{user_id}/sync`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `cursor` of an earlier answer; without it, the whole state.
    pub since: Option<String>,
    /// At most this many objects per answer.
    #[param(minimum = 1, maximum = 1000, default = 500)]
    pub limit: Option<i64>,
}

fn sort_schema() -> Schema {
    let keys = ["created_at", "updated_at", "due_date", "priority", "title"];
    let values: Vec<String> = keys.iter().flat_map(|k| [(*k).to_owned(), format!("-{k}")]).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .default(Some(json!("-created_at")))
        .into()
}

/// `GET /api/{user_id}/tasks`: filters, order and page, all optional. A bad value is a 422 with
/// `loc ["query", name]`; unknown parameters are ignored.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// Only completed (`true`) or only open (`false`) tasks.
    #[param(nullable = false)]
    pub completed: Option<bool>,
    /// Only tasks of this priority.
    #[param(nullable = false, inline)]
    pub priority: Option<Priority>,
    /// Only tasks in this category.
    #[param(nullable = false)]
    pub category_id: Option<Uuid>,
    /// Case-insensitive substring of the title or the description; `%` and `_` are literal.
    #[param(nullable = false, pattern = "^[^\\u0000]*$")]
    pub q: Option<String>,
    /// Only tasks due strictly before this instant (RFC 3339 with an offset); tasks without a
    /// due date never match.
    #[param(nullable = false, value_type = Option<String>, format = DateTime)]
    pub due_before: Option<String>,
    /// Only tasks due strictly after this instant (RFC 3339 with an offset); tasks without a due
    /// date never match.
    #[param(nullable = false, value_type = Option<String>, format = DateTime)]
    pub due_after: Option<String>,
    /// Only tasks carrying this tag (ignoring case); repeat it for tasks carrying every one named.
    #[param(nullable = false, style = Form, explode)]
    pub tag: Option<Vec<String>>,
    /// `null`: top-level tasks only; a task id: that task's subtasks. Left out: every task.
    #[param(nullable = false, example = "null")]
    pub parent_id: Option<String>,
    /// Order: a field, optionally prefixed `-` for descending. `due_date` puts tasks without one
    /// last both ways; `priority` ascending is low → medium → high; `title` ignores case. Ties are
    /// broken by id, so paging never repeats or skips a task.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Page size.
    #[param(nullable = false, minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Tasks to skip.
    #[param(nullable = false, minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Request bodies. Unknown fields are ignored; `id`, `user_id`, `created_at`, `updated_at` are
// never honoured. No string may hold a NUL character (`^[^\u0000]*$`); a title or a name must also
// have a character that is not white space (Rust's `char::is_whitespace`, which trimming uses).

/// `POST /api/auth/signup`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}))]
pub struct SignupRequest {
    /// An email address: `local@domain` with a dot in the domain and no spaces or control
    /// characters (letters beyond ASCII are accepted); trimmed, stored lower-case, unique ignoring
    /// case. The pattern is the whole rule, which is looser than the `email` format's.
    #[schema(
        max_length = 254,
        pattern = "^[^@\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+@[^@.\\-\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^@.\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*(\\.[^@.\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+)+$"
    )]
    pub email: String,
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub password: String,
    /// Display name; trimmed, and blank is the same as none.
    #[schema(max_length = 100, pattern = "^[^\\u0000]*$")]
    pub name: Option<String>,
}

/// `POST /api/auth/login`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Trimmed and compared ignoring case; an address that is not registered (or not an address
    /// at all) is a 401 like a wrong password.
    #[schema(example = "ada@example.com", pattern = "^[^\\u0000]*$")]
    pub email: String,
    #[schema(format = Password, min_length = 1, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// `POST /api/auth/change-password`.
#[derive(ToSchema)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "staple battery horse"}))]
pub struct ChangePasswordRequest {
    /// Validated as a password (8 to 128 characters: shorter is a 422); a wrong one is a 403.
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub current_password: String,
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub new_password: String,
}

/// `DELETE /api/auth/me`: required for an account with a password; an account of an external
/// identity has none and sends no body.
#[derive(ToSchema)]
#[schema(example = json!({"password": "correct horse battery"}))]
pub struct DeleteAccountRequest {
    /// Validated as a password (8 to 128 characters: shorter is a 422); a wrong one is a 403.
    #[schema(format = Password, min_length = 8, max_length = 128, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// `POST /api/{user_id}/tasks`.
#[derive(ToSchema)]
#[schema(example = json!({
    "title": "Buy groceries",
    "description": "Milk, eggs, bread",
    "priority": "high",
    "due_date": "2026-02-01T17:00:00Z",
    "completed": false
}))]
pub struct TaskCreate {
    /// Trimmed; 1 to 255 characters, not only white space.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    #[schema(max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, inline, default = "medium")]
    pub priority: Option<Priority>,
    /// RFC 3339 with an offset; stored in UTC to the microsecond (finer digits are dropped).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date: Option<String>,
    /// One of the caller's own categories; any other id is a 422 at `["body", "category_id"]`.
    pub category_id: Option<Uuid>,
    #[schema(nullable = false, default = false)]
    pub completed: Option<bool>,
    /// 0 to 20 tags, each at most 50 characters as sent, trimmed, not blank, without commas or
    /// control characters; one per name ignoring case, spelled as the caller first spelled it.
    /// `[]` clears; `null` is a 422.
    #[schema(nullable = false, max_items = 20)]
    pub tags: Option<Vec<TagName>>,
    /// Makes this a subtask of another of the caller's top-level tasks (one level only).
    pub parent_id: Option<Uuid>,
    /// Makes the task recur; it needs a `due_date`.
    #[schema(value_type = Option<RecurrenceInput>)]
    pub recurrence: Option<RecurrenceInput>,
}

/// `PUT /api/{user_id}/tasks/{id}`: `title` is required; any other field left out is unchanged,
/// and `null` clears a nullable one.
#[derive(ToSchema)]
#[schema(example = json!({"title": "Buy groceries", "description": null, "priority": "low", "completed": true}))]
pub struct TaskReplace {
    /// Trimmed; 1 to 255 characters, not only white space.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    #[schema(max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, inline)]
    pub priority: Option<Priority>,
    /// RFC 3339 with an offset; stored in UTC to the microsecond.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date: Option<String>,
    /// One of the caller's own categories; any other id is a 422 at `["body", "category_id"]`.
    pub category_id: Option<Uuid>,
    #[schema(nullable = false)]
    pub completed: Option<bool>,
    /// 0 to 20 tags, each at most 50 characters as sent, trimmed, not blank, without commas or
    /// control characters; one per name ignoring case, spelled as the caller first spelled it.
    /// `[]` clears; `null` is a 422.
    #[schema(nullable = false, max_items = 20)]
    pub tags: Option<Vec<TagName>>,
    /// Makes this a subtask of another of the caller's top-level tasks (one level only).
    pub parent_id: Option<Uuid>,
    /// Makes the task recur; it needs a `due_date`.
    #[schema(value_type = Option<RecurrenceInput>)]
    pub recurrence: Option<RecurrenceInput>,
}

/// `PATCH /api/{user_id}/tasks/{id}`: every field optional; one left out is unchanged, `null`
/// clears a nullable one. An empty object changes nothing, `updated_at` included.
#[derive(ToSchema)]
#[schema(example = json!({"completed": true}))]
pub struct TaskPatch {
    /// Trimmed; 1 to 255 characters, not only white space.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: Option<String>,
    #[schema(max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    #[schema(nullable = false, inline)]
    pub priority: Option<Priority>,
    /// RFC 3339 with an offset; stored in UTC to the microsecond.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_date: Option<String>,
    /// One of the caller's own categories; any other id is a 422 at `["body", "category_id"]`.
    pub category_id: Option<Uuid>,
    #[schema(nullable = false)]
    pub completed: Option<bool>,
    /// 0 to 20 tags, each at most 50 characters as sent, trimmed, not blank, without commas or
    /// control characters; one per name ignoring case, spelled as the caller first spelled it.
    /// `[]` clears; `null` is a 422.
    #[schema(nullable = false, max_items = 20)]
    pub tags: Option<Vec<TagName>>,
    /// Makes this a subtask of another of the caller's top-level tasks (one level only).
    pub parent_id: Option<Uuid>,
    /// Makes the task recur; it needs a `due_date`.
    #[schema(value_type = Option<RecurrenceInput>)]
    pub recurrence: Option<RecurrenceInput>,
}

/// A tag name's rule as a pattern: no commas, no control characters, not only white space.
const TAG_PATTERN: &str = "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^,\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^,\\u0000-\\u001f\\u007f-\\u009f]*$";

/// One tag name: at most 50 characters as sent, trimmed, not blank, without commas or control
/// characters.
pub struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(50))
            .pattern(Some(TAG_PATTERN))
            .examples([json!("errands")])
            .into()
    }
}

impl ToSchema for TagName {}

/// `recurrence` in a task body (§10). Completing the task moves its due date to the next
/// occurrence instead of completing it, while one is left.
#[derive(ToSchema)]
#[schema(example = json!({"rule": "FREQ=WEEKLY;BYDAY=MO,WE", "basis": "due", "timezone": "Europe/Berlin"}))]
pub struct RecurrenceInput {
    /// An RFC 5545 RRULE value (an `RRULE:` prefix is accepted): `FREQ` DAILY, WEEKLY, MONTHLY or
    /// YEARLY with any of `INTERVAL`, `COUNT`, `UNTIL`, `BYDAY` (ordinals such as `1MO`, `-1FR`
    /// with MONTHLY/YEARLY), `BYMONTHDAY` (`-1` is the last day), `BYMONTH`, `BYSETPOS`, `WKST`.
    /// Examples: `FREQ=DAILY`, `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR`, `FREQ=MONTHLY;BYMONTHDAY=-1`,
    /// `FREQ=MONTHLY;BYDAY=-1FR`, `FREQ=YEARLY;COUNT=5`, `FREQ=DAILY;INTERVAL=3`. Stored upper
    /// case without the prefix; `UNTIL` is kept in UTC (a bare date means the end of that day in
    /// `timezone`); `COUNT` is the occurrences left and goes down by one each time the task moves.
    #[schema(pattern = "^[^\\u0000]*$", example = "FREQ=WEEKLY;BYDAY=MO,WE")]
    pub rule: String,
    /// `due` (default): the next due date keeps the series' cadence from the current due date,
    /// skipping occurrences already past. `completion`: the series starts again on the day the
    /// task is completed.
    #[schema(nullable = false, inline, default = "due")]
    pub basis: Option<crate::domain::recurrence::Basis>,
    /// The IANA time zone whose wall-clock time occurrences keep across daylight-saving changes.
    #[schema(
        nullable = false,
        default = "UTC",
        example = "Europe/Berlin",
        pattern = "^[^\\u0000]*$"
    )]
    pub timezone: Option<String>,
}

/// `PUT /api/{user_id}/tags/{name}`.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Errands"}))]
pub struct TagRename {
    /// The new name; into a tag already in use, the two merge under that tag's spelling.
    #[schema(
        max_length = 50,
        pattern = "^[^,\\u0000-\\u001f\\u007f-\\u009f]*[^,\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^,\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
}

/// `POST /api/{user_id}/categories`.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Work", "color": "#3B82F6"}))]
pub struct CategoryCreate {
    /// Trimmed; 1 to 100 characters, not only white space; unique per user ignoring case.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// `#RRGGBB`.
    #[schema(
        nullable = false,
        min_length = 7,
        max_length = 7,
        pattern = "^#[0-9A-Fa-f]{6}$",
        default = "#3B82F6"
    )]
    pub color: Option<String>,
}

/// `PUT /api/{user_id}/categories/{id}`: `name` is required; `color` left out is unchanged.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Home", "color": "#10B981"}))]
pub struct CategoryReplace {
    /// Trimmed; 1 to 100 characters, not only white space; unique per user ignoring case.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// `#RRGGBB`.
    #[schema(nullable = false, min_length = 7, max_length = 7, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// `PATCH /api/{user_id}/categories/{id}`: each field left out is unchanged.
#[derive(ToSchema)]
#[schema(example = json!({"color": "#EF4444"}))]
pub struct CategoryPatch {
    /// Trimmed; 1 to 100 characters, not only white space; unique per user ignoring case.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub name: Option<String>,
    /// `#RRGGBB`.
    #[schema(nullable = false, min_length = 7, max_length = 7, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
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
static REDOC_JS: &[u8] = include_bytes!("../../assets/redoc.standalone.js");

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
