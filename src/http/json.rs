//! The JSON body extractor. Its failures are ours: 415 for another content type, 413 past the
//! size limit, 422 with the contract's `loc/msg/type` list for anything that is not JSON.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use serde_json::Value;

use crate::error::{ApiError, FieldError};

/// Requests may not carry more than this (64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body, parsed to a value; domain types then read their fields from it.
pub struct JsonBody(pub Value);

/// A JSON body that may be left out entirely (no body, or an empty one).
pub struct OptionalJsonBody(pub Option<Value>);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5 && essence[essence.len() - 5..].eq_ignore_ascii_case("+json") && essence.contains('/'))
}

fn missing_body() -> ApiError {
    ApiError::field(FieldError::new(&["body"], "Field required", "missing"))
}

async fn read(req: Request) -> Result<Option<Value>, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().map(is_json).unwrap_or(false));
    let bytes = Bytes::from_request(req, &()).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::field(FieldError::new(
                &["body"],
                "The request body could not be read",
                "body_read_error",
            ))
        }
    })?;
    match content_type {
        None if bytes.is_empty() => return Ok(None),
        Some(true) => {}
        _ => return Err(ApiError::UnsupportedMediaType),
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        ApiError::field(FieldError::new(
            &["body"],
            format!("JSON decode error: {e}"),
            "json_invalid",
        ))
    })
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read(req).await?.map(Self).ok_or_else(missing_body)
    }
}

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read(req).await.map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("+json"));
    }
}
