//! Error bodies and the responses every route shares (errors, validation, headers).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Schema, Type};
use utoipa::{IntoResponses, ToResponse, ToSchema};

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
