//! Application state, the router with its middleware, and the server loop: the same pieces for
//! `taskapi serve` and for the tests, which start it on port 0.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{header, HeaderName, HeaderValue, Method, Request};
use axum::routing::get;
use axum::{middleware, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::accounts::AccountCache;
use crate::auth::better_auth::BetterAuthSessions;
use crate::auth::jwks::Jwks;
use crate::auth::password::Passwords;
use crate::auth::token::Tokens;
use crate::config::{Config, Secret};
use crate::error::ApiError;
use crate::events::announcer::Announcer;
use crate::events::{listener, Hub};
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
    /// Better Auth session checks, when configured (§11).
    pub better_auth: Option<BetterAuthSessions>,
    /// The CORS origins: besides the server's own, the only ones a cookie-authenticated write
    /// may come from.
    pub cors_origins: Vec<String>,
    /// The open event streams of this process.
    pub events: Arc<Hub>,
    /// On PostgreSQL: tells the other instances whose objects this one changed.
    pub announcer: Option<Arc<Announcer>>,
}

impl AppState {
    /// An account changed through this process (a password, a deletion): what is cached of it
    /// goes, and its event streams here check their credential at once.
    pub fn account_changed(&self, user_id: &str) {
        self.accounts.invalidate(user_id);
        self.events.account_changed(user_id);
    }

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
        // This process, as other instances see it (its change announcements, its streams' places).
        let instance = uuid::Uuid::now_v7();
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
            better_auth: BetterAuthSessions::new(&config.better_auth, secret.expose())?,
            cors_origins: config.cors_origins.clone(),
            events: Hub::new(config.sse_max_per_user, instance),
            announcer: matches!(config.database, crate::config::Database::Postgres(_))
                .then(|| Announcer::new(instance)),
        })
    }
}

/// The allowed origins as a predicate over a shared list: the layer is cloned for every request,
/// and a list of its own would be copied each time.
fn cors(origins: Arc<[HeaderValue]>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| origins.contains(origin)))
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

/// The whole application: API, service routes, docs and web app, with the middleware stack.
pub fn router(state: Arc<AppState>, cors_origins: &[String]) -> Router {
    router_with(state, cors_origins, Router::new())
}

/// [`router`] with extra routes under the same middleware (the tests add one that panics).
///
/// The middleware is built once around the routes rather than with `Router::layer`, which wraps
/// every route in each layer: axum clones a route's service for every request, and layers added
/// that way are boxed one inside the other, so every request paid an allocation per layer. Only
/// [`mw::around_route`] runs inside the router, where the matched route is known.
pub fn router_with(state: Arc<AppState>, cors_origins: &[String], extra: Router<Arc<AppState>>) -> Router {
    let origins: Arc<[HeaderValue]> = cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let allowed = origins.clone();
    let routes = extra
        .route("/", get(service::root))
        .route("/health", get(service::health))
        .route("/health/ready", get(service::ready))
        .route("/metrics", get(http::metrics::scrape))
        .route("/app", get(webapp::redirect))
        .route("/app/", get(webapp::index))
        .route("/app/{*path}", get(webapp::asset))
        .merge(http::api_router())
        .merge(http::openapi::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), mw::around_route))
        .fallback(|| async { ApiError::NotFound("Not found") })
        .method_not_allowed_fallback(mw::method_not_allowed)
        .with_state(state);
    let stack = ServiceBuilder::new()
        .layer(middleware::from_fn(move |req, next| {
            mw::request_context(allowed.clone(), req, next)
        }))
        .layer(http::compression::CompressionExceptStreams)
        .layer(cors(origins))
        .layer(CatchPanicLayer::custom(mw::panic_response))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .service(routes);
    Router::new().fallback_service(stack)
}

/// Serves HTTP/1.1 until `shutdown` resolves, then lets in-flight requests finish for at most
/// [`SHUTDOWN_GRACE`].
///
/// The accept loop is hyper's HTTP/1 connection itself rather than `axum::serve`, whose
/// protocol-sniffing connection reads a request's first bytes apart and so makes every
/// connection's read buffer grow to 16 KiB, with an HTTP/2 state beside it: an idle event
/// stream costs half as much this way. (Browsers speak HTTP/2 only over TLS, which a proxy in
/// front ends; the proxy talks HTTP/1.1 to us.)
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = GracefulShutdown::new();
    let http = hyper::server::conn::http1::Builder::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses and events are written whole: nothing gains from Nagle's delay.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY could not be set");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().call(request)
        });
        let connection = connections.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    // No new connections; idle ones close now, busy ones when their response is done.
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
    Ok(())
}

/// A failed `accept`: a connection that went away before it was taken is nothing; anything
/// else (out of file descriptors, most likely) is logged, and accepting pauses for a second so
/// that the loop does not spin while nothing can be accepted.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
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

/// The tasks that carry changes between instances.
pub struct EventTasks(Vec<tokio::task::JoinHandle<()>>);

impl EventTasks {
    pub fn abort(self) {
        self.0.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// On PostgreSQL, announces this instance's changes to the others and listens for theirs and for
/// account changes, telling this process's streams and account cache, and renews its streams'
/// places. On SQLite, polls for the changes other processes write to the same file.
pub fn spawn_events(state: &Arc<AppState>, config: &Config) -> EventTasks {
    let (crate::config::Database::Postgres(target), Some(announcer)) = (&config.database, &state.announcer) else {
        return EventTasks(vec![crate::events::poller::spawn(
            state.events.clone(),
            state.store.clone(),
        )]);
    };
    // LISTEN needs a session of its own, and the announcer's statements must not go through a
    // pooler that cannot carry them: both use the server itself when it is given.
    let options = config
        .database_direct
        .as_deref()
        .cloned()
        .unwrap_or_else(|| target.options.clone());
    let (on_account, on_reconnect) = (state.clone(), state.clone());
    let hooks = listener::Hooks {
        account_changed: Box::new(move |id| on_account.accounts.invalidate(id)),
        reconnected: Box::new(move || on_reconnect.accounts.invalidate_all()),
    };
    // One connection of its own, so announcing never waits behind requests for the pool.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options.clone());
    EventTasks(vec![
        listener::spawn(options, announcer.instance, state.events.clone(), hooks),
        announcer.spawn(pool),
        crate::events::places::spawn_renewal(state.events.clone(), state.store.clone()),
    ])
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
