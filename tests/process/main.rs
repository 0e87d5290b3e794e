//! The `taskapi` binary as a process: configuration errors, the embedded default, signals,
//! durability across `kill -9`, the `migrate` and `users` commands, and a real PostgreSQL outage.
//!
//! PostgreSQL tests take their server from `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and create a database of their own. Without a
//! reachable server they print `skipped: PostgreSQL not reachable` and pass, unless
//! `REQUIRE_POSTGRES=1`.
//!
//! One module per concern; this file holds what they share: a PostgreSQL database of their own,
//! child processes that are killed on drop, and a server process with HTTP calls to it.

mod administration;
mod cluster;
mod configuration;
mod durability;
mod embedded_default;
mod event_streams;
mod migrate_cli;
mod outage;
mod request_log;
mod shutdown;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Connection;
use tempfile::TempDir;

use cluster::Cluster;

const BIN: &str = env!("CARGO_BIN_EXE_taskapi");
const SECRET: &str = "process-tests-shared-secret-0123456789abcdef";
const PASSWORD: &str = "password123";
/// A bcrypt hash as Python's passlib writes it, of `password123`.
const PASSLIB_BCRYPT: &str = include_str!("../fixtures/passlib_bcrypt.txt");

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a database of our own on the test server, or a visible skip.
// ---------------------------------------------------------------------------------------------

fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v.trim() == "1")
}

#[path = "../common/skip.rs"]
mod skipped;

/// Counts a skipped test (reported after the summary), or fails when PostgreSQL is required.
fn skip(reason: &str) {
    if postgres_required() {
        panic!("REQUIRE_POSTGRES=1, but {reason}");
    }
    skipped::record(reason);
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
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

async fn admin_connection(url: &str) -> Result<sqlx::PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("{e}")),
        Err(_) => Err("no answer within 5 s".to_owned()),
    }
}

/// A fresh database, dropped (with its connections) when this goes out of scope.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create() -> Option<Self> {
        let admin = admin_url();
        let mut conn = match admin_connection(&admin).await {
            Ok(conn) => conn,
            Err(why) => {
                skip(&format!("{}: {why}", without_password(&admin)));
                return None;
            }
        };
        let name = format!("taskapi_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(Self {
            admin,
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime: do the async work on a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut conn) = admin_connection(&admin).await {
                    let _ = tokio::time::timeout(Duration::from_secs(20), sqlx::query(&sql).execute(&mut conn)).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The database a test runs against.
enum Db {
    Sqlite(PathBuf),
    Postgres(PgDatabase),
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => format!("sqlite://{}", path.display()),
            Db::Postgres(db) => db.url.clone(),
        }
    }

    /// How a server reaches it: for PostgreSQL through the pooler when the suite runs through one.
    fn env(&self) -> Vec<(String, String)> {
        let mut env = match self {
            Db::Sqlite(_) => vec![("DATABASE_URL".to_owned(), self.url())],
            Db::Postgres(_) => database_vars(&self.url()),
        };
        env.push(("BETTER_AUTH_SECRET".to_owned(), SECRET.to_owned()));
        env
    }

    /// Every migration of this backend, in order: (version, name). PostgreSQL alone counts
    /// brute-force limits and event stream places in the database.
    fn migrations(&self) -> Vec<(i64, &'static str)> {
        let mut all = vec![
            (1, "users"),
            (2, "tasks and categories"),
            (3, "sync and idempotency"),
            (4, "tags subtasks recurrence"),
        ];
        if matches!(self, Db::Postgres(_)) {
            all.push((5, "shared rate limits"));
        }
        all.push((6, "task counts and list indexes"));
        if matches!(self, Db::Sqlite(_)) {
            all.push((7, "due ranges on the sort index"));
        }
        if matches!(self, Db::Postgres(_)) {
            all.push((8, "counter rows in key order"));
        }
        if matches!(self, Db::Sqlite(_)) {
            all.push((9, "search text on the creation index"));
        }
        if matches!(self, Db::Postgres(_)) {
            all.push((10, "event stream places"));
        }
        all
    }

    /// The application's tables once every migration is applied.
    fn app_tables(&self) -> Vec<&'static str> {
        let mut tables = APP_TABLES.to_vec();
        if matches!(self, Db::Postgres(_)) {
            tables.insert(2, "event_streams");
            tables.insert(4, "rate_limits");
        }
        tables
    }

    /// Which of the application's tables exist, sorted.
    async fn tables(&self) -> Vec<String> {
        match self {
            Db::Sqlite(path) => {
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("open SQLite");
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'tasks', 'categories', 'deletions', 'idempotency_keys', 'rate_limits', 'task_tags', 'event_streams') ORDER BY name",
                )
                .fetch_all(&mut conn)
                .await
                .expect("list SQLite tables");
                let _ = conn.close().await;
                names
            }
            Db::Postgres(db) => {
                let mut conn = admin_connection(&db.url).await.expect("connect to the test database");
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name IN ('users', 'tasks', 'categories', 'deletions', 'idempotency_keys', 'rate_limits', 'task_tags', 'event_streams') ORDER BY 1",
                )
                .fetch_all(&mut conn)
                .await
                .expect("list PostgreSQL tables");
                let _ = conn.close().await;
                names
            }
        }
    }

    /// Rows of the migrations table: (version, success).
    async fn migration_rows(&self) -> Vec<(i64, bool)> {
        let sql = "SELECT version, success FROM _sqlx_migrations ORDER BY version";
        match self {
            Db::Sqlite(path) => {
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("open SQLite");
                let rows = sqlx::query_as(sql)
                    .fetch_all(&mut conn)
                    .await
                    .expect("read _sqlx_migrations");
                let _ = conn.close().await;
                rows
            }
            Db::Postgres(db) => {
                let mut conn = admin_connection(&db.url).await.expect("connect to the test database");
                let rows = sqlx::query_as(sql)
                    .fetch_all(&mut conn)
                    .await
                    .expect("read _sqlx_migrations");
                let _ = conn.close().await;
                rows
            }
        }
    }
}

const APP_TABLES: [&str; 6] = [
    "categories",
    "deletions",
    "idempotency_keys",
    "task_tags",
    "tasks",
    "users",
];

/// `TEST_PGBOUNCER_URL`, when the suite runs through a pooler (see tests/common/mod.rs).
fn pgbouncer_url() -> Option<String> {
    std::env::var("TEST_PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// `DATABASE_URL` (and `DATABASE_DIRECT_URL`) for a database on the test server.
fn database_vars(direct: &str) -> Vec<(String, String)> {
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

// ---------------------------------------------------------------------------------------------
// Processes: every child gets a clean environment, a temp working directory, and is killed on drop.
// ---------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local address")
        .port()
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

static OUTPUT_FILES: AtomicUsize = AtomicUsize::new(0);

/// A running `taskapi` child with its output in files; killed (SIGKILL) and reaped on drop.
struct Proc {
    child: Child,
    args: Vec<String>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, env: &[(String, String)], args: &[&str]) -> Self {
        let n = OUTPUT_FILES.fetch_add(1, Ordering::SeqCst);
        let stdout = dir.join(format!("out-{n}.stdout.log"));
        let stderr = dir.join(format!("out-{n}.stderr.log"));
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(dir).env_clear().stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdout(File::create(&stdout).expect("stdout file"))
            .stderr(File::create(&stderr).expect("stderr file"));
        let child = cmd.spawn().expect("spawn taskapi");
        Self {
            child,
            args: args.iter().map(|a| a.to_string()).collect(),
            stdout,
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends a signal by name (`TERM`, `INT`) with kill(1).
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`, and reap.
    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// What a finished command left.
struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Output {
    fn non_empty_stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
    }

    fn last_stderr_line(&self) -> &str {
        self.non_empty_stderr_lines().last().copied().unwrap_or("")
    }

    #[track_caller]
    fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }
}

fn finish(mut proc: Proc, timeout: Duration, started: Instant) -> Output {
    let status = proc.wait_timeout(timeout).unwrap_or_else(|| {
        panic!(
            "taskapi {:?} did not exit within {timeout:?}; stderr:\n{}",
            proc.args,
            proc.stderr()
        )
    });
    Output {
        status,
        stdout: proc.stdout(),
        stderr: proc.stderr(),
        took: started.elapsed(),
    }
}

/// Runs a command to its end (at most 60 s).
fn run_cli(dir: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    let started = Instant::now();
    finish(Proc::spawn(dir, env, args), Duration::from_secs(60), started)
}

/// `migrate status` lines: (version, "applied" | "pending", name).
fn migration_lines(stdout: &str) -> Vec<(i64, String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let version = words.next()?.parse().ok()?;
            let state = words.next()?.to_owned();
            Some((version, state, words.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

/// Asserts `migrate` output: the first `applied` of the backend's migrations applied, the rest
/// pending.
#[track_caller]
fn assert_migrations(out: &Output, db: &Db, applied: usize) {
    out.assert_success("migrate");
    let expected: Vec<(i64, String, String)> = db
        .migrations()
        .into_iter()
        .enumerate()
        .map(|(i, (version, name))| {
            let state = if i < applied { "applied" } else { "pending" };
            (version, state.to_owned(), name.to_owned())
        })
        .collect();
    assert_eq!(
        migration_lines(&out.stdout),
        expected,
        "migrate output:\n{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// A server process and HTTP calls to it.
// ---------------------------------------------------------------------------------------------

struct Server {
    proc: Proc,
    base: String,
    client: reqwest::Client,
}

fn client() -> reqwest::Client {
    // The TLS stack compiled in wants a crypto provider, even for plain HTTP.
    taskapi::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

/// Starts `taskapi serve` on a free port (rate limits off) and waits for `/health` (≤ 20 s).
async fn start_server(dir: &Path, env: &[(String, String)]) -> Server {
    let port = free_port();
    let mut all = vars(&[
        ("HOST", "127.0.0.1"),
        ("RATE_LIMIT_LOGIN_PER_MINUTE", "0"),
        ("RATE_LIMIT_SIGNUP_PER_MINUTE", "0"),
    ]);
    all.push(("PORT".to_owned(), port.to_string()));
    all.extend(env.iter().cloned());
    let proc = Proc::spawn(dir, &all, &["serve"]);
    let mut server = Server {
        proc,
        base: format!("http://127.0.0.1:{port}"),
        client: client(),
    };
    server.wait_ready().await;
    server
}

impl Server {
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.proc.exited() {
                panic!("taskapi serve exited early ({status}); stderr:\n{}", self.proc.stderr());
            }
            let answer = self
                .client
                .get(format!("{}/health", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "taskapi serve not healthy within 20 s; stderr:\n{}",
                self.proc.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One request; the body parsed as JSON (`Null` when empty).
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.expect("response body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        (status, value)
    }

    async fn signup(&self, email: &str) -> (String, String) {
        let (status, body) = self
            .call(
                "POST",
                "/api/auth/signup",
                None,
                Some(&json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 201, "signup {email}: {body}");
        (
            body["user_id"].as_str().expect("user_id").to_owned(),
            body["token"].as_str().expect("token").to_owned(),
        )
    }

    async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        self.call(
            "POST",
            "/api/auth/login",
            None,
            Some(&json!({"email": email, "password": password})),
        )
        .await
    }

    async fn create_task(&self, user_id: &str, token: &str, title: &str) -> Value {
        let body = json!({"title": title, "description": "kept across restarts", "priority": "high",
                          "due_date": "2030-05-06T07:08:09.123456Z"});
        let (status, task) = self
            .call("POST", &format!("/api/{user_id}/tasks"), Some(token), Some(&body))
            .await;
        assert_eq!(status, 201, "create task: {task}");
        assert_eq!(task["title"], title);
        task
    }

    /// SIGTERM, and expect a clean exit 0 within 15 s.
    fn stop(&mut self) {
        self.proc.signal("TERM");
        let status = self
            .proc
            .wait_timeout(Duration::from_secs(15))
            .expect("server exits after SIGTERM");
        assert_eq!(
            status.code(),
            Some(0),
            "exit after SIGTERM; stderr:\n{}",
            self.proc.stderr()
        );
    }
}

#[track_caller]
fn assert_no_panic(out: &Output) {
    assert!(!out.stderr.contains("panicked"), "a panic on stderr:\n{}", out.stderr);
    assert!(
        !out.stderr.contains("RUST_BACKTRACE"),
        "a backtrace hint on stderr:\n{}",
        out.stderr
    );
    assert_ne!(
        out.status.code(),
        Some(101),
        "exit code 101 is a panic; stderr:\n{}",
        out.stderr
    );
}
