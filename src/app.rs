//! Application state, the router with its middleware, and the server loop: the same pieces for
//! `taskapi serve` and for the tests, which start it on port 0.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::get;
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::accounts::AccountCache;
use crate::auth::jwks::Jwks;
use crate::auth::password::Passwords;
use crate::auth::token::Tokens;
use crate::config::{Config, Secret};
use crate::error::ApiError;
use crate::http::{self, json::BODY_LIMIT, middleware as mw, service, webapp};
use crate::store::Store;

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every handler can reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub accounts: AccountCache,
    /// How long an `Idempotency-Key`'s answer is kept.
    pub idempotency_ttl: Duration,
    /// How long tombstones are kept, and so how old a sync cursor may be.
    pub sync_retention: Duration,
    /// `METRICS_TOKEN`: `/metrics` answers only with it.
    pub metrics_token: Option<Secret>,
}

impl AppState {
    pub fn new(config: &Config, secret: &Secret, store: Arc<dyn Store>) -> Result<Self, String> {
        let jwks = config
            .jwks_url
            .clone()
            .map(Jwks::new)
            .transpose()
            .map_err(|e| format!("AUTH_JWKS_URL: {e}"))?;
        if config.metrics_token.is_some() && !http::metrics::install() {
            return Err("METRICS_TOKEN: the metrics recorder cannot be installed".to_owned());
        }
        Ok(Self {
            store,
            tokens: Tokens::new(
                secret.expose(),
                config.jwt_issuer.clone(),
                config.jwt_expires_in,
                jwks,
                config.external_issuer.clone(),
                config.external_audience.clone(),
            ),
            passwords: Passwords::new(),
            accounts: AccountCache::default(),
            idempotency_ttl: config.idempotency_ttl,
            sync_retention: config.sync_retention,
            metrics_token: config.metrics_token.clone(),
        })
    }
}

fn cors(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            http::TOTAL_COUNT.clone(),
            header::LOCATION,
            header::ETAG,
            http::conditional::IDEMPOTENT_REPLAYED.clone(),
        ])
        .max_age(Duration::from_secs(600))
}

/// Responses over 1 KiB, compressed as `Accept-Encoding` asks (gzip, br, zstd); never event
/// streams, whose events must reach the client as they happen, nor images (already compressed).
fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = SizeAbove::new(1024)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    CompressionLayer::new().compress_when(predicate)
}

/// The whole application: API, service routes, docs and web app, with the middleware stack.
pub fn router(state: Arc<AppState>, cors_origins: &[String]) -> Router {
    router_with(state, cors_origins, Router::new())
}

/// [`router`] with extra routes under the same middleware (the tests add one that panics).
pub fn router_with(state: Arc<AppState>, cors_origins: &[String], extra: Router<Arc<AppState>>) -> Router {
    let origins: Arc<[HeaderValue]> = cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let allowed = origins.clone();
    extra
        .route("/", get(service::root))
        .route("/health", get(service::health))
        .route("/health/ready", get(service::ready))
        .route("/metrics", get(http::metrics::scrape))
        .route("/app", get(webapp::redirect))
        .route("/app/", get(webapp::index))
        .route("/app/{*path}", get(webapp::asset))
        .merge(http::api_router().route_layer(middleware::from_fn_with_state(state.clone(), mw::fail_fast)))
        .merge(http::openapi::router())
        .fallback(|| async { ApiError::NotFound("Not found") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(mw::panic_response))
        .layer(cors(&origins))
        .layer(middleware::from_fn(move |req, next| {
            mw::cors_only_for_allowed(allowed.clone(), req, next)
        }))
        .layer(compression())
        .layer(middleware::from_fn(mw::request_context))
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
/// [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(
        async move {
            shutdown.await;
            let _ = stopping_tx.send(true);
        },
    );
    let grace = async move {
        let _ = stopping_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = grace => {
            tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; stopping anyway");
            Ok(())
        }
    }
}

/// How often expired idempotency keys and old tombstones are removed.
const UPKEEP_EVERY: Duration = Duration::from_secs(600);

/// Removes expired idempotency keys, tombstones older than the sync retention and rate-limit keys
/// whose attempts have all left the window, now and then every [`UPKEEP_EVERY`], until the
/// returned task is aborted. Several instances doing it at once is harmless.
pub fn spawn_upkeep(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            let now = crate::domain::Timestamp::now();
            let retention = i64::try_from(state.sync_retention.as_micros()).unwrap_or(i64::MAX);
            let horizon =
                crate::domain::Timestamp::from_micros(now.as_micros().saturating_sub(retention)).unwrap_or(now);
            match state.store.purge(now, horizon).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "purged expired idempotency keys and tombstones"),
                Err(e) => tracing::warn!(error = %e, "purge of expired idempotency keys and tombstones failed"),
            }
            if let Err(e) = state.store.purge_limits().await {
                tracing::warn!(error = %e, "purge of old rate-limit keys failed");
            }
        }
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
