//! The `taskapi` binary as a process: configuration errors, the embedded default, signals,
//! durability across `kill -9`, the `migrate` and `users` commands, and a real PostgreSQL outage.
//!
//! PostgreSQL tests take their server from `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and create a database of their own. Without a
//! reachable server they print `skipped: PostgreSQL not reachable` and pass, unless
//! `REQUIRE_POSTGRES=1`.

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

const BIN: &str = env!("CARGO_BIN_EXE_taskapi");
const SECRET: &str = "process-tests-shared-secret-0123456789abcdef";
const PASSWORD: &str = "password123";
/// A bcrypt hash as Python's passlib writes it, of `password123`.
const PASSLIB_BCRYPT: &str = include_str!("fixtures/passlib_bcrypt.txt");

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a database of our own on the test server, or a visible skip.
// ---------------------------------------------------------------------------------------------

fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v.trim() == "1")
}

#[path = "common/skip.rs"]
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
    /// brute-force limits in the database.
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
        all
    }

    /// The application's tables once every migration is applied.
    fn app_tables(&self) -> Vec<&'static str> {
        let mut tables = APP_TABLES.to_vec();
        if matches!(self, Db::Postgres(_)) {
            tables.insert(3, "rate_limits");
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
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'tasks', 'categories', 'deletions', 'idempotency_keys', 'rate_limits', 'task_tags') ORDER BY name",
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
                     WHERE table_schema = current_schema() AND table_name IN ('users', 'tasks', 'categories', 'deletions', 'idempotency_keys', 'rate_limits', 'task_tags') ORDER BY 1",
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

// ---------------------------------------------------------------------------------------------
// 1. Bad configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_configuration_exits_non_zero_with_one_line_naming_the_variable() {
    let dir = TempDir::new().unwrap();
    /// What the case is, its environment, and the variable the error must name.
    type Case = (&'static str, Vec<(String, String)>, &'static str);
    let cases: [Case; 8] = [
        (
            "garbage URL",
            vars(&[("DATABASE_URL", "not-a-url"), ("BETTER_AUTH_SECRET", SECRET)]),
            "DATABASE_URL",
        ),
        (
            "unreachable database",
            vars(&[
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x"),
                ("BETTER_AUTH_SECRET", SECRET),
                ("DB_ACQUIRE_TIMEOUT", "1s"),
            ]),
            "DATABASE_URL",
        ),
        (
            "unreachable direct database",
            vars(&[
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                ("DATABASE_DIRECT_URL", "postgres://postgres@127.0.0.1:2/x"),
                ("BETTER_AUTH_SECRET", SECRET),
                ("DB_ACQUIRE_TIMEOUT", "1s"),
            ]),
            "DATABASE_DIRECT_URL",
        ),
        (
            "short secret",
            vars(&[("BETTER_AUTH_SECRET", "short")]),
            "BETTER_AUTH_SECRET",
        ),
        ("unknown log format", vars(&[("LOG_FORMAT", "xml")]), "LOG_FORMAT"),
        (
            "PostgreSQL without a secret",
            vars(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")]),
            "BETTER_AUTH_SECRET",
        ),
        (
            "Better Auth database URL of another kind",
            vars(&[
                ("BETTER_AUTH_DATABASE_URL", "mysql://auth/db"),
                ("BETTER_AUTH_SECRET", SECRET),
            ]),
            "BETTER_AUTH_DATABASE_URL",
        ),
        (
            "Better Auth URL without a scheme",
            vars(&[("BETTER_AUTH_URL", "app.example.com"), ("BETTER_AUTH_SECRET", SECRET)]),
            "BETTER_AUTH_URL",
        ),
    ];
    for (what, mut env, variable) in cases {
        env.push(("PORT".to_owned(), free_port().to_string()));
        let started = Instant::now();
        let out = finish(
            Proc::spawn(dir.path(), &env, &["serve"]),
            Duration::from_secs(10),
            started,
        );
        assert!(
            !out.status.success(),
            "{what}: must exit non-zero; stderr:\n{}",
            out.stderr
        );
        assert!(out.took < Duration::from_secs(10), "{what}: took {:?}", out.took);
        assert_no_panic(&out);
        let lines = out.non_empty_stderr_lines();
        assert_eq!(
            lines.len(),
            1,
            "{what}: exactly one line on stderr, got:\n{}",
            out.stderr
        );
        assert!(
            out.last_stderr_line().contains(variable),
            "{what}: the line names {variable}: {:?}",
            out.last_stderr_line()
        );
        assert!(
            out.stdout.trim().is_empty(),
            "{what}: nothing on stdout: {}",
            out.stdout
        );
    }
    // A connection error names the host and port it tried, never the password.
    let serve_on = |url: &str| {
        finish(
            Proc::spawn(
                dir.path(),
                &vars(&[
                    ("DATABASE_URL", url),
                    ("BETTER_AUTH_SECRET", SECRET),
                    ("DB_ACQUIRE_TIMEOUT", "1s"),
                ]),
                &["serve"],
            ),
            Duration::from_secs(10),
            Instant::now(),
        )
    };
    let out = serve_on("postgres://app:hunter2-very-secret@127.0.0.1:1/tasks");
    assert!(!out.status.success());
    assert!(out.last_stderr_line().contains("127.0.0.1:1"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "the password leaked: {}", out.stderr);
    // Through a Unix socket: the directory it tried.
    let no_socket = dir.path().join("no-socket-here");
    std::fs::create_dir_all(&no_socket).unwrap();
    let out = serve_on(&format!("postgres:///tasks?host={}&user=app", no_socket.display()));
    assert!(!out.status.success());
    let line = out.last_stderr_line();
    assert!(line.contains(&no_socket.display().to_string()), "{}", out.stderr);
    assert!(!line.contains("/var/run/postgresql"), "{}", out.stderr);
    // The same checks hold for the other commands, which read the same configuration.
    let out = run_cli(
        dir.path(),
        &vars(&[("DATABASE_URL", "not-a-url")]),
        &["migrate", "status"],
    );
    assert!(!out.status.success());
    assert_no_panic(&out);
    assert!(out.last_stderr_line().contains("DATABASE_URL"), "{}", out.stderr);
    // None of this created a database in the working directory.
    assert!(
        !dir.path().join("taskapi.db").exists(),
        "a failed start must not create taskapi.db"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The embedded default
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn embedded_default_needs_no_configuration_and_keeps_its_secret() {
    use std::os::unix::fs::PermissionsExt;

    let dir = TempDir::new().unwrap();
    let mut server = start_server(dir.path(), &[]).await;
    let (status, body) = server.call("GET", "/health", None, None).await;
    assert_eq!(
        (status, body),
        (200, json!({"status": "healthy", "message": "API is running"}))
    );

    let db = dir.path().join("taskapi.db");
    let secret_file = dir.path().join("taskapi.db.secret");
    assert!(db.is_file(), "taskapi.db created in the working directory");
    let mode = std::fs::metadata(&secret_file)
        .expect("taskapi.db.secret created")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "secret file mode is {mode:o}");
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert!(secret.trim().chars().count() >= 32, "generated secret is long enough");
    let db_mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        db_mode, 0o600,
        "taskapi.db holds password hashes: owner only (mode {db_mode:o})"
    );
    assert!(
        server.proc.stderr().contains("BETTER_AUTH_SECRET"),
        "a warning names BETTER_AUTH_SECRET:\n{}",
        server.proc.stderr()
    );

    let (user_id, token) = server.signup("embedded@example.com").await;
    let (status, me_before) = server.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(status, 200, "{me_before}");
    assert_eq!(me_before["user_id"], user_id.as_str());
    server.stop();

    // A restart reads the same secret: the token from before still works.
    let server = start_server(dir.path(), &[]).await;
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        secret,
        "the secret file is reused, not rewritten"
    );
    assert_eq!(
        std::fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (status, me_after) = server.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(status, 200, "token from before the restart: {me_after}");
    assert_eq!(me_after, me_before);
    assert!(
        !server.proc.stderr().contains("generated one"),
        "no second secret generated:\n{}",
        server.proc.stderr()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Graceful shutdown
// ---------------------------------------------------------------------------------------------

/// Starts a signup whose body arrives in two halves, sends the signal between them, and expects
/// the request to complete and the process to exit 0.
async fn graceful_shutdown(signal: &str) {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("graceful.db"));
    let mut server = start_server(dir.path(), &db.env()).await;
    // An idle keep-alive connection (the client's pool) must not hold the shutdown up either.
    let (status, _) = server.call("GET", "/health", None, None).await;
    assert_eq!(status, 200);

    let email = format!("inflight-{}@example.com", signal.to_lowercase());
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "POST /api/auth/signup HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let signalled = Instant::now();
    server.proc.signal(signal);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.proc.exited().is_none(),
        "SIG{signal}: the server waits for the request in flight"
    );
    stream.write_all(second.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.starts_with("HTTP/1.1 201"),
        "SIG{signal}: the request in flight completes:\n{raw}"
    );
    let (_, json_body) = raw.split_once("\r\n\r\n").expect("headers end");
    let created: Value = serde_json::from_str(json_body).unwrap_or_else(|e| panic!("{e}: {json_body}"));
    assert_eq!(created["email"], email.as_str());
    assert!(created["token"].is_string());

    let status = server
        .proc
        .wait_timeout(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("SIG{signal}: no exit within 10 s"));
    let stderr = server.proc.stderr();
    assert_eq!(status.code(), Some(0), "SIG{signal}: exit status; stderr:\n{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "SIG{signal}: took {:?}",
        signalled.elapsed()
    );
    assert!(stderr.contains("shutdown signal received"), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
    // The listener is gone.
    assert!(
        TcpStream::connect(&addr).is_err(),
        "SIG{signal}: nothing listens after exit"
    );
    // The write the response announced is there for the next process.
    let server = start_server(dir.path(), &db.env()).await;
    let (status, login) = server.login(&email, PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["user_id"], created["user_id"]);
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_exits_zero() {
    graceful_shutdown("TERM").await;
}

#[tokio::test]
async fn sigint_finishes_the_request_in_flight_and_exits_zero() {
    graceful_shutdown("INT").await;
}

// ---------------------------------------------------------------------------------------------
// 4. Durability across kill -9
// ---------------------------------------------------------------------------------------------

async fn write_survives_kill_9(dir: &Path, db: &Db) {
    let mut server = start_server(dir, &db.env()).await;
    let (user_id, token) = server.signup("durable@example.com").await;
    let task = server.create_task(&user_id, &token, "Survive kill -9").await;
    server.proc.kill_hard();
    drop(server);

    let server = start_server(dir, &db.env()).await;
    let path = format!("/api/{user_id}/tasks/{}", task["id"].as_str().unwrap());
    let (status, again) = server.call("GET", &path, Some(&token), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, task, "the task reads back identical after kill -9 and restart");
    let (status, list) = server
        .call("GET", &format!("/api/{user_id}/tasks"), Some(&token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([task]));
}

#[tokio::test]
async fn sqlite_write_survives_kill_9() {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("durable.db"));
    write_survives_kill_9(dir.path(), &db).await;
}

#[tokio::test]
async fn postgres_write_survives_kill_9() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    let db = Db::Postgres(pg);
    write_survives_kill_9(dir.path(), &db).await;
}

// ---------------------------------------------------------------------------------------------
// 5. Migrations through the command line
// ---------------------------------------------------------------------------------------------

async fn migrate_cli_round_trips(dir: &Path, db: &Db) {
    let env = db.env();
    let all = db.migrations().len();
    let recorded: Vec<(i64, bool)> = db.migrations().iter().map(|(v, _)| (*v, true)).collect();
    let out = run_cli(dir, &env, &["migrate", "status"]);
    assert_migrations(&out, db, 0);
    assert_eq!(db.tables().await, Vec::<String>::new(), "status applies nothing");

    let out = run_cli(dir, &env, &["migrate", "up"]);
    assert_migrations(&out, db, all);
    assert!(out.stdout.contains("migrations applied"), "{}", out.stdout);
    assert_eq!(db.tables().await, db.app_tables());
    assert_migrations(&run_cli(dir, &env, &["migrate", "status"]), db, all);

    // Up again is a no-op.
    assert_migrations(&run_cli(dir, &env, &["migrate", "up"]), db, all);

    // Down with no count reverts the last one only.
    let out = run_cli(dir, &env, &["migrate", "down"]);
    assert_migrations(&out, db, all - 1);
    // The last one (0007 on SQLite, 0008 on PostgreSQL) changes an index or a trigger only:
    // every table listed stays.
    assert_eq!(db.tables().await, db.app_tables());

    assert_migrations(&run_cli(dir, &env, &["migrate", "up"]), db, all);
    let out = run_cli(dir, &env, &["migrate", "down", &all.to_string()]);
    assert_migrations(&out, db, 0);
    assert!(out.stdout.contains("reverted"), "{}", out.stdout);
    assert_eq!(db.tables().await, Vec::<String>::new(), "down {all} drops every table");
    assert_migrations(&run_cli(dir, &env, &["migrate", "status"]), db, 0);

    assert_migrations(&run_cli(dir, &env, &["migrate", "up"]), db, all);
    assert_eq!(db.tables().await, db.app_tables());
    assert_eq!(db.migration_rows().await, recorded);

    // A server on the re-applied schema works.
    let mut server_env = env.clone();
    server_env.push(("AUTO_MIGRATE".to_owned(), "false".to_owned()));
    let server = start_server(dir, &server_env).await;
    let (user_id, token) = server.signup("migrated@example.com").await;
    server.create_task(&user_id, &token, "After a round trip").await;
}

#[tokio::test]
async fn sqlite_migrate_cli_round_trips() {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("migrate.db"));
    migrate_cli_round_trips(dir.path(), &db).await;
}

#[tokio::test]
async fn postgres_migrate_cli_round_trips() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    migrate_cli_round_trips(dir.path(), &Db::Postgres(pg)).await;
}

#[tokio::test]
async fn postgres_two_concurrent_migrate_up_apply_the_schema_once() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    let db = Db::Postgres(pg);
    let env = db.env();
    let started = Instant::now();
    let a = Proc::spawn(dir.path(), &env, &["migrate", "up"]);
    let b = Proc::spawn(dir.path(), &env, &["migrate", "up"]);
    for out in [
        finish(a, Duration::from_secs(60), started),
        finish(b, Duration::from_secs(60), started),
    ] {
        assert_migrations(&out, &db, db.migrations().len());
        assert_no_panic(&out);
    }
    let recorded: Vec<(i64, bool)> = db.migrations().iter().map(|(v, _)| (*v, true)).collect();
    assert_eq!(db.migration_rows().await, recorded, "each migration recorded once");
    assert_eq!(db.tables().await, db.app_tables());
}

// ---------------------------------------------------------------------------------------------
// 6. Account administration while a server runs
// ---------------------------------------------------------------------------------------------

const IMPORTED_ID: &str = "7b0f3c1e-9a55-4d8e-b6f1-2f6c0d9e4a10";

/// `users list` rows: (user_id, email, active, kind, created_at).
fn user_rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|r| r.len() == 5)
        .collect()
}

fn user_row(stdout: &str, email: &str) -> Option<Vec<String>> {
    user_rows(stdout).into_iter().find(|r| r[1] == email)
}

async fn users_administration(dir: &Path, db: &Db) {
    let env = db.env();
    let server = start_server(dir, &env).await;
    let hash = PASSLIB_BCRYPT.trim();

    // Import one account exported from the FastAPI system.
    let import = dir.join("users.jsonl");
    let line = json!({"email": "  Legacy.User@Example.COM ", "hashed_password": hash, "id": IMPORTED_ID,
                      "name": "Legacy User", "is_active": true, "created_at": "2025-01-02T03:04:05.123456"});
    std::fs::write(&import, format!("{line}\n\n")).unwrap();
    let out = run_cli(dir, &env, &["users", "import", import.to_str().unwrap()]);
    out.assert_success("users import");
    assert!(out.stdout.contains("imported 1, skipped 0"), "{}", out.stdout);

    // The running server lets that account in with its old password.
    let (status, login) = server.login("legacy.user@example.com", PASSWORD).await;
    assert_eq!(status, 200, "imported account logs in: {login}");
    assert_eq!(login["user_id"], IMPORTED_ID);
    assert_eq!(login["email"], "legacy.user@example.com");
    assert_eq!(login["token_type"], "bearer");
    let token = login["token"].as_str().unwrap().to_owned();
    let (status, me) = server.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me,
        json!({"user_id": IMPORTED_ID, "email": "legacy.user@example.com", "name": "Legacy User",
               "is_active": true, "created_at": "2025-01-02T03:04:05.123456Z"})
    );
    // The wrong password is still wrong (and the bcrypt hash was re-hashed on login, not lost).
    let (status, body) = server.login("legacy.user@example.com", "not-the-password").await;
    assert_eq!((status, body), (401, json!({"detail": "Invalid email or password"})));
    assert_eq!(server.login("Legacy.User@example.com", PASSWORD).await.0, 200);

    // Importing the same file again skips it.
    let out = run_cli(dir, &env, &["users", "import", import.to_str().unwrap()]);
    out.assert_success("second users import");
    assert!(out.stdout.contains("imported 0, skipped 1"), "{}", out.stdout);

    // A malformed second line: nothing from the file is written.
    let bad = dir.join("bad.jsonl");
    let first = json!({"email": "second.user@example.com", "hashed_password": hash});
    std::fs::write(&bad, format!("{first}\n{{\"email\": \"broken\"\n")).unwrap();
    let out = run_cli(dir, &env, &["users", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "malformed file must fail: {}", out.stdout);
    assert_no_panic(&out);
    assert!(
        out.last_stderr_line().contains("line 2"),
        "stderr names the line: {}",
        out.stderr
    );
    let list = run_cli(dir, &env, &["users", "list"]);
    list.assert_success("users list");
    assert!(
        !list.stdout.contains("second.user@example.com"),
        "line 1 of a bad file was written:\n{}",
        list.stdout
    );
    assert_eq!(server.login("second.user@example.com", PASSWORD).await.0, 401);

    // Disable an account whose token the server has already seen (and cached).
    let (user_id, user_token) = server.signup("disable.me@example.com").await;
    let (status, _) = server.call("GET", "/api/auth/me", Some(&user_token), None).await;
    assert_eq!(status, 200);
    let out = run_cli(dir, &env, &["users", "disable", "Disable.Me@Example.com"]);
    out.assert_success("users disable");
    assert!(out.stdout.contains("disabled disable.me@example.com"), "{}", out.stdout);
    assert!(out.stdout.contains(&user_id), "{}", out.stdout);

    let (status, body) = server.login("disable.me@example.com", PASSWORD).await;
    assert_eq!(
        (status, body),
        (403, json!({"detail": "Account is disabled"})),
        "login of a disabled account"
    );
    let list = run_cli(dir, &env, &["users", "list"]);
    let row = user_row(&list.stdout, "disable.me@example.com").unwrap_or_else(|| panic!("listed:\n{}", list.stdout));
    assert_eq!(row[2], "no", "{row:?}");

    // The running server refuses the existing token: on PostgreSQL within 5 s (the command's
    // change is announced to every server), on SQLite within the cache bound (30 s; contract 60 s).
    let bound = match db {
        Db::Postgres(_) => Duration::from_secs(5),
        Db::Sqlite(_) => Duration::from_secs(40),
    };
    let disabled_at = Instant::now();
    loop {
        let (status, body) = server.call("GET", "/api/auth/me", Some(&user_token), None).await;
        if status == 403 {
            assert_eq!(body, json!({"detail": "Account is disabled"}));
            break;
        }
        assert_eq!(status, 200, "before the cache expires the token still works: {body}");
        assert!(
            disabled_at.elapsed() < bound,
            "token of a disabled account still accepted after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = server
        .call("GET", &format!("/api/{user_id}/tasks"), Some(&user_token), None)
        .await;
    assert_eq!((status, body), (403, json!({"detail": "Account is disabled"})));

    // Enable restores login.
    let out = run_cli(dir, &env, &["users", "enable", "disable.me@example.com"]);
    out.assert_success("users enable");
    assert!(out.stdout.contains("enabled disable.me@example.com"), "{}", out.stdout);
    let (status, body) = server.login("disable.me@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], user_id.as_str());

    // An unknown email: exit 1 and one clear line.
    let out = run_cli(dir, &env, &["users", "disable", "nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", out.stderr);
    assert_no_panic(&out);
    assert!(out.last_stderr_line().contains("nobody@example.com"), "{}", out.stderr);
    assert_eq!(out.non_empty_stderr_lines().len(), 1, "{}", out.stderr);
    let out = run_cli(dir, &env, &["users", "enable", "nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", out.stderr);

    // The list shows every account.
    let list = run_cli(dir, &env, &["users", "list"]);
    list.assert_success("users list");
    assert!(
        list.stdout.lines().next().is_some_and(|h| h.contains("email")),
        "a header line:\n{}",
        list.stdout
    );
    let rows = user_rows(&list.stdout);
    assert_eq!(rows.len(), 2, "two accounts:\n{}", list.stdout);
    let legacy = user_row(&list.stdout, "legacy.user@example.com").expect("imported account listed");
    assert_eq!(
        legacy,
        [
            IMPORTED_ID,
            "legacy.user@example.com",
            "yes",
            "local",
            "2025-01-02T03:04:05.123456Z"
        ]
    );
    let enabled = user_row(&list.stdout, "disable.me@example.com").expect("signed-up account listed");
    assert_eq!((enabled[0].as_str(), enabled[2].as_str()), (user_id.as_str(), "yes"));
}

#[tokio::test]
async fn sqlite_users_administration_while_a_server_runs() {
    let dir = TempDir::new().unwrap();
    let db = Db::Sqlite(dir.path().join("users.db"));
    users_administration(dir.path(), &db).await;
}

#[tokio::test]
async fn postgres_users_administration_while_a_server_runs() {
    let Some(pg) = PgDatabase::create().await else { return };
    let dir = TempDir::new().unwrap();
    users_administration(dir.path(), &Db::Postgres(pg)).await;
}

// ---------------------------------------------------------------------------------------------
// 7. A real PostgreSQL outage
// ---------------------------------------------------------------------------------------------

/// A throwaway PostgreSQL cluster run as the `postgres` system user; stopped on drop.
struct Cluster {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
}

fn postgres_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().split('.').next()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn runuser() -> Option<PathBuf> {
    ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn tool(&self, tool: &str, args: &[&str]) -> std::process::Output {
        Command::new(runuser().expect("runuser"))
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"))
    }

    fn create() -> Option<Self> {
        if !is_root() {
            skip("the outage test runs initdb as the postgres user and needs root");
            return None;
        }
        let Some(_) = runuser() else {
            skip("runuser is missing");
            return None;
        };
        let Some(bin) = postgres_bin_dir() else {
            skip("no PostgreSQL binaries in /usr/lib/postgresql/*/bin");
            return None;
        };
        let dir = TempDir::new().unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(chown.success(), "chown -R postgres {}", dir.path().display());
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
        };
        let data = cluster.data();
        let out = cluster.tool(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start();
        Some(cluster)
    }

    fn start(&self) {
        let data = self.data();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        let out = self.tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}\nlog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn stop(&self) -> std::process::Output {
        let data = self.data();
        self.tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "-t",
                "30",
                "stop",
            ],
        )
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Cluster {
    /// Sends `signal` (`STOP`, `CONT`) to the postmaster and every process it started.
    fn signal_all(&self, signal: &str) {
        let Ok(pid_file) = std::fs::read_to_string(self.data().join("postmaster.pid")) else {
            return;
        };
        let Some(pid) = pid_file.lines().next().map(str::trim) else {
            return;
        };
        let _ = Command::new("pkill").args([&format!("-{signal}"), "-P", pid]).status();
        let _ = Command::new("kill").args([&format!("-{signal}"), pid]).status();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A frozen cluster (a failed test) could not even be stopped.
        self.signal_all("CONT");
        let _ = self.stop();
    }
}

/// One answer seen by the load: when its request started and ended, and what it was.
#[derive(Debug, Clone)]
struct Answer {
    started: Instant,
    took: Duration,
    status: u16,
    /// A `{"detail": "…"}` body.
    json_detail: bool,
}

/// Clients sending list and create requests back to back until `stop` is set.
fn spawn_load(
    server: &Server,
    user_id: &str,
    token: &str,
    clients: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Answer>>> {
    (0..clients)
        .map(|i| {
            let client = server.client.clone();
            let url = format!("{}/api/{user_id}/tasks", server.base);
            let token = token.to_owned();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let req = if (n + i as u32) % 2 == 0 {
                        client.get(&url)
                    } else {
                        client.post(&url).json(&json!({"title": "under load"}))
                    };
                    let started = Instant::now();
                    let res = req.bearer_auth(&token).send().await;
                    let Ok(res) = res else {
                        panic!("the server stopped answering: {res:?}");
                    };
                    let status = res.status().as_u16();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    answers.push(Answer {
                        started,
                        took: started.elapsed(),
                        status,
                        json_detail: body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                    });
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                answers
            })
        })
        .collect()
}

/// Once the database is `back`: lists `tasks` until one succeeds (JSON 503s meanwhile, success
/// within 2 s), lets the load run a little longer, stops it, and returns how long recovery took
/// and every answer the load saw.
async fn recover_then_stop_load(
    server: &Server,
    tasks: &str,
    token: &str,
    back: Instant,
    stop_load: &std::sync::atomic::AtomicBool,
    load: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
) -> (Duration, Vec<Answer>) {
    let recovered = loop {
        let (status, body) = server.call("GET", tasks, Some(token), None).await;
        if status == 200 {
            break back.elapsed();
        }
        assert_eq!(status, 503, "while reconnecting: {body}");
        assert!(body["detail"].is_string(), "{body}");
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "no success within 2 s of the database's return"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_load.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for client in load {
        answers.extend(client.await.expect("load client"));
    }
    (recovered, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_under_load_fails_fast_and_recovers_without_restart() {
    let Some(cluster) = Cluster::create() else { return };
    let dir = TempDir::new().unwrap();
    // The default acquire timeout (3 s): failing fast must not wait for it.
    let env = vars(&[("DATABASE_URL", &cluster.url()), ("BETTER_AUTH_SECRET", SECRET)]);
    let mut server = start_server(dir.path(), &env).await;
    let (user_id, token) = server.signup("outage@example.com").await;
    let task = server.create_task(&user_id, &token, "Before the outage").await;
    let tasks = format!("/api/{user_id}/tasks");

    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = spawn_load(&server, &user_id, &token, 6, stop_load.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let stopping = Instant::now();
    let out = cluster.stop();
    assert!(
        out.status.success(),
        "pg_ctl stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stopped = Instant::now();

    // Three seconds of outage, the load going on; readiness asked now and then.
    while stopped.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        let (status, body) = server.call("GET", "/health/ready", None, None).await;
        let took = started.elapsed();
        assert_eq!(status, 503, "/health/ready during the outage: {body}");
        assert!(body["detail"].is_string(), "{body}");
        assert!(
            took < Duration::from_secs(1),
            "/health/ready took {took:?} during the outage"
        );
        let (status, body) = server.call("GET", "/health", None, None).await;
        assert_eq!(
            (status, body),
            (200, json!({"status": "healthy", "message": "API is running"}))
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        server.proc.exited().is_none(),
        "the server keeps running through the outage"
    );

    // PostgreSQL may accept connections a little before `pg_ctl start -w` returns.
    let restarting = Instant::now();
    cluster.start();
    let back = Instant::now();
    let (recovered, answers) = recover_then_stop_load(&server, &tasks, &token, back, &stop_load, load).await;

    // Every answer to a request sent while the database was down: a JSON 503 within 1 s.
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.started >= stopped && a.started + a.took <= restarting)
        .collect();
    assert!(
        during.len() > 20,
        "the load went on through the outage: {} answers",
        during.len()
    );
    let internal_errors = || {
        let log = server.proc.stderr();
        log.lines()
            .filter(|l| l.contains("internal error") || l.contains("status=500"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join("\n")
    };
    for answer in &during {
        assert_eq!(
            answer.status,
            503,
            "during the outage: {answer:?}\n{}",
            internal_errors()
        );
        assert!(answer.json_detail, "a JSON detail: {answer:?}");
        assert!(answer.took < Duration::from_secs(1), "503 within 1 s: {answer:?}");
    }
    // Those caught by the stop itself, and those while it came back, fail just as fast.
    for answer in answers
        .iter()
        .filter(|a| a.started >= stopping && a.status != 200 && a.status != 201)
    {
        assert_eq!(answer.status, 503, "{answer:?}\n{}", internal_errors());
        assert!(answer.json_detail, "{answer:?}");
        assert!(answer.took < Duration::from_secs(1), "{answer:?}");
    }
    let after: Vec<&Answer> = answers.iter().filter(|a| a.started >= back + recovered).collect();
    assert!(
        after.iter().all(|a| a.status == 200 || a.status == 201),
        "once recovered, everything succeeds: {after:?}"
    );

    let (status, body) = server.call("GET", "/health/ready", None, None).await;
    assert_eq!((status, body), (200, json!({"status": "ready", "database": "ok"})));
    let (status, body) = server
        .call(
            "GET",
            &format!("{tasks}/{}", task["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!((status, &body), (200, &task), "the task from before is there");
    server.create_task(&user_id, &token, "After the outage").await;
    assert!(server.proc.exited().is_none(), "no restart of taskapi");
    server.stop();
    let log = server.proc.stderr();
    assert!(
        log.contains("database unreachable"),
        "the breaker opening is logged:\n{log}"
    );
    assert!(log.contains("database reachable again"), "and its closing:\n{log}");
}

// ---------------------------------------------------------------------------------------------
// 8. The request log: one line per request, never a token, password or body.

/// A database that stops answering without refusing (every PostgreSQL process frozen, as a
/// hung host or a partition that drops packets looks): no error ever comes back, yet requests
/// still answer 503 within a second, and everything works again once it thaws.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_frozen_database_fails_fast_and_recovers() {
    let Some(cluster) = Cluster::create() else { return };
    let dir = TempDir::new().unwrap();
    let env = vars(&[("DATABASE_URL", &cluster.url()), ("BETTER_AUTH_SECRET", SECRET)]);
    let mut server = start_server(dir.path(), &env).await;
    let (user_id, token) = server.signup("frozen@example.com").await;
    let tasks = format!("/api/{user_id}/tasks");
    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = spawn_load(&server, &user_id, &token, 6, stop_load.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.signal_all("STOP");
    let frozen = Instant::now();
    while frozen.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        let (status, body) = server.call("GET", "/health/ready", None, None).await;
        assert_eq!(status, 503, "/health/ready while frozen: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "/health/ready took {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let thawing = Instant::now();
    cluster.signal_all("CONT");
    let back = Instant::now();
    let (_, answers) = recover_then_stop_load(&server, &tasks, &token, back, &stop_load, load).await;
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.started >= frozen && a.started + a.took <= thawing)
        .collect();
    assert!(during.len() > 20, "the load went on: {} answers", during.len());
    for answer in &during {
        assert_eq!(answer.status, 503, "while frozen: {answer:?}");
        assert!(answer.json_detail, "a JSON detail: {answer:?}");
        assert!(answer.took < Duration::from_secs(1), "503 within 1 s: {answer:?}");
    }
    assert!(server.proc.exited().is_none(), "the server keeps running");
}

#[tokio::test]
async fn request_log_has_one_line_per_request_and_no_secrets() {
    let dir = TempDir::new().unwrap();
    let mut server = start_server(
        dir.path(),
        &vars(&[("BETTER_AUTH_SECRET", "log-test-secret-0123456789abcdefghij")]),
    )
    .await;
    let (user_id, token) = server.signup("logged@example.com").await;
    let (status, _) = server.login("logged@example.com", "a-wrong-password-xyz").await;
    assert_eq!(status, 401);
    server.create_task(&user_id, &token, "a very private title").await;
    let (status, _) = server
        .call(
            "GET",
            &format!("/api/{user_id}/tasks?q=secret-search-text"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let res = server
        .client
        .get(format!("{}/health", server.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.stop();

    let log = server.proc.stderr();
    for secret in [
        PASSWORD,
        "a-wrong-password-xyz",
        token.as_str(),
        "a very private title",
        "kept across restarts",
        "secret-search-text",
    ] {
        assert!(!log.contains(secret), "the log contains {secret:?}:\n{log}");
    }
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("request_id")).collect();
    // signup, login, create, list, health, plus the readiness polls before.
    assert!(lines.len() >= 5, "{log}");
    let health = lines
        .iter()
        .find(|l| l.contains("trace-me-123"))
        .expect("the client's request id is logged");
    for part in ["GET", "/health", "status=200", "latency_us="] {
        assert!(health.contains(part), "{part} in {health}");
    }
    let create = lines
        .iter()
        .find(|l| l.contains("POST") && l.contains("/tasks"))
        .expect("create logged");
    assert!(create.contains("status=201"), "{create}");
}

#[tokio::test]
async fn json_log_format_writes_one_object_per_line() {
    let dir = TempDir::new().unwrap();
    let mut server = start_server(
        dir.path(),
        &vars(&[
            ("BETTER_AUTH_SECRET", "log-test-secret-0123456789abcdefghij"),
            ("LOG_FORMAT", "json"),
        ]),
    )
    .await;
    let res = server
        .client
        .get(format!("{}/health", server.base))
        .header("x-request-id", "json-log-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.stop();

    let log = server.proc.stderr();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON object ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "start, request, stop:\n{log}");
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
        assert!(line["message"].is_string(), "{line}");
    }
    let request = lines
        .iter()
        .find(|l| l["request_id"] == "json-log-42")
        .unwrap_or_else(|| panic!("the request's line:\n{log}"));
    assert_eq!(request["message"], "request");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["path"], "/health");
    assert_eq!(request["status"], 200);
    assert!(request["latency_us"].is_u64(), "{request}");
}

// ---------------------------------------------------------------------------------------------
// 9. Event streams and the process: shutdown, a database restart, the query token.
// ---------------------------------------------------------------------------------------------

/// An open event stream; `wait_for` reads until an `event:` line of that name comes.
struct Stream {
    res: reqwest::Response,
    seen: String,
}

impl Stream {
    async fn open(server: &Server, user_id: &str, token: &str) -> Self {
        let res = server
            .client
            .get(format!("{}/api/{user_id}/events?access_token={token}", server.base))
            .send()
            .await
            .expect("open the stream");
        assert_eq!(res.status(), 200);
        let mut stream = Self {
            res,
            seen: String::new(),
        };
        assert!(stream.wait_for("ready", Duration::from_secs(5)).await, "ready first");
        stream
    }

    /// Whether `event: <name>` arrives within `within` (what came before it is dropped).
    async fn wait_for(&mut self, name: &str, within: Duration) -> bool {
        let marker = format!("event: {name}\n");
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(at) = self.seen.find(&marker) {
                self.seen.drain(..at + marker.len());
                return true;
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return false,
            }
        }
    }

    /// Whether the stream ends within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(_) => return true,
                Err(_) => return false,
            }
        }
    }
}

#[tokio::test]
async fn sigterm_with_open_streams_exits_at_once_and_never_logs_the_query_token() {
    let dir = TempDir::new().unwrap();
    let mut server = start_server(dir.path(), &vars(&[("BETTER_AUTH_SECRET", SECRET)])).await;
    let (user_id, token) = server.signup("streams.stop@example.com").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(Stream::open(&server, &user_id, &token).await);
    }
    let started = Instant::now();
    server.stop();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "open streams held the shutdown up for {:?}",
        started.elapsed()
    );
    for mut s in streams {
        assert!(s.ends_within(Duration::from_secs(2)).await);
    }
    let log = server.proc.stderr();
    assert!(log.contains("/events"), "the stream's request is logged:\n{log}");
    assert!(!log.contains(&token), "the query's token is never logged:\n{log}");
}

#[tokio::test]
async fn postgres_restart_under_open_streams_sends_ready_and_goes_on() {
    let Some(cluster) = Cluster::create() else { return };
    let dir = TempDir::new().unwrap();
    let env = vars(&[("DATABASE_URL", &cluster.url()), ("BETTER_AUTH_SECRET", SECRET)]);
    let mut server = start_server(dir.path(), &env).await;
    let (user_id, token) = server.signup("streams.restart@example.com").await;
    let mut streams = vec![
        Stream::open(&server, &user_id, &token).await,
        Stream::open(&server, &user_id, &token).await,
    ];
    server.create_task(&user_id, &token, "Before the restart").await;
    for s in &mut streams {
        assert!(s.wait_for("change", Duration::from_secs(2)).await);
    }

    let out = cluster.stop();
    assert!(
        out.status.success(),
        "pg_ctl stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.start();
    // Every open stream says so: a new `ready`, after which its client syncs.
    for s in &mut streams {
        assert!(
            s.wait_for("ready", Duration::from_secs(20)).await,
            "ready after the restart"
        );
    }
    // Once requests work again, changes flow as before.
    let back = Instant::now();
    loop {
        let (status, _) = server
            .call(
                "POST",
                &format!("/api/{user_id}/tasks"),
                Some(&token),
                Some(&json!({"title": "After"})),
            )
            .await;
        if status == 201 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(20), "no recovery: {status}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for s in &mut streams {
        assert!(
            s.wait_for("change", Duration::from_secs(2)).await,
            "changes after the restart"
        );
    }
    assert!(server.proc.exited().is_none());
}
