//! The web app at `/app/`: files from `web/`, embedded in the binary at compile time.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::Embed;

use crate::error::ApiError;

#[derive(Embed)]
#[folder = "web/"]
struct Assets;

/// Serves one embedded file. Files are revalidated on each load (`no-cache` with an ETag), so a
/// new binary's app is picked up at once and an unchanged one costs a 304.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return ApiError::NotFound("Not found").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = HeaderValue::from_static("no-cache");
    let etag_value = HeaderValue::try_from(etag.as_str()).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    if headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(ETAG, etag_value), (CACHE_CONTROL, cache)]).into_response();
    }
    let mime = HeaderValue::try_from(file.metadata.mimetype())
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [(CONTENT_TYPE, mime), (ETAG, etag_value), (CACHE_CONTROL, cache)],
        file.data,
    )
        .into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

pub async fn redirect() -> Redirect {
    Redirect::permanent("/app/")
}
