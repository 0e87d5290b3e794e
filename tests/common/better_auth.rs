//! A real Better Auth server for the tests: `tests/better-auth/server.mjs` under Node.js, on a
//! fresh database of its own (a SQLite file or a PostgreSQL database), on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};

use super::{drop_postgres_database, fresh_postgres_database, Backend, PASSWORD, SECRET};

pub const COOKIE_NAME: &str = "better-auth.session_token";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/better-auth")
}

/// Where Better Auth keeps its tables.
#[derive(Debug, Clone)]
pub enum AuthDatabase {
    Sqlite(PathBuf),
    Postgres { name: String, url: String },
}

impl AuthDatabase {
    /// The value for taskapi's `BETTER_AUTH_DATABASE_URL`.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres { url, .. } => url.clone(),
        }
    }
}

/// A session as Better Auth hands it out on sign-up or sign-in.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    /// The bare token (the JSON body's `token`).
    pub token: String,
    /// `token.signature`, as the bearer plugin's `set-auth-token` header gives it.
    pub bearer: String,
    /// The cookie's value as set, URL-encoded.
    pub cookie: String,
}

impl Session {
    pub fn cookie_header(&self) -> String {
        format!("{COOKIE_NAME}={}", self.cookie)
    }
}

pub struct BetterAuth {
    pub base: String,
    pub database: AuthDatabase,
    child: std::sync::Mutex<Option<Child>>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl BetterAuth {
    /// Starts Better Auth with the tests' shared secret on a fresh database of the given kind;
    /// `None` when PostgreSQL is wanted and not reachable (and not required).
    pub async fn start(kind: Backend) -> Option<Self> {
        taskapi::install_crypto_provider();
        let fixture = fixture_dir();
        ensure_packages(&fixture);
        let dir = tempfile::tempdir().expect("temp dir");
        let database = match kind {
            Backend::Sqlite => AuthDatabase::Sqlite(dir.path().join("better-auth.db")),
            Backend::Postgres => {
                let (name, url) = fresh_postgres_database().await?;
                AuthDatabase::Postgres { name, url }
            }
        };
        let location = match &database {
            AuthDatabase::Sqlite(path) => path.display().to_string(),
            AuthDatabase::Postgres { url, .. } => url.clone(),
        };
        let child = Command::new("node")
            .arg(fixture.join("server.mjs"))
            .current_dir(&fixture)
            .env("BETTER_AUTH_SECRET", SECRET)
            .env("BETTER_AUTH_DATABASE", location)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start `node` (Node.js 20 or newer is needed for the Better Auth tests)");
        // Killed on drop from here on, also when a test fails.
        let mut ba = Self {
            base: String::new(),
            database,
            child: std::sync::Mutex::new(Some(child)),
            client: reqwest::Client::new(),
            _dir: dir,
        };
        let stdout = ba
            .child
            .get_mut()
            .ok()
            .and_then(|c| c.as_mut())
            .and_then(|c| c.stdout.take())
            .expect("node stdout");
        let first_line = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            // Keep draining, so Better Auth's own output can never fill the pipe and stall it.
            std::thread::spawn(move || lines.for_each(drop));
            first
        });
        let first_line = tokio::time::timeout(Duration::from_secs(60), first_line)
            .await
            .expect("Better Auth started within 60 s")
            .expect("read node's output")
            .unwrap_or_default();
        ba.base = first_line
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("Better Auth did not start: {first_line:?}"))
            .to_owned();
        Some(ba)
    }

    /// Stops the Node.js server (the database stays).
    pub fn kill(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server and removes its PostgreSQL database.
    pub async fn stop(self) {
        self.kill();
        if let AuthDatabase::Postgres { name, .. } = &self.database {
            drop_postgres_database(name).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn session_from(&self, res: reqwest::Response, email: &str) -> Session {
        let status = res.status();
        let bearer = res
            .headers()
            .get("set-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let cookie = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{COOKIE_NAME}=")))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned());
        let body: Value = res.json().await.expect("Better Auth JSON");
        assert_eq!(status, 200, "Better Auth answered {body}");
        Session {
            user_id: body["user"]["id"].as_str().expect("user.id").to_owned(),
            email: email.to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
            bearer: bearer.expect("set-auth-token header (bearer plugin)"),
            cookie: cookie.expect("session cookie"),
        }
    }

    pub async fn sign_up(&self, email: &str, name: &str) -> Session {
        let res = self
            .client
            .post(self.url("/api/auth/sign-up/email"))
            .json(&json!({"email": email, "password": PASSWORD, "name": name}))
            .send()
            .await
            .expect("sign-up request");
        self.session_from(res, email).await
    }

    pub async fn sign_in(&self, email: &str) -> Session {
        let res = self
            .client
            .post(self.url("/api/auth/sign-in/email"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("sign-in request");
        self.session_from(res, email).await
    }

    /// A call with the session's cookie, from Better Auth's own origin.
    async fn call(&self, session: &Session, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .client
            .post(self.url(path))
            .header(COOKIE, session.cookie_header())
            .header(ORIGIN, &self.base)
            .json(&body)
            .send()
            .await
            .expect("Better Auth request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn sign_out(&self, session: &Session) {
        let (status, body) = self.call(session, "/api/auth/sign-out", json!({})).await;
        assert_eq!((status, &body["success"]), (200, &json!(true)), "sign-out: {body}");
    }

    pub async fn delete_user(&self, session: &Session) {
        let (status, body) = self
            .call(session, "/api/auth/delete-user", json!({"password": PASSWORD}))
            .await;
        assert_eq!((status, &body["success"]), (200, &json!(true)), "delete-user: {body}");
    }

    /// Moves a session's expiry into the past, in Better Auth's own table.
    pub async fn expire(&self, token: &str) {
        let changed = match &self.database {
            AuthDatabase::Sqlite(path) => {
                let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("open Better Auth's SQLite database");
                let done =
                    sqlx::query(r#"UPDATE "session" SET "expiresAt" = '2020-01-01T00:00:00.000Z' WHERE "token" = $1"#)
                        .bind(token)
                        .execute(&mut conn)
                        .await
                        .expect("expire the session");
                done.rows_affected()
            }
            AuthDatabase::Postgres { url, .. } => {
                let mut conn = PgConnection::connect(url)
                    .await
                    .expect("connect to Better Auth's database");
                let done =
                    sqlx::query(r#"UPDATE "session" SET "expiresAt" = now() - interval '1 hour' WHERE "token" = $1"#)
                        .bind(token)
                        .execute(&mut conn)
                        .await
                        .expect("expire the session");
                done.rows_affected()
            }
        };
        assert_eq!(changed, 1, "one session expired");
    }

    /// Makes Better Auth's PostgreSQL database unreachable: dropped, its connections ended.
    pub async fn drop_postgres(&self) {
        if let AuthDatabase::Postgres { name, .. } = &self.database {
            drop_postgres_database(name).await;
        }
    }
}

impl Drop for BetterAuth {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Installs the Better Auth test server's packages from its lockfile the first time they are
/// needed (`npm ci`, once per test binary), so that `cargo test` alone runs the whole suite on a
/// fresh machine. better-sqlite3 builds from source against the installed Node.js headers.
fn ensure_packages(fixture: &std::path::Path) {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if fixture.join("node_modules/better-auth").is_dir() {
        return;
    }
    eprintln!(
        "installing the Better Auth test server's packages: npm ci in {}",
        fixture.display()
    );
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(fixture);
    if std::env::var_os("npm_config_nodedir").is_none() && std::path::Path::new("/usr/include/node/node.h").is_file() {
        npm.env("npm_config_nodedir", "/usr");
    }
    let status = npm
        .status()
        .expect("run npm (Node.js and npm are needed for the Better Auth tests)");
    assert!(
        status.success() && fixture.join("node_modules/better-auth").is_dir(),
        "npm ci in {} failed: {status}",
        fixture.display()
    );
}
