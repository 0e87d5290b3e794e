//! The test harness: the real server on a random port, on a fresh database of either backend.
//!
//! PostgreSQL tests take their server from `TEST_DATABASE_URL` (default: the local server) and
//! create a database of their own. When none is reachable they print a skip line and pass, unless
//! `REQUIRE_POSTGRES=1`, when they fail. With `TEST_PGBOUNCER_URL` (a PgBouncer in transaction
//! mode in front of that server) the server under test reaches its database through the pooler,
//! with `pgbouncer=true`, and gets the server itself as `DATABASE_DIRECT_URL`.

#![allow(dead_code)]

pub mod better_auth;
pub mod skip;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};
use taskapi::app::{self, AppState};
use taskapi::config::{Config, Secret};
use taskapi::store::{self, Store};
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
pub const PASSWORD: &str = "password123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// The URL for messages: a password never shows up in the output.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "TEST_DATABASE_URL".to_owned(),
    }
}

/// A fresh PostgreSQL database, or `None` (skip) when no server is reachable.
pub async fn fresh_postgres_database() -> Option<(String, String)> {
    let admin = admin_url();
    let connect = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&admin)).await;
    let mut conn = match connect {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) if !postgres_required() => {
            skip::record(&format!(
                "PostgreSQL not reachable at {} ({e})",
                without_password(&admin)
            ));
            return None;
        }
        Err(_) if !postgres_required() => {
            skip::record(&format!(
                "PostgreSQL not reachable at {} (timed out)",
                without_password(&admin)
            ));
            return None;
        }
        Ok(Err(e)) => panic!(
            "REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {}: {e}",
            without_password(&admin)
        ),
        Err(_) => panic!(
            "REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {}: timed out",
            without_password(&admin)
        ),
    };
    let name = format!("taskapi_test_{}", uuid::Uuid::new_v4().simple());
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some((name, url.to_string()))
}

/// `TEST_PGBOUNCER_URL`, when the suite runs through a pooler.
fn pgbouncer_url() -> Option<String> {
    std::env::var("TEST_PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The configuration that points a server at `direct` (a database URL on the test server):
/// through the pooler when there is one.
pub fn database_vars(direct: &str) -> Vec<(String, String)> {
    let Some(pooler) = pgbouncer_url() else {
        return vec![("DATABASE_URL".to_owned(), direct.to_owned())];
    };
    let direct_url = url::Url::parse(direct).expect("database URL");
    let mut pooled = url::Url::parse(&pooler).expect("TEST_PGBOUNCER_URL is a URL");
    pooled.set_path(direct_url.path());
    pooled.set_query(Some("pgbouncer=true"));
    vec![
        ("DATABASE_URL".to_owned(), pooled.to_string()),
        ("DATABASE_DIRECT_URL".to_owned(), direct.to_owned()),
    ]
}

pub async fn drop_postgres_database(name: &str) {
    if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
        let _ = conn
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
            .await;
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub state: Arc<AppState>,
    /// The database itself (for PostgreSQL: on the test server, never through a pooler).
    pub database_url: String,
    /// The extra configuration variables it was started with.
    vars: Vec<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

/// An account made through the API.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, &[], Router::new()).await
    }

    /// Starts with extra configuration variables and extra routes (under the same middleware).
    pub async fn start_with(backend: Backend, vars: &[(&str, &str)], extra: Router<Arc<AppState>>) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("test.db").display()), None),
            Backend::Postgres => {
                let (name, url) = fresh_postgres_database().await?;
                (url, Some(name))
            }
        };
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Some(Self::launch(backend, database_url, pg_database, dir, vars, extra).await)
    }

    /// A second server on this one's database (another instance: its own pool, caches and port),
    /// with the same extra variables and no extra routes. Stopping it leaves the database alone;
    /// stop it before this one, which drops the database.
    pub async fn start_sibling(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::launch(
            self.backend,
            self.database_url.clone(),
            None,
            dir,
            self.vars.clone(),
            Router::new(),
        )
        .await
    }

    /// Configures, connects, migrates and serves on a random port. `pg_database` is the database
    /// this server owns (dropped on [`TestApp::stop`]).
    async fn launch(
        backend: Backend,
        database_url: String,
        pg_database: Option<String>,
        dir: tempfile::TempDir,
        vars: Vec<(String, String)>,
        extra: Router<Arc<AppState>>,
    ) -> Self {
        taskapi::install_crypto_provider();
        let mut map: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".to_owned(), database_url.clone()),
            ("BETTER_AUTH_SECRET".to_owned(), SECRET.to_owned()),
            ("DB_MAX_CONNECTIONS".to_owned(), "5".to_owned()),
            ("RATE_LIMIT_SIGNUP_PER_MINUTE".to_owned(), "0".to_owned()),
        ]);
        if backend == Backend::Postgres {
            map.extend(database_vars(&database_url));
        }
        map.extend(vars.iter().cloned());
        let config = Config::from_lookup(|k| map.get(k).cloned()).expect("test configuration");
        let store = store::connect(&config).await.expect("connect to the test database");
        store.migrate_up().await.expect("migrate");
        let state = Arc::new(AppState::new(&config, &Secret::new(SECRET.to_owned()), store.clone()).expect("state"));
        let router = app::router_with(state.clone(), &config.cors_origins, extra);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let changes = app::spawn_events(&state, &config);
        let streams = state.clone();
        let server = tokio::spawn(async move {
            let _ = app::serve(listener, router, async move {
                let _ = rx.await;
                taskapi::events::places::end_all(&streams.events, streams.store.as_ref()).await;
            })
            .await;
            changes.abort();
        });
        Self {
            backend,
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            store,
            state,
            database_url,
            vars,
            shutdown: Some(tx),
            server: Some(server),
            pg_database,
            _dir: dir,
        }
    }

    /// Stops the server and removes the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), server).await;
        }
        self.store.close().await;
        if let Some(name) = self.pg_database.take() {
            drop_postgres_database(&name).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with the user's bearer token.
    pub fn as_user(&self, user: &TestUser, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(&user.token)
    }

    pub async fn signup(&self, email: &str) -> TestUser {
        let res = self
            .request(Method::POST, "/api/auth/signup")
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("signup request");
        assert_eq!(res.status(), 201, "signup of {email}");
        let body: Value = res.json().await.expect("signup body");
        TestUser {
            id: body["user_id"].as_str().expect("user_id").to_owned(),
            email: body["email"].as_str().expect("email").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    pub async fn create_task(&self, user: &TestUser, body: Value) -> Value {
        let res = self
            .as_user(user, Method::POST, &format!("/api/{}/tasks", user.id))
            .json(&body)
            .send()
            .await
            .expect("create task");
        assert_eq!(res.status(), 201, "create task {body}");
        res.json().await.expect("task body")
    }

    /// A request as `user`, with an optional JSON body: its status and JSON body.
    pub async fn call(&self, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.as_user(user, method, path);
        if let Some(body) = body {
            req = req.json(&body);
        }
        status_json(req.send().await.expect("request")).await
    }

    /// A GET as `user` that must answer 200: the response, its headers and body still to read.
    pub async fn get_ok(&self, user: &TestUser, path: &str) -> Response {
        let res = self.as_user(user, Method::GET, path).send().await.expect("GET request");
        assert_eq!(res.status(), 200, "GET {path}");
        res
    }

    pub async fn create_category(&self, user: &TestUser, name: &str) -> Value {
        let res = self
            .as_user(user, Method::POST, &format!("/api/{}/categories", user.id))
            .json(&json!({"name": name}))
            .send()
            .await
            .expect("create category");
        assert_eq!(res.status(), 201, "create category {name}");
        res.json().await.expect("category body")
    }
}

/// A connection to a test app's database that goes around the server, as an import or a
/// hand-written fix would: on SQLite it waits up to 30 s for the server's writer to let go.
pub enum DirectDb {
    Sqlite(sqlx::SqliteConnection),
    Postgres(PgConnection),
}

impl DirectDb {
    pub async fn connect(backend: Backend, url: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                let options = url
                    .parse::<sqlx::sqlite::SqliteConnectOptions>()
                    .expect("SQLite URL")
                    .busy_timeout(Duration::from_secs(30));
                Self::Sqlite(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .expect("open SQLite"),
                )
            }
            Backend::Postgres => Self::Postgres(PgConnection::connect(url).await.expect("connect")),
        }
    }

    /// Runs one statement; the rows it touched, or the database's refusal.
    pub async fn execute(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            Self::Sqlite(conn) => sqlx::query(sql).execute(conn).await.map(|r| r.rows_affected()),
            Self::Postgres(conn) => sqlx::query(sql).execute(conn).await.map(|r| r.rows_affected()),
        }
    }

    /// The one number a query returns.
    pub async fn number(&mut self, sql: &str) -> i64 {
        match self {
            Self::Sqlite(conn) => sqlx::query_scalar(sql).fetch_one(conn).await.expect(sql),
            Self::Postgres(conn) => sqlx::query_scalar(sql).fetch_one(conn).await.expect(sql),
        }
    }
}

impl TestApp {
    /// A [`DirectDb`] on this app's database.
    pub async fn direct_db(&self) -> DirectDb {
        DirectDb::connect(self.backend, &self.database_url).await
    }
}

/// The titles of a JSON list of tasks, sorted.
pub fn titles(tasks: &Value) -> Vec<&str> {
    let mut t: Vec<&str> = tasks
        .as_array()
        .expect("a list of tasks")
        .iter()
        .map(|t| t["title"].as_str().expect("title"))
        .collect();
    t.sort_unstable();
    t
}

/// `/api/{user_id}/tasks`.
pub fn tasks_url(user: &TestUser) -> String {
    format!("/api/{}/tasks", user.id)
}

/// `/api/{user_id}/tasks/{id}` of a task as the API returned it.
pub fn task_url(user: &TestUser, task: &Value) -> String {
    format!("/api/{}/tasks/{}", user.id, task["id"].as_str().expect("task id"))
}

/// Status and JSON body of a response (`Value::Null` when the body is empty).
pub async fn status_json(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, body)
}

/// Runs futures concurrently (each spawned on the test runtime) and returns their outputs in order.
pub async fn join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// Asserts a 422 whose detail list names `loc` (e.g. `["body", "title"]`).
pub fn assert_validation(status: u16, body: &Value, loc: &[&str]) {
    assert_eq!(status, 422, "expected 422 for {loc:?}, got {body}");
    let list = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("detail is a list: {body}"));
    let want: Vec<Value> = loc.iter().map(|s| json!(s)).collect();
    let found = list
        .iter()
        .find(|e| e["loc"].as_array() == Some(&want))
        .unwrap_or_else(|| panic!("no error at {loc:?} in {body}"));
    assert!(found["msg"].as_str().is_some_and(|m| !m.is_empty()), "msg: {found}");
    assert!(found["type"].as_str().is_some_and(|t| !t.is_empty()), "type: {found}");
}

/// Asserts a `{"detail": "<text>"}` error body.
pub fn assert_detail(status: u16, body: &Value, want_status: u16, want_detail: &str) {
    assert_eq!(status, want_status, "body: {body}");
    assert_eq!(body, &json!({"detail": want_detail}));
}

/// Runs each named `async fn(&TestApp)` against SQLite and PostgreSQL, on a fresh database each.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::start($crate::common::Backend::Sqlite).await.expect("sqlite app");
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::common::TestApp::start($crate::common::Backend::Postgres).await else { return };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}
