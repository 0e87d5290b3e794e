//! Better Auth sessions (§11) against a real Better Auth server (`tests/better-auth/`): its
//! bearer tokens and cookies, signed out, expired, forged, of a deleted user, cross-site, and
//! Better Auth unreachable — in both set-ups (taskapi reads Better Auth's database, or asks its
//! `get-session` URL) on both taskapi backends.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use base64::Engine;
use common::better_auth::{BetterAuth, COOKIE_NAME};
use common::{assert_detail, status_json, Backend, TestApp};
use reqwest::header::{COOKIE, ORIGIN, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sha2::Sha256;

/// Short, so sign-out and deletion are seen quickly; the default is 30 s.
const CACHE_TTL: Duration = Duration::from_secs(2);
const INVALID: &str = "Invalid or expired token";
/// In CORS_ORIGINS by default.
const FRONT_END: &str = "http://localhost:3000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `BETTER_AUTH_DATABASE_URL`: taskapi reads Better Auth's tables.
    Database,
    /// `BETTER_AUTH_URL`: taskapi asks Better Auth's `get-session`.
    Remote,
}

struct Ctx {
    app: TestApp,
    ba: BetterAuth,
    mode: Mode,
}

impl Ctx {
    async fn start(backend: Backend, mode: Mode) -> Option<Self> {
        let ba = BetterAuth::start(backend).await?;
        let (name, value) = match mode {
            Mode::Database => ("BETTER_AUTH_DATABASE_URL", ba.database.url()),
            Mode::Remote => ("BETTER_AUTH_URL", ba.base.clone()),
        };
        let ttl = format!("{}s", CACHE_TTL.as_secs());
        let app = TestApp::start_with(
            backend,
            &[(name, value.as_str()), ("BETTER_AUTH_CACHE_TTL", ttl.as_str())],
            Router::new(),
        )
        .await?;
        Some(Self { app, ba, mode })
    }

    async fn stop(self) {
        self.app.stop().await;
        self.ba.stop().await;
    }

    fn bearer(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.app.request(method, path).bearer_auth(token)
    }

    fn cookie(&self, value: &str, method: Method, path: &str) -> RequestBuilder {
        self.app
            .request(method, path)
            .header(COOKIE, format!("theme=dark; {COOKIE_NAME}={value}"))
    }

    async fn me(&self, req: RequestBuilder) -> (u16, Value) {
        status_json(req.send().await.expect("request")).await
    }
}

/// Better Auth's signature of a token with some secret: standard base64 of HMAC-SHA256.
fn sign(token: &str, secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(token.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("{token}.{signature}")
}

fn url_encoded(value: &str) -> String {
    value.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

async fn assert_refused(res: reqwest::Response, what: &str) {
    let www = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = status_json(res).await;
    assert_eq!((status, &body), (401, &json!({"detail": INVALID})), "{what}");
    assert_eq!(www.as_deref(), Some("Bearer"), "{what}");
}

/// Polls until a request stops succeeding, for at most the cache bound and a margin; returns
/// the last answer.
async fn until_refused(mut send: impl FnMut() -> RequestBuilder) -> reqwest::Response {
    let deadline = Instant::now() + CACHE_TTL + Duration::from_secs(3);
    loop {
        let res = send().send().await.expect("request");
        if res.status() != 200 || Instant::now() > deadline {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sign_up_and_in_credentials_work_everywhere(ctx: &Ctx) {
    let signed_up = ctx.ba.sign_up("ada@example.com", "Ada Lovelace").await;
    let session = ctx.ba.sign_in("ada@example.com").await;
    assert_eq!(session.user_id, signed_up.user_id);
    assert_eq!(
        session.bearer,
        sign(&session.token, common::SECRET),
        "Better Auth signs as we check"
    );
    assert_eq!(
        session.cookie,
        url_encoded(&session.bearer),
        "the cookie is URL-encoded"
    );

    let want = |body: &Value| {
        assert_eq!(body["user_id"], json!(session.user_id), "{body}");
        assert_eq!(body["email"], json!("ada@example.com"), "{body}");
        assert_eq!(body["name"], json!("Ada Lovelace"), "{body}");
        assert_eq!(body["is_active"], json!(true), "{body}");
    };
    for (what, req) in [
        (
            "signed bearer",
            ctx.bearer(&session.bearer, Method::GET, "/api/auth/me"),
        ),
        (
            "URL-encoded signed bearer",
            ctx.bearer(&session.cookie, Method::GET, "/api/auth/me"),
        ),
        ("bare bearer", ctx.bearer(&session.token, Method::GET, "/api/auth/me")),
        (
            "sign-up's bearer",
            ctx.bearer(&signed_up.bearer, Method::GET, "/api/auth/me"),
        ),
        ("cookie", ctx.cookie(&session.cookie, Method::GET, "/api/auth/me")),
        (
            "__Secure- cookie",
            ctx.app
                .request(Method::GET, "/api/auth/me")
                .header(COOKIE, format!("__Secure-{COOKIE_NAME}={}", session.cookie)),
        ),
    ] {
        let (status, body) = ctx.me(req).await;
        assert_eq!(status, 200, "{what}: {body}");
        want(&body);
    }

    // The task routes, by bearer and by cookie (a write with the front end's Origin).
    let tasks = format!("/api/{}/tasks", session.user_id);
    let (status, created) = ctx
        .me(ctx
            .bearer(&session.bearer, Method::POST, &tasks)
            .json(&json!({"title": "by bearer"})))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user_id"], json!(session.user_id));
    let (status, by_cookie) = ctx
        .me(ctx
            .cookie(&session.cookie, Method::POST, &tasks)
            .header(ORIGIN, FRONT_END)
            .json(&json!({"title": "by cookie"})))
        .await;
    assert_eq!(status, 201, "{by_cookie}");
    let path = format!("{tasks}/{}", by_cookie["id"].as_str().expect("id"));
    let (status, toggled) = ctx
        .me(ctx
            .cookie(&session.cookie, Method::PATCH, &format!("{path}/complete"))
            .header(ORIGIN, FRONT_END))
        .await;
    assert_eq!((status, &toggled["completed"]), (200, &json!(true)), "{toggled}");
    let (status, list) = ctx.me(ctx.cookie(&session.cookie, Method::GET, &tasks)).await;
    assert_eq!(status, 200, "{list}");
    let mut titles: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["by bearer", "by cookie"]);
    let res = ctx
        .cookie(&session.cookie, Method::DELETE, &path)
        .header(ORIGIN, FRONT_END)
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);

    // A JWT in the bearer header keeps working as before.
    let local = ctx.app.signup("local@example.com").await;
    let (status, body) = ctx.me(ctx.bearer(&local.token, Method::GET, "/api/auth/me")).await;
    assert_eq!((status, &body["user_id"]), (200, &json!(local.id)), "{body}");
}

async fn sign_out_stops_the_session_within_the_cache_bound(ctx: &Ctx) {
    ctx.ba.sign_up("grace@example.com", "Grace").await;
    let leaving = ctx.ba.sign_in("grace@example.com").await;
    let staying = ctx.ba.sign_in("grace@example.com").await;
    for s in [&leaving, &staying] {
        let (status, body) = ctx.me(ctx.cookie(&s.cookie, Method::GET, "/api/auth/me")).await;
        assert_eq!(status, 200, "{body}");
    }
    ctx.ba.sign_out(&leaving).await;
    let signed_out = Instant::now();
    let res = until_refused(|| ctx.bearer(&leaving.bearer, Method::GET, "/api/auth/me")).await;
    assert!(
        signed_out.elapsed() <= CACHE_TTL + Duration::from_secs(2),
        "stopped working within the cache bound ({:?})",
        signed_out.elapsed()
    );
    assert_refused(res, "signed-out session by bearer").await;
    assert_refused(
        ctx.cookie(&leaving.cookie, Method::GET, "/api/auth/me")
            .send()
            .await
            .expect("me"),
        "signed-out session by cookie",
    )
    .await;
    let (status, body) = ctx.me(ctx.bearer(&staying.bearer, Method::GET, "/api/auth/me")).await;
    assert_eq!(status, 200, "the other session still works: {body}");
}

async fn forged_foreign_and_unknown_credentials_are_refused(ctx: &Ctx) {
    let session = ctx.ba.sign_up("eve@example.com", "Eve").await;
    let (token, signature) = session.bearer.split_once('.').expect("signed");
    let mut flipped: Vec<char> = signature.chars().collect();
    flipped[3] = if flipped[3] == 'A' { 'B' } else { 'A' };
    let forged = format!("{token}.{}", flipped.into_iter().collect::<String>());
    let other_secret = sign(token, "another-secret-another-secret-another");
    let other_token = ctx.ba.sign_up("mallory@example.com", "Mallory").await;
    let swapped = format!("{token}.{}", other_token.bearer.split_once('.').expect("signed").1);
    let unknown_signed = sign("NoSuchSessionToken0123456789abcd", common::SECRET);
    for (what, credential) in [
        ("forged signature", forged.as_str()),
        ("token of another secret", other_secret.as_str()),
        ("another token's signature", swapped.as_str()),
        ("unknown signed token", unknown_signed.as_str()),
        ("unknown bare token", "NoSuchSessionToken0123456789abcd"),
        ("not a token", "a b"),
    ] {
        assert_refused(
            ctx.bearer(credential, Method::GET, "/api/auth/me")
                .send()
                .await
                .expect("me"),
            &format!("{what} as bearer"),
        )
        .await;
        assert_refused(
            ctx.cookie(&url_encoded(credential), Method::GET, "/api/auth/me")
                .send()
                .await
                .expect("me"),
            &format!("{what} as cookie"),
        )
        .await;
    }
    // A live session's bare token is a bearer credential, never a cookie (Better Auth always
    // signs its cookie and refuses a bare one).
    assert_refused(
        ctx.cookie(token, Method::GET, "/api/auth/me").send().await.expect("me"),
        "a live session's bare token as cookie",
    )
    .await;
    // Nobody was provisioned from a refused credential.
    assert!(ctx
        .app
        .store
        .account_by_id(&session.user_id)
        .await
        .expect("store")
        .is_none());
    // A malformed JWT is still a JWT: refused as one.
    assert_refused(
        ctx.bearer("a.b.c", Method::GET, "/api/auth/me")
            .send()
            .await
            .expect("me"),
        "malformed JWT",
    )
    .await;
    let (status, body) = ctx.me(ctx.app.request(Method::GET, "/api/auth/me")).await;
    assert_detail(status, &body, 401, "Authorization header missing");
}

async fn expired_session_is_refused(ctx: &Ctx) {
    let session = ctx.ba.sign_up("old@example.com", "Old").await;
    ctx.ba.expire(&session.token).await;
    for (what, req) in [
        ("bearer", ctx.bearer(&session.bearer, Method::GET, "/api/auth/me")),
        ("bare bearer", ctx.bearer(&session.token, Method::GET, "/api/auth/me")),
        ("cookie", ctx.cookie(&session.cookie, Method::GET, "/api/auth/me")),
    ] {
        assert_refused(req.send().await.expect("me"), &format!("expired session by {what}")).await;
    }
}

async fn session_of_a_deleted_user_is_refused(ctx: &Ctx) {
    let session = ctx.ba.sign_up("gone@example.com", "Gone").await;
    let tasks = format!("/api/{}/tasks", session.user_id);
    let (status, body) = ctx
        .me(ctx
            .bearer(&session.bearer, Method::POST, &tasks)
            .json(&json!({"title": "t"})))
        .await;
    assert_eq!(status, 201, "{body}");
    ctx.ba.delete_user(&session).await;
    let res = until_refused(|| ctx.bearer(&session.bearer, Method::GET, &tasks)).await;
    assert_refused(res, "session of a deleted user").await;
    assert_refused(
        ctx.cookie(&session.cookie, Method::GET, "/api/auth/me")
            .send()
            .await
            .expect("me"),
        "cookie of a deleted user",
    )
    .await;
}

async fn cross_site_cookie_writes_are_refused(ctx: &Ctx) {
    let session = ctx.ba.sign_up("csrf@example.com", "Target").await;
    let tasks = format!("/api/{}/tasks", session.user_id);
    let own_origin = ctx.app.base.clone();
    let refused = |origin: Option<&str>, method: Method, path: &str| {
        let mut req = ctx
            .cookie(&session.cookie, method, path)
            .json(&json!({"title": "forged"}));
        if let Some(origin) = origin {
            req = req.header(ORIGIN, origin);
        }
        req
    };
    for origin in [
        Some("http://evil.test"),
        Some("null"),
        Some("http://localhost:3001"),
        None,
    ] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let path = if method == Method::POST {
                tasks.clone()
            } else {
                format!("{tasks}/{}", uuid::Uuid::new_v4())
            };
            let (status, body) = ctx.me(refused(origin, method.clone(), &path)).await;
            assert_detail(status, &body, 403, "Cross-site request refused");
            let _ = &body;
        }
        let (status, body) = ctx
            .me(ctx
                .cookie(&session.cookie, Method::DELETE, "/api/auth/me")
                .header(ORIGIN, origin.unwrap_or("http://evil.test")))
            .await;
        assert_detail(status, &body, 403, "Cross-site request refused");
    }
    let (status, list) = ctx
        .me(ctx
            .cookie(&session.cookie, Method::GET, &tasks)
            .header(ORIGIN, "http://evil.test"))
        .await;
    assert_eq!(
        (status, &list),
        (200, &json!([])),
        "reads are not refused, and nothing was written"
    );

    // The front end's origin and the server's own are fine; so is a bearer token from anywhere.
    for origin in [FRONT_END, own_origin.as_str()] {
        let (status, body) = ctx
            .me(ctx
                .cookie(&session.cookie, Method::POST, &tasks)
                .header(ORIGIN, origin)
                .json(&json!({"title": origin})))
            .await;
        assert_eq!(status, 201, "{origin}: {body}");
    }
    let (status, body) = ctx
        .me(ctx
            .bearer(&session.bearer, Method::POST, &tasks)
            .header(ORIGIN, "http://evil.test")
            .json(&json!({"title": "bearer"})))
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = ctx.me(ctx.bearer(&session.bearer, Method::GET, &tasks)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
}

async fn foreign_user_id_is_refused(ctx: &Ctx) {
    let alice = ctx.ba.sign_up("alice@example.com", "Alice").await;
    let bob = ctx.ba.sign_up("bob@example.com", "Bob").await;
    let (status, _) = ctx
        .me(ctx
            .bearer(&bob.bearer, Method::POST, &format!("/api/{}/tasks", bob.user_id))
            .json(&json!({"title": "bob's"})))
        .await;
    assert_eq!(status, 201);
    let local = ctx.app.signup("carol@example.com").await;
    for victim in [bob.user_id.as_str(), local.id.as_str()] {
        let path = format!("/api/{victim}/tasks");
        for req in [
            ctx.bearer(&alice.bearer, Method::GET, &path),
            ctx.cookie(&alice.cookie, Method::GET, &path),
            ctx.cookie(&alice.cookie, Method::POST, &path)
                .header(ORIGIN, FRONT_END)
                .json(&json!({"title": "intrusion"})),
        ] {
            let (status, body) = ctx.me(req).await;
            assert_detail(
                status,
                &body,
                403,
                "Access denied: You can only access your own resources",
            );
        }
    }
    let (_, list) = ctx
        .me(ctx.bearer(&bob.bearer, Method::GET, &format!("/api/{}/tasks", bob.user_id)))
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

/// Reads an event stream until a chunk contains `want`; false if the stream ends or `within`
/// passes first.
async fn stream_shows(res: &mut reqwest::Response, want: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = String::new();
    while !seen.contains(want) {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return false,
        }
    }
    true
}

/// Whether an event stream ends within `within`.
async fn stream_ends(res: &mut reqwest::Response, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(_) => return true,
            Err(_) => return false,
        }
    }
}

async fn event_streams_take_sessions_and_end_at_sign_out(ctx: &Ctx) {
    let session = ctx.ba.sign_up("live@example.com", "Live").await;
    let events = format!("/api/{}/events", session.user_id);
    let mut by_cookie = ctx
        .cookie(&session.cookie, Method::GET, &events)
        .send()
        .await
        .expect("stream");
    assert_eq!(by_cookie.status(), 200);
    assert_eq!(by_cookie.headers()["content-type"], "text/event-stream");
    assert!(
        stream_shows(&mut by_cookie, "event: ready", Duration::from_secs(5)).await,
        "ready by cookie"
    );
    let query = format!("{events}?access_token={}", session.cookie);
    let mut by_query = ctx.app.request(Method::GET, &query).send().await.expect("stream");
    assert_eq!(by_query.status(), 200);
    assert!(
        stream_shows(&mut by_query, "event: ready", Duration::from_secs(5)).await,
        "ready by access_token"
    );

    let (status, _) = ctx
        .me(ctx
            .cookie(
                &session.cookie,
                Method::POST,
                &format!("/api/{}/tasks", session.user_id),
            )
            .header(ORIGIN, FRONT_END)
            .json(&json!({"title": "live"})))
        .await;
    assert_eq!(status, 201);
    assert!(
        stream_shows(&mut by_cookie, "event: change", Duration::from_secs(2)).await,
        "a change"
    );

    // Signed out: the streams' periodic credential check (every 5 s) ends them past the cache.
    ctx.ba.sign_out(&session).await;
    let bound = CACHE_TTL + Duration::from_secs(5) + Duration::from_secs(3);
    assert!(stream_ends(&mut by_cookie, bound).await, "the cookie stream ended");
    assert!(
        stream_ends(&mut by_query, Duration::from_secs(6)).await,
        "the access_token stream ended"
    );
    let res = ctx
        .cookie(&session.cookie, Method::GET, &events)
        .send()
        .await
        .expect("stream");
    assert_refused(res, "a stream of a signed-out session").await;
}

/// Better Auth unreachable: 503 for sessions only, while JWTs keep working; a forged signature
/// is still a 401 (it is checked before any lookup). In the database set-up, the Node.js server
/// itself stopping changes nothing: taskapi reads the database.
async fn better_auth_down_is_503_for_sessions_only(ctx: &Ctx) {
    let session = ctx.ba.sign_up("down@example.com", "Down").await;
    let fresh = ctx.ba.sign_in("down@example.com").await;
    let local = ctx.app.signup("local@example.com").await;
    let (status, _) = ctx.me(ctx.bearer(&session.bearer, Method::GET, "/api/auth/me")).await;
    assert_eq!(status, 200);
    ctx.ba.kill();
    let (status, body) = ctx.me(ctx.bearer(&session.bearer, Method::GET, "/api/auth/me")).await;
    assert_eq!(status, 200, "a cached session needs no call: {body}");
    match ctx.mode {
        Mode::Remote => {}
        Mode::Database => {
            let (status, body) = ctx.me(ctx.bearer(&fresh.bearer, Method::GET, "/api/auth/me")).await;
            assert_eq!(status, 200, "the database still answers: {body}");
            if ctx.app.backend == Backend::Sqlite {
                return;
            }
            ctx.ba.drop_postgres().await;
        }
    }
    tokio::time::sleep(CACHE_TTL + Duration::from_millis(200)).await;
    let down = "Service temporarily unavailable: sessions cannot be checked with Better Auth";
    for (what, req) in [
        (
            "known session",
            ctx.bearer(&session.bearer, Method::GET, "/api/auth/me"),
        ),
        ("cookie", ctx.cookie(&session.cookie, Method::GET, "/api/auth/me")),
        ("bare token", ctx.bearer(&session.token, Method::GET, "/api/auth/me")),
    ] {
        let started = Instant::now();
        let (status, body) = ctx.me(req).await;
        assert_detail(status, &body, 503, down);
        assert!(started.elapsed() < Duration::from_secs(4), "{what}: answered in time");
    }
    if ctx.mode == Mode::Remote {
        let (status, body) = ctx.me(ctx.bearer(&fresh.bearer, Method::GET, "/api/auth/me")).await;
        assert_detail(status, &body, 503, down);
    }
    let forged = sign(&session.token, "another-secret-another-secret-another");
    assert_refused(
        ctx.bearer(&forged, Method::GET, "/api/auth/me")
            .send()
            .await
            .expect("me"),
        "forged signature while Better Auth is down",
    )
    .await;
    let (status, body) = ctx.me(ctx.bearer(&local.token, Method::GET, "/api/auth/me")).await;
    assert_eq!(
        (status, &body["user_id"]),
        (200, &json!(local.id)),
        "HS256 still works: {body}"
    );
}

/// Better Auth's SQLite file missing (a volume not mounted): 503 for sessions, JWTs fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_database_missing_is_503_for_sessions_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = format!("sqlite://{}", dir.path().join("absent.db").display());
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[("BETTER_AUTH_DATABASE_URL", missing.as_str())],
        Router::new(),
    )
    .await
    .expect("app");
    let token = sign("SomeSessionToken0123456789abcdef", common::SECRET);
    let res = app
        .request(Method::GET, "/api/auth/me")
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    let (status, body) = status_json(res).await;
    assert_detail(
        status,
        &body,
        503,
        "Service temporarily unavailable: sessions cannot be checked with Better Auth",
    );
    assert!(
        !dir.path().join("absent.db").exists(),
        "taskapi never creates Better Auth's database"
    );
    let local = app.signup("local@example.com").await;
    let res = app
        .as_user(&local, Method::GET, "/api/auth/me")
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);
    app.stop().await;
}

/// Better Auth's tables in the API's own database (`BETTER_AUTH_DATABASE_URL` = `DATABASE_URL`):
/// taskapi's migrations live beside them (`users` is ours, `user` and `session` Better Auth's),
/// and a Better Auth session works for the API at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn better_auth_in_the_api_database() {
    let ba = BetterAuth::start(Backend::Sqlite).await.expect("Better Auth");
    let shared = ba.database.url();
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[
            ("DATABASE_URL", shared.as_str()),
            ("BETTER_AUTH_DATABASE_URL", shared.as_str()),
        ],
        Router::new(),
    )
    .await
    .expect("app");
    let session = ba.sign_up("shared@example.com", "Shared").await;
    let res = app
        .request(Method::GET, "/api/auth/me")
        .bearer_auth(&session.bearer)
        .send()
        .await
        .expect("me");
    let (status, body) = status_json(res).await;
    assert_eq!((status, &body["user_id"]), (200, &json!(session.user_id)), "{body}");
    assert_eq!(body["email"], "shared@example.com");
    let tasks = format!("/api/{}/tasks", session.user_id);
    let res = app
        .request(Method::POST, &tasks)
        .bearer_auth(&session.bearer)
        .json(&json!({"title": "beside Better Auth"}))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 201);
    let res = app
        .request(Method::GET, &tasks)
        .bearer_auth(&session.bearer)
        .send()
        .await
        .expect("list");
    let (status, listed) = status_json(res).await;
    assert_eq!((status, listed[0]["title"].as_str()), (200, Some("beside Better Auth")));
    // Better Auth still signs in on the same file after taskapi's migrations.
    ba.sign_up("second@example.com", "Second").await;
    app.stop().await;
    ba.stop().await;
}

/// Both set-ups configured: the database answers, the URL (here nothing listens) is not asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_set_ups_the_database_is_used() {
    let ba = BetterAuth::start(Backend::Sqlite).await.expect("Better Auth");
    let session = ba.sign_up("both@example.com", "Both").await;
    let database = ba.database.url();
    let nowhere = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[
            ("BETTER_AUTH_DATABASE_URL", database.as_str()),
            ("BETTER_AUTH_URL", nowhere.as_str()),
        ],
        Router::new(),
    )
    .await
    .expect("app");
    let res = app
        .request(Method::GET, "/api/auth/me")
        .bearer_auth(&session.bearer)
        .send()
        .await
        .expect("me");
    let (status, body) = status_json(res).await;
    assert_eq!((status, &body["user_id"]), (200, &json!(session.user_id)), "{body}");
    app.stop().await;
    ba.stop().await;
}

/// A Better Auth that accepts connections and never answers: 503 within the timeout (3 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_session_that_never_answers_is_503_within_the_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let app = TestApp::start_with(Backend::Sqlite, &[("BETTER_AUTH_URL", url.as_str())], Router::new())
        .await
        .expect("app");
    let started = Instant::now();
    let res = app
        .request(Method::GET, "/api/auth/me")
        .bearer_auth("SomeSessionToken0123456789abcdef")
        .send()
        .await
        .expect("me");
    let (status, body) = status_json(res).await;
    assert_detail(
        status,
        &body,
        503,
        "Service temporarily unavailable: sessions cannot be checked with Better Auth",
    );
    let took = started.elapsed();
    assert!(
        (Duration::from_millis(2900)..Duration::from_secs(5)).contains(&took),
        "took {took:?}"
    );
    held.abort();
    app.stop().await;
}

macro_rules! better_auth_tests {
    ($($name:ident),* $(,)?) => {
        macro_rules! in_mode {
            ($backend:expr, $mode:expr) => {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let Some(ctx) = Ctx::start($backend, $mode).await else { return };
                        super::$name(&ctx).await;
                        ctx.stop().await;
                    }
                )*
            };
        }
        mod sqlite_database { use super::*; in_mode!(Backend::Sqlite, Mode::Database); }
        mod sqlite_remote { use super::*; in_mode!(Backend::Sqlite, Mode::Remote); }
        mod postgres_database { use super::*; in_mode!(Backend::Postgres, Mode::Database); }
        mod postgres_remote { use super::*; in_mode!(Backend::Postgres, Mode::Remote); }
    };
}

better_auth_tests!(
    sign_up_and_in_credentials_work_everywhere,
    sign_out_stops_the_session_within_the_cache_bound,
    forged_foreign_and_unknown_credentials_are_refused,
    expired_session_is_refused,
    session_of_a_deleted_user_is_refused,
    cross_site_cookie_writes_are_refused,
    foreign_user_id_is_refused,
    better_auth_down_is_503_for_sessions_only,
    event_streams_take_sessions_and_end_at_sign_out,
);
