use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

/// One validation problem, in the shape FastAPI clients already parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `["body", "title"]`, `["query", "limit"]`, `["path", "id"]`, or just `["body"]`.
    pub loc: Vec<Cow<'static, str>>,
    pub msg: Cow<'static, str>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl FieldError {
    pub fn new(loc: &[&'static str], msg: impl Into<Cow<'static, str>>, kind: &'static str) -> Self {
        Self {
            loc: loc.iter().map(|s| Cow::Borrowed(*s)).collect(),
            msg: msg.into(),
            kind,
        }
    }

    pub fn body(field: &'static str, msg: impl Into<Cow<'static, str>>, kind: &'static str) -> Self {
        Self::new(&["body", field], msg, kind)
    }

    pub fn query(name: &'static str, msg: impl Into<Cow<'static, str>>, kind: &'static str) -> Self {
        Self::new(&["query", name], msg, kind)
    }
}

/// Every way a request can fail, each rendered as SPEC §2 says.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(&'static str),
    Forbidden(&'static str),
    NotFound(&'static str),
    MethodNotAllowed,
    Conflict(&'static str),
    /// 410: what was asked for is no longer kept.
    Gone(&'static str),
    /// 412: an `If-Match` named no current version.
    PreconditionFailed(&'static str),
    PayloadTooLarge,
    UnsupportedMediaType,
    Validation(Vec<FieldError>),
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// 429: the caller has as many event streams open as allowed.
    TooManyStreams,
    Unavailable,
    /// 503 for a Better Auth session credential: its database or URL cannot answer.
    AuthUnavailable,
    /// A bug or an unexpected fault; the cause is logged, never sent.
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

pub const UNAVAILABLE: &str = "Service temporarily unavailable: the database cannot be reached";

/// Marks a response that a database failure made: the fail-fast layer then has the connection
/// checked (see `store::breaker`).
#[derive(Debug, Clone, Copy)]
pub struct DatabaseTrouble;

pub const ACCESS_DENIED: &str = "Access denied: You can only access your own resources";
pub const ACCOUNT_DISABLED: &str = "Account is disabled";
/// The 403 of a wrong current password on the account routes (a 403, not a 401: the caller is
/// authenticated; counted as `wrong_password` in the metrics).
pub const INCORRECT_PASSWORD: &str = "Incorrect password";
/// `Retry-After` of the 429 for one event stream too many.
const STREAM_RETRY_AFTER_SECS: u64 = 5;
pub const CROSS_SITE_REFUSED: &str = "Cross-site request refused";

impl ApiError {
    pub fn field(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } | Self::TooManyStreams => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The metrics label of a 401: a fixed word per message, never the message's inputs.
fn auth_failure_reason(message: &str) -> &'static str {
    match message {
        "Authorization header missing" => "missing",
        "Invalid authorization header" => "malformed",
        crate::auth::accounts::INVALID_TOKEN => "invalid_token",
        "Invalid email or password" => "bad_credentials",
        _ => "other",
    }
}

#[derive(Serialize)]
struct Detail<'a, T: Serialize + ?Sized> {
    detail: &'a T,
}

/// Renders `{"detail": …}` with a status; used for errors made outside handlers too.
pub fn detail_response<T: Serialize + ?Sized>(status: StatusCode, detail: &T) -> Response {
    let body =
        serde_json::to_vec(&Detail { detail }).unwrap_or_else(|_| br#"{"detail":"Internal server error"}"#.to_vec());
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::Unauthorized(msg) => {
                crate::http::metrics::auth_failure(auth_failure_reason(msg));
                let mut res = detail_response(status, msg);
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                res
            }
            Self::Forbidden(msg) => {
                if msg == ACCOUNT_DISABLED {
                    crate::http::metrics::auth_failure("account_disabled");
                } else if msg == INCORRECT_PASSWORD {
                    crate::http::metrics::auth_failure("wrong_password");
                }
                detail_response(status, msg)
            }
            Self::NotFound(msg) | Self::Conflict(msg) | Self::Gone(msg) | Self::PreconditionFailed(msg) => {
                detail_response(status, msg)
            }
            Self::MethodNotAllowed => detail_response(status, "Method Not Allowed"),
            Self::PayloadTooLarge => detail_response(status, "Request body too large (limit 64 KiB)"),
            Self::UnsupportedMediaType => detail_response(status, "Content-Type must be application/json"),
            Self::Validation(errors) => detail_response(status, &errors),
            Self::TooManyRequests { retry_after_secs } => {
                let mut res = detail_response(status, "Too many attempts, try again later");
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
                res
            }
            Self::TooManyStreams => {
                // Not a brute-force limit: a stream frees a place when it closes, so a client
                // may look again soon.
                let mut res = detail_response(status, "Too many open event streams");
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(STREAM_RETRY_AFTER_SECS));
                res
            }
            Self::Unavailable => {
                let mut res = detail_response(status, UNAVAILABLE);
                res.extensions_mut().insert(DatabaseTrouble);
                res
            }
            Self::AuthUnavailable => detail_response(
                status,
                "Service temporarily unavailable: sessions cannot be checked with Better Auth",
            ),
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                detail_response(status, "Internal server error")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(cause) | StoreError::Unreachable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                crate::http::metrics::database_error("unavailable");
                Self::Unavailable
            }
            StoreError::EmailTaken => Self::Conflict("Email already registered"),
            StoreError::CategoryNameTaken => Self::Conflict("Category already exists"),
            StoreError::UnknownCategory => Self::field(FieldError::body(
                "category_id",
                "Category not found",
                "category_not_found",
            )),
            // The key's claim was taken over while this request ran: another copy of it is running.
            StoreError::Invalid(error) => Self::field(error),
            StoreError::ClaimLost => Self::Conflict(crate::http::idempotency::IN_PROGRESS),
            StoreError::Other(cause) => {
                crate::http::metrics::database_error("other");
                Self::Internal(cause)
            }
        }
    }
}
