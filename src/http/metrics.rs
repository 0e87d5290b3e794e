//! `GET /metrics` (SPEC §12): Prometheus text format from the `metrics` facade and its Prometheus
//! exporter. Labels are route templates and fixed words only, never an id or a raw path.
//!
//! The recorder is process-wide and installed once, when `METRICS_TOKEN` is set; without it every
//! `metrics::counter!` below is a no-op.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;

/// Request duration buckets, in seconds.
const DURATION_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

struct Exporter {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static EXPORTER: OnceLock<Option<Exporter>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls are no-ops). `false` when another
/// recorder was installed first.
pub fn install() -> bool {
    EXPORTER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("taskapi_http_request_duration_seconds".to_owned()),
                    DURATION_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()?;
            describe();
            let process = metrics_process::Collector::default();
            process.describe();
            Some(Exporter { handle, process })
        })
        .is_some()
}

fn describe() {
    metrics::describe_histogram!(
        "taskapi_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer a request, by method, route template and status; its _count is the number of requests"
    );
    metrics::describe_gauge!(
        "taskapi_db_pool_connections",
        "Database pool connections, by state (in_use, idle)"
    );
    metrics::describe_counter!("taskapi_database_errors_total", "Failed database calls, by kind");
    metrics::describe_counter!("taskapi_auth_failures_total", "Refused credentials, by reason");
    metrics::describe_counter!(
        "taskapi_rate_limit_refusals_total",
        "Requests refused by a brute-force limit (429), by limit"
    );
    metrics::describe_gauge!("taskapi_event_streams_open", "Open live event streams");
    // Every series from the start, at zero: a rate over a series that appears late misses its
    // first events.
    metrics::gauge!("taskapi_event_streams_open").set(0.0);
    for kind in ["unavailable", "other"] {
        metrics::counter!("taskapi_database_errors_total", "kind" => kind).absolute(0);
    }
    for reason in AUTH_FAILURE_REASONS {
        metrics::counter!("taskapi_auth_failures_total", "reason" => *reason).absolute(0);
    }
    for limit in ["login", "signup"] {
        metrics::counter!("taskapi_rate_limit_refusals_total", "limit" => limit).absolute(0);
    }
}

/// The `reason` labels of `taskapi_auth_failures_total`.
pub const AUTH_FAILURE_REASONS: &[&str] = &[
    "missing",
    "malformed",
    "invalid_token",
    "bad_credentials",
    "wrong_password",
    "account_disabled",
    "other",
];

/// Drains histogram samples now and then, so memory stays bounded between scrapes.
pub fn spawn_upkeep() -> Option<tokio::task::JoinHandle<()>> {
    let exporter = EXPORTER.get()?.as_ref()?;
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            exporter.handle.run_upkeep();
        }
    }))
}

/// One answered request. `route` is the matched template (`/api/{user_id}/tasks/{id}`). One
/// histogram serves as the request counter too (its `_count`), as OpenTelemetry's HTTP server
/// duration does: one registry lookup per request instead of two.
pub fn request(method: &Method, route: &str, status: u16, elapsed: Duration) {
    metrics::histogram!(
        "taskapi_http_request_duration_seconds",
        "method" => method_label(method),
        "route" => route.to_owned(),
        "status" => status_label(status)
    )
    .record(elapsed.as_secs_f64());
}

pub fn database_error(kind: &'static str) {
    metrics::counter!("taskapi_database_errors_total", "kind" => kind).increment(1);
}

pub fn auth_failure(reason: &'static str) {
    metrics::counter!("taskapi_auth_failures_total", "reason" => reason).increment(1);
}

pub fn rate_limited(limit: &'static str) {
    metrics::counter!("taskapi_rate_limit_refusals_total", "limit" => limit).increment(1);
}

/// Static labels: no allocation per request, and no value a client can choose.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_label(status: u16) -> &'static str {
    const CODES: &[(u16, &str)] = &[
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (303, "303"),
        (304, "304"),
        (307, "307"),
        (308, "308"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (409, "409"),
        (410, "410"),
        (412, "412"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (503, "503"),
    ];
    CODES
        .iter()
        .find(|(code, _)| *code == status)
        .map_or("other", |(_, label)| label)
}

/// Equal without an early exit: hashing first makes the comparison length-independent.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: 404 when `METRICS_TOKEN` is unset, 401 without it as a bearer token.
pub async fn scrape(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(token) = &state.metrics_token else {
        return ApiError::NotFound("Not found").into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| same_secret(g.trim(), token.expose())) {
        return ApiError::Unauthorized("Invalid or missing metrics token").into_response();
    }
    let Some(exporter) = EXPORTER.get().and_then(Option::as_ref) else {
        return ApiError::internal("metrics recorder not installed").into_response();
    };
    let (in_use, idle) = state.store.pool_connections();
    metrics::gauge!("taskapi_db_pool_connections", "state" => "in_use").set(f64::from(in_use));
    metrics::gauge!("taskapi_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("taskapi_event_streams_open").set(state.events.open_streams() as f64);
    exporter.process.collect();
    exporter.handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        exporter.handle.render(),
    )
        .into_response()
}
