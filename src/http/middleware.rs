//! Cross-cutting request handling: the request id, the one log line per request, panics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::{detail_response, ApiError, DatabaseTrouble};

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The client's own id when it is 1..=128 characters of letters, digits, `-`, `_`, `.`, `:`.
fn client_request_id(value: &HeaderValue) -> Option<HeaderValue> {
    let bytes = value.as_bytes();
    let ok = (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| value.clone())
}

/// A process-unique id: a random prefix chosen at start, then a counter. Cheaper than a random
/// UUID per request, and still unique across restarts in practice.
fn generated_request_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    HeaderValue::try_from(format!("{prefix}-{n:x}")).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Sets `X-Request-Id` on every response and logs one line per request: method, path, status,
/// latency, request id. Never a header value, query string or body.
///
/// Also drops the CORS headers of responses to other origins: tower-http's CORS layer still adds
/// `Access-Control-Allow-Credentials` and the exposed headers when the origin is not allowed,
/// and the contract wants none at all for other origins. (One layer for both: each layer costs
/// every request.)
pub async fn request_context(allowed: std::sync::Arc<[HeaderValue]>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(client_request_id)
        .unwrap_or_else(generated_request_id);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let origin_allowed = req
        .headers()
        .get(axum::http::header::ORIGIN)
        .is_some_and(|o| allowed.contains(o));
    let mut res = next.run(req).await;
    if !origin_allowed {
        strip_cors_headers(&mut res);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let latency_us = elapsed.as_micros() as u64;
    // The matched template, never the path: routing happens inside, [`around_route`] hands it out.
    let route = res
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str);
    super::metrics::request(&method, route, status, elapsed);
    let request_id = id.to_str().unwrap_or_default();
    if status >= 500 {
        tracing::warn!(%method, %path, status, latency_us, request_id, "request");
    } else {
        tracing::info!(%method, %path, status, latency_us, request_id, "request");
    }
    res.headers_mut().insert(REQUEST_ID.clone(), id);
    res
}

/// A 405 carries the template of the path that matched, as every routed answer does: axum answers
/// it outside the route's layers, so [`around_route`] never sees it.
pub async fn method_not_allowed(route: Option<MatchedPath>) -> Response {
    let mut res = ApiError::MethodNotAllowed.into_response();
    if let Some(route) = route {
        res.extensions_mut().insert(route);
    }
    res
}

/// The route label of requests no route matched (404s, whatever their path).
const UNMATCHED: &str = "unmatched";

fn strip_cors_headers(res: &mut Response) {
    let cors: Vec<HeaderName> = res
        .headers()
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in cors {
        res.headers_mut().remove(name);
    }
}

/// A panic in a handler becomes a logged 500 with the contract's body; the server keeps serving.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(panic = %message, "handler panicked");
    detail_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}

/// Around every route, inside the router (one layer: each costs every request): hands the
/// matched route template out to [`request_context`] in the response's extensions, and for API
/// routes runs [`around_api`].
pub async fn around_route(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut res = if declares_too_large_body(&req) {
        ApiError::PayloadTooLarge.into_response()
    } else if route.as_ref().is_some_and(|r| r.as_str().starts_with("/api/")) {
        around_api(state, req, next).await
    } else {
        next.run(req).await
    };
    if let Some(route) = route {
        res.extensions_mut().insert(route);
    }
    res
}

/// Whether the request says its body is over the limit. Refused before anything else runs, as
/// a proxy's body limit would: a route that takes no body (a toggle, a deletion) would otherwise
/// act and never read it, and SPEC §1 makes every body over 64 KiB a 413. A body sent without a
/// length is still cut off at the limit by whatever reads it.
fn declares_too_large_body(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > super::json::BODY_LIMIT as u64)
}

/// Around every API route:
///
/// - fails fast while the database is known to be unreachable (SPEC §12): 503 at once instead of
///   a pool timeout, also for a request already waiting when the breaker opens; a response that a
///   database failure made has the connection checked;
/// - after a write under `/api/{user_id}/…` succeeded (it has committed), tells the owner's event
///   streams here, and on PostgreSQL the other instances' through the announcer.
async fn around_api(state: std::sync::Arc<AppState>, req: Request, next: Next) -> Response {
    let Some(owner) = written_owner(&req) else {
        return failing_fast(&state, req, next).await;
    };
    // A write runs to its end on a task of its own: a client that goes away would otherwise drop
    // the handler, perhaps after its commit and before the notice below, and the owner's
    // streams would not hear of a change that happened.
    let write = tokio::spawn(async move {
        let res = failing_fast(&state, req, next).await;
        if res.status().is_success() {
            state.events.changed(&owner);
            if let Some(announcer) = &state.announcer {
                announcer.announce(&owner);
            }
        }
        res
    });
    match write.await {
        Ok(res) => res,
        Err(e) if e.is_panic() => panic_response(e.into_panic()),
        Err(_) => ApiError::Unavailable.into_response(),
    }
}

/// The request, or a 503 at once while the database is known to be unreachable.
async fn failing_fast(state: &AppState, req: Request, next: Next) -> Response {
    match state.store.breaker() {
        None => next.run(req).await,
        Some(breaker) => {
            if breaker.is_open() {
                return ApiError::Unavailable.into_response();
            }
            let res = tokio::select! {
                res = next.run(req) => res,
                () = breaker.opened() => return ApiError::Unavailable.into_response(),
            };
            if res.extensions().get::<DatabaseTrouble>().is_some() {
                breaker.report_trouble();
            }
            res
        }
    }
}

/// The `{user_id}` of a request that may change that user's objects.
fn written_owner(req: &Request) -> Option<String> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let segment = req.uri().path().strip_prefix("/api/")?.split('/').next()?;
    (segment != "auth").then(|| {
        percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .into_owned()
    })
}
