//! The command line: `serve` (the default), `migrate …` and `users …`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde::Deserialize;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::app::{self, AppState};
use crate::config::{Config, ConfigError, Database, LogFormat, Secret, SecretSource, MIN_SECRET_LEN};
use crate::domain::account::Email;
use crate::domain::Timestamp;
use crate::store::{self, ImportedAccount, Store, StoreError};

#[derive(Parser)]
#[command(name = "taskapi", version, about = "Task-management REST API server", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Account administration.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the last N applied migrations (default 1).
    Down {
        #[arg(default_value_t = 1)]
        steps: usize,
    },
    /// List migrations, applied and pending, with versions and names.
    Status,
}

#[derive(Subcommand)]
enum UsersAction {
    /// List every account.
    List,
    /// Disable an account: its tokens and logins are refused.
    Disable { email: String },
    /// Enable a disabled account.
    Enable { email: String },
    /// Import accounts from JSON lines ({"email", "hashed_password", "id"?, "name"?, "is_active"?, "created_at"?}).
    Import { file: PathBuf },
}

/// A failure of a command: one line on standard error and an exit code.
struct Failure {
    message: String,
    code: u8,
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Self {
            message: e.to_string(),
            code: 2,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self {
            message: format!("database: {e}"),
            code: 1,
        }
    }
}

fn fail(message: impl Into<String>, code: u8) -> Failure {
    Failure {
        message: message.into(),
        code,
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tune_allocator();
    init_tracing();
    crate::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(run(cli));
    crate::log_writer::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// glibc raises its mmap threshold after the first large free, so the password hash's working
/// memory (7 MiB a hash) is then carved from the heap, where fragmentation keeps it: resident
/// memory grew by over 100 MB after 64 signups. A fixed threshold sends large blocks straight
/// back to the kernel; measured, peak RSS stays near 15 MB through a login storm.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Text lines, or one JSON object per line with `LOG_FORMAT=json`. Read before the rest of the
/// configuration, so that its errors are logged in the chosen format; a bad value is reported by
/// [`Config::from_env`].
fn init_tracing() {
    let _ = dotenvy::dotenv();
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let format = LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref().map(str::trim)).unwrap_or_default();
    let writer = match crate::log_writer::BufferedStderr::install() {
        Some(buffered) => BoxMakeWriter::new(buffered),
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { action } => migrate(config, action).await,
        Command::Users { action } => users(config, action).await,
    }
}

async fn connect(config: &Config) -> Result<Arc<dyn Store>, Failure> {
    store::connect(config).await.map_err(|e| match e {
        // Names the variable, host and port already.
        StoreError::Unreachable(what) => fail(what, 2),
        other => fail(format!("DATABASE_URL: cannot connect to the database ({other})"), 2),
    })
}

/// The HS256 secret: given, or (embedded SQLite) read from, or generated into, the file beside the
/// database.
fn load_secret(source: &SecretSource) -> Result<Secret, Failure> {
    let path = match source {
        SecretSource::Given(secret) => return Ok(secret.clone()),
        SecretSource::File(path) => path,
    };
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.chars().count() < MIN_SECRET_LEN {
            return Err(fail(
                format!(
                    "BETTER_AUTH_SECRET: the secret in {} is shorter than {MIN_SECRET_LEN} characters",
                    path.display()
                ),
                2,
            ));
        }
        return Ok(Secret::new(existing));
    }
    let secret = generate_secret();
    write_private(path, &secret).map_err(|e| {
        fail(
            format!(
                "BETTER_AUTH_SECRET: not set, and cannot write a generated one to {} ({e})",
                path.display()
            ),
            2,
        )
    })?;
    tracing::warn!(
        file = %path.display(),
        "BETTER_AUTH_SECRET is not set: generated one and kept it in this file (mode 0600). Set BETTER_AUTH_SECRET to share tokens with a front end."
    );
    Ok(Secret::new(secret))
}

fn generate_secret() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

async fn serve(config: Config) -> Result<(), Failure> {
    let secret = load_secret(&config.secret)?;
    let store = connect(&config).await?;
    if config.auto_migrate {
        store
            .migrate_up()
            .await
            .map_err(|e| fail(format!("DATABASE_URL: migrations failed ({e})"), 1))?;
    } else if store.migration_status().await?.iter().any(|m| !m.applied) {
        tracing::warn!("AUTO_MIGRATE is off and migrations are pending: run `taskapi migrate up`");
    }
    let state = Arc::new(AppState::new(&config, &secret, store.clone()).map_err(|e| fail(e, 2))?);
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| fail(format!("HOST/PORT: cannot listen on {addr} ({e})"), 2))?;
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(addr);
    let backend = match &config.database {
        Database::Postgres(_) => "PostgreSQL".to_owned(),
        Database::Sqlite(path) => format!("SQLite ({})", path.display()),
    };
    tracing::info!(address = %local, database = %backend, "listening on http://{local} (web app: http://{local}/app/)");
    let upkeep = app::spawn_upkeep(state.clone());
    let metrics_upkeep = crate::http::metrics::spawn_upkeep();
    let changes = app::spawn_events(&state, &config);
    let streams = state.clone();
    let result = app::serve(listener, app::router(state, &config.cors_origins), async move {
        app::shutdown_signal().await;
        // Event streams never end by themselves: end them, so the grace is for requests.
        crate::events::places::end_all(&streams.events, streams.store.as_ref()).await;
    })
    .await;
    upkeep.abort();
    changes.abort();
    if let Some(task) = metrics_upkeep {
        task.abort();
    }
    store.close().await;
    result.map_err(|e| fail(format!("server error: {e}"), 1))?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config, action: MigrateAction) -> Result<(), Failure> {
    let store = connect(&config).await?;
    match action {
        MigrateAction::Up => {
            store.migrate_up().await?;
            println!("migrations applied");
        }
        MigrateAction::Down { steps } => {
            store.migrate_down(steps).await?;
            println!("reverted up to {steps} migration(s)");
        }
        MigrateAction::Status => {}
    }
    for m in store.migration_status().await? {
        println!(
            "{:>4}  {:<8} {}",
            m.version,
            if m.applied { "applied" } else { "pending" },
            m.name
        );
    }
    store.close().await;
    Ok(())
}

/// One line of an import file.
#[derive(Deserialize)]
struct ImportLine {
    email: String,
    hashed_password: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
    #[serde(default)]
    created_at: Option<String>,
}

/// RFC 3339, or a naive timestamp (as Python's `isoformat()` writes it) taken as UTC.
fn parse_created_at(s: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(s).or_else(|| {
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
        ]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s.trim(), f).ok())
        .map(|naive| Timestamp::from_datetime(naive.and_utc()))
    })
}

fn parse_import_line(line: &str) -> Result<ImportedAccount, String> {
    let raw: ImportLine =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object of the expected shape ({e})"))?;
    let email = Email::parse(&raw.email).ok_or_else(|| format!("invalid email {:?}", raw.email))?;
    if raw.hashed_password.trim().is_empty() {
        return Err("empty hashed_password".into());
    }
    let id = match raw.id {
        None | Some(serde_json::Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 255 => s.trim().to_owned(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("invalid id {other}")),
    };
    let created_at = match raw.created_at.as_deref() {
        None => Timestamp::now(),
        Some(s) => parse_created_at(s).ok_or_else(|| format!("invalid created_at {s:?}"))?,
    };
    let name = raw.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err("name longer than 100 characters".into());
    }
    Ok(ImportedAccount {
        id,
        email,
        password_hash: raw.hashed_password,
        name,
        is_active: raw.is_active.unwrap_or(true),
        created_at,
    })
}

async fn users(config: Config, action: UsersAction) -> Result<(), Failure> {
    // Read and check an import file before touching the database: a malformed line writes nothing.
    let import = match &action {
        UsersAction::Import { file } => {
            let text =
                std::fs::read_to_string(file).map_err(|e| fail(format!("cannot read {}: {e}", file.display()), 1))?;
            let mut accounts = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let account = parse_import_line(line).map_err(|why| {
                    fail(
                        format!("{}: line {}: {why}; nothing was imported", file.display(), n + 1),
                        1,
                    )
                })?;
                accounts.push(account);
            }
            Some(accounts)
        }
        _ => None,
    };
    let store = connect(&config).await?;
    if config.auto_migrate {
        store.migrate_up().await?;
    }
    let result = match action {
        UsersAction::List => {
            println!(
                "{:<36}  {:<40}  {:<8}  {:<8}  created_at",
                "user_id", "email", "active", "kind"
            );
            for a in store.list_accounts().await? {
                println!(
                    "{:<36}  {:<40}  {:<8}  {:<8}  {}",
                    a.user.user_id,
                    a.user.email.as_deref().unwrap_or("-"),
                    if a.user.is_active { "yes" } else { "no" },
                    if a.external { "external" } else { "local" },
                    a.user.created_at
                );
            }
            Ok(())
        }
        UsersAction::Disable { email } => set_active(store.as_ref(), &email, false).await,
        UsersAction::Enable { email } => set_active(store.as_ref(), &email, true).await,
        UsersAction::Import { .. } => {
            let accounts = import.unwrap_or_default();
            let outcome = store.import_accounts(&accounts).await?;
            println!(
                "imported {}, skipped {} (email or id already present)",
                outcome.imported, outcome.skipped
            );
            Ok(())
        }
    };
    store.close().await;
    result
}

async fn set_active(store: &dyn Store, email: &str, active: bool) -> Result<(), Failure> {
    let normalised = Email::parse(email)
        .map(Email::into_string)
        .unwrap_or_else(|| email.trim().to_lowercase());
    match store.set_active(&normalised, active).await? {
        Some(id) => {
            println!(
                "{} {normalised} ({id}); running servers notice within 30 s",
                if active { "enabled" } else { "disabled" }
            );
            Ok(())
        }
        None => Err(fail(format!("no account with email {normalised:?}"), 1)),
    }
}
