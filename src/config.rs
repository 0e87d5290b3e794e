use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// Where the embedded default keeps its database, relative to the working directory.
pub const DEFAULT_SQLITE_FILE: &str = "taskapi.db";
/// The shortest shared secret accepted for HS256.
pub const MIN_SECRET_LEN: usize = 32;

/// A configuration problem: names the variable and says what is wrong, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The database the server talks to.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(Box<PgTarget>),
    Sqlite(PathBuf),
}

/// A PostgreSQL server, or a pooler in front of one.
#[derive(Debug, Clone)]
pub struct PgTarget {
    pub options: PgConnectOptions,
    /// `pgbouncer=true`: a pooler that cannot carry named prepared statements.
    pub unnamed_statements: bool,
}

/// Where the HS256 secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// Given by `BETTER_AUTH_SECRET` / `JWT_SECRET`.
    Given(Secret),
    /// Not given, on SQLite: generated once and kept in this file (mode 0600).
    File(PathBuf),
}

/// Everything the server needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: Database,
    pub secret: SecretSource,
    pub host: String,
    pub port: u16,
    pub cors_origins: Vec<String>,
    pub jwt_expires_in: Duration,
    pub jwt_issuer: String,
    pub jwks_url: Option<String>,
    pub external_issuer: Option<String>,
    pub external_audience: Option<String>,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    pub auto_migrate: bool,
    pub login_limit_per_minute: u32,
    pub signup_limit_per_minute: u32,
    pub idempotency_ttl: Duration,
    pub sync_retention: Duration,
    /// `DATABASE_DIRECT_URL`: the server itself when `DATABASE_URL` goes through a pooler.
    pub database_direct: Option<Box<PgConnectOptions>>,
    /// `METRICS_TOKEN`: `/metrics` exists only when set, and needs it as a bearer token.
    pub metrics_token: Option<Secret>,
    pub log_format: LogFormat,
    /// Better Auth sessions (§11): its database, its base URL, how long an answer is reused.
    pub better_auth: BetterAuthConfig,
    /// Open event streams allowed per user (`SSE_MAX_PER_USER`).
    pub sse_max_per_user: usize,
}

/// `LOG_FORMAT`: human-readable lines, or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(ConfigError::new(
                "LOG_FORMAT",
                format!("expected text or json, got {other:?}"),
            )),
        }
    }
}

/// Where Better Auth sessions are checked; neither set: session credentials are not accepted.
#[derive(Debug, Clone, Default)]
pub struct BetterAuthConfig {
    /// `BETTER_AUTH_DATABASE_URL`: the database with Better Auth's `session` and `user` tables.
    pub database: Option<Database>,
    /// `BETTER_AUTH_URL`: the front end whose `/api/auth/get-session` answers for a session.
    pub url: Option<url::Url>,
    /// `BETTER_AUTH_CACHE_TTL`: how long a session check (either answer) is reused; at most 60 s.
    pub cache_ttl: Duration,
}

impl BetterAuthConfig {
    pub fn enabled(&self) -> bool {
        self.database.is_some() || self.url.is_some()
    }
}

/// The longest a session check may be reused: a signed-out session stops working within it.
pub const MAX_SESSION_CACHE_TTL: Duration = Duration::from_secs(60);

impl Config {
    /// Reads the process environment, after loading `.env` from the working directory (the real
    /// environment wins).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable lookup (the tests pass a map).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let database = match get("DATABASE_URL") {
            Some(url) => parse_database_url(&url)?,
            None => Database::Sqlite(PathBuf::from(DEFAULT_SQLITE_FILE)),
        };

        let secret = match get("BETTER_AUTH_SECRET").or_else(|| get("JWT_SECRET")) {
            Some(s) if s.chars().count() < MIN_SECRET_LEN => {
                return Err(ConfigError::new(
                    "BETTER_AUTH_SECRET",
                    format!("must be at least {MIN_SECRET_LEN} characters long"),
                ))
            }
            Some(s) => SecretSource::Given(Secret::new(s)),
            None => match &database {
                Database::Sqlite(path) => SecretSource::File(secret_file_beside(path)),
                Database::Postgres(_) => {
                    return Err(ConfigError::new(
                        "BETTER_AUTH_SECRET",
                        "is required with PostgreSQL (at least 32 characters)",
                    ))
                }
            },
        };

        let port = match get("PORT") {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| ConfigError::new("PORT", format!("not a port number: {p:?}")))?,
            None => 8000,
        };

        let mut cors_origins: Vec<String> = get("CORS_ORIGINS")
            .unwrap_or_else(|| "http://localhost:3000".to_owned())
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(frontend) = get("FRONTEND_URL") {
            let frontend = frontend.trim_end_matches('/').to_owned();
            if !cors_origins.contains(&frontend) {
                cors_origins.push(frontend);
            }
        }
        for origin in &cors_origins {
            if axum::http::HeaderValue::from_str(origin).is_err() || !origin.contains("://") {
                return Err(ConfigError::new("CORS_ORIGINS", format!("not an origin: {origin:?}")));
            }
        }

        let jwt_expires_in = match get("JWT_EXPIRES_IN") {
            Some(v) => parse_duration(&v).filter(|d| !d.is_zero()).ok_or_else(|| {
                ConfigError::new("JWT_EXPIRES_IN", format!("expected seconds or 7d/12h/30m, got {v:?}"))
            })?,
            None => Duration::from_secs(7 * 24 * 3600),
        };

        let db_max_connections = match get("DB_MAX_CONNECTIONS") {
            Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ConfigError::new("DB_MAX_CONNECTIONS", format!("expected a positive number, got {v:?}"))
            })?,
            None => default_pool_size(),
        };
        let db_acquire_timeout = match get("DB_ACQUIRE_TIMEOUT") {
            Some(v) => parse_duration_fine(&v)
                .filter(|d| !d.is_zero() && *d <= Duration::from_secs(5))
                .ok_or_else(|| {
                    ConfigError::new(
                        "DB_ACQUIRE_TIMEOUT",
                        format!("expected a duration up to 5s (e.g. 3s, 500ms), got {v:?}"),
                    )
                })?,
            None => Duration::from_secs(3),
        };

        let positive_duration = |name: &'static str, default: Duration| match get(name) {
            Some(v) => parse_duration(&v).filter(|d| !d.is_zero()).ok_or_else(|| {
                ConfigError::new(
                    name,
                    format!("expected seconds or a duration such as 2s, 30m, 24h, 30d, got {v:?}"),
                )
            }),
            None => Ok(default),
        };
        let idempotency_ttl = positive_duration("IDEMPOTENCY_TTL", Duration::from_secs(24 * 3600))?;
        let sync_retention = positive_duration("SYNC_RETENTION", Duration::from_secs(30 * 24 * 3600))?;

        let sse_max_per_user = match get("SSE_MAX_PER_USER") {
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    ConfigError::new(
                        "SSE_MAX_PER_USER",
                        format!("expected a number from 1 to 1000, got {v:?}"),
                    )
                })?,
            None => 8,
        };

        let jwks_url = get("AUTH_JWKS_URL");
        if let Some(u) = &jwks_url {
            match url::Url::parse(u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
                _ => return Err(ConfigError::new("AUTH_JWKS_URL", format!("not an http(s) URL: {u:?}"))),
            }
        }

        let database_direct = match (get("DATABASE_DIRECT_URL"), &database) {
            (None, _) => None,
            (Some(url), Database::Postgres(_)) => match parse_database_url(&url) {
                Ok(Database::Postgres(target)) => Some(Box::new(target.options)),
                Ok(Database::Sqlite(_)) => {
                    return Err(ConfigError::new("DATABASE_DIRECT_URL", "must be a PostgreSQL URL"))
                }
                Err(e) => return Err(ConfigError::new("DATABASE_DIRECT_URL", e.message)),
            },
            (Some(_), Database::Sqlite(_)) => {
                return Err(ConfigError::new(
                    "DATABASE_DIRECT_URL",
                    "only applies when DATABASE_URL is a PostgreSQL URL",
                ))
            }
        };
        let better_auth = better_auth_config(&get)?;

        Ok(Self {
            database,
            database_direct,
            metrics_token: get("METRICS_TOKEN").map(Secret::new),
            log_format: LogFormat::parse(get("LOG_FORMAT").as_deref())?,
            secret,
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port,
            cors_origins,
            jwt_expires_in,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "taskapi".to_owned()),
            jwks_url,
            external_issuer: get("AUTH_JWT_ISSUER"),
            external_audience: get("AUTH_JWT_AUDIENCE"),
            db_max_connections,
            db_acquire_timeout,
            auto_migrate: parse_bool("AUTO_MIGRATE", get("AUTO_MIGRATE"), true)?,
            idempotency_ttl,
            sync_retention,
            sse_max_per_user,
            login_limit_per_minute: parse_limit("RATE_LIMIT_LOGIN_PER_MINUTE", get("RATE_LIMIT_LOGIN_PER_MINUTE"), 10)?,
            signup_limit_per_minute: parse_limit(
                "RATE_LIMIT_SIGNUP_PER_MINUTE",
                get("RATE_LIMIT_SIGNUP_PER_MINUTE"),
                30,
            )?,
            better_auth,
        })
    }
}

fn better_auth_config(get: &impl Fn(&str) -> Option<String>) -> Result<BetterAuthConfig, ConfigError> {
    let database = get("BETTER_AUTH_DATABASE_URL")
        .map(|raw| parse_database_url_of("BETTER_AUTH_DATABASE_URL", &raw))
        .transpose()?;
    let url = match get("BETTER_AUTH_URL") {
        Some(raw) => match url::Url::parse(raw.trim_end_matches('/')) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
            _ => {
                return Err(ConfigError::new(
                    "BETTER_AUTH_URL",
                    format!("not an http(s) URL: {raw:?}"),
                ))
            }
        },
        None => None,
    };
    let cache_ttl = match get("BETTER_AUTH_CACHE_TTL") {
        Some(v) => parse_duration_fine(&v)
            .filter(|d| *d <= MAX_SESSION_CACHE_TTL)
            .ok_or_else(|| {
                ConfigError::new(
                    "BETTER_AUTH_CACHE_TTL",
                    format!("expected a duration up to 60s (e.g. 30s, 500ms, 0 = no cache), got {v:?}"),
                )
            })?,
        None => Duration::from_secs(30),
    };
    Ok(BetterAuthConfig {
        database,
        url,
        cache_ttl,
    })
}

/// Writers wait on WAL flushes, not on the CPU: more connections than cores let PostgreSQL commit
/// them in groups. Measured on 2 cores: 24 connections toggle 24 % faster than 8, reads alike.
/// The cores this process may use (2 when the system cannot say).
pub fn cores() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get() as u32)
}

fn default_pool_size() -> u32 {
    (cores() * 8 + 8).clamp(16, 64)
}

fn secret_file_beside(db: &Path) -> PathBuf {
    let mut name = db
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| DEFAULT_SQLITE_FILE.into());
    name.push(".secret");
    db.with_file_name(name)
}

fn parse_bool(variable: &'static str, value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::new(
            variable,
            format!("expected true or false, got {other:?}"),
        )),
    }
}

fn parse_limit(variable: &'static str, value: Option<String>, default: u32) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError::new(variable, format!("expected a whole number (0 = off), got {v:?}"))),
    }
}

/// `3600`, `7d`, `12h`, `30m`, `45s`.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// Like [`parse_duration`], plus milliseconds (`500ms`).
fn parse_duration_fine(value: &str) -> Option<Duration> {
    match value.trim().strip_suffix("ms") {
        Some(ms) => ms.parse().ok().map(Duration::from_millis),
        None => parse_duration(value),
    }
}

/// Accepts every URL form the FastAPI system used: `postgres://`, `postgresql://`,
/// `postgresql+asyncpg://`, `postgresql+psycopg2://`, asyncpg's `ssl=` beside libpq's `sslmode=`,
/// and Neon's extra parameters (dropped), plus `sqlite://PATH`.
pub fn parse_database_url(raw: &str) -> Result<Database, ConfigError> {
    parse_database_url_of("DATABASE_URL", raw)
}

/// [`parse_database_url`] for another variable, named in its errors.
fn parse_database_url_of(variable: &'static str, raw: &str) -> Result<Database, ConfigError> {
    let bad = |why: &str| ConfigError::new(variable, why.to_owned());
    let (scheme, rest) = raw
        .split_once("://")
        .or_else(|| raw.split_once(':').filter(|(s, _)| s.eq_ignore_ascii_case("sqlite")))
        .ok_or_else(|| bad("not a URL (expected postgres://… or sqlite://PATH)"))?;
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" | "sqlite3" => {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(bad("sqlite:// needs a file path, e.g. sqlite://taskapi.db"));
            }
            Ok(Database::Sqlite(PathBuf::from(path)))
        }
        "postgres"
        | "postgresql"
        | "postgresql+asyncpg"
        | "postgresql+psycopg2"
        | "postgresql+psycopg"
        | "postgres+asyncpg" => {
            let url = url::Url::parse(&format!("postgres://{rest}"))
                .map_err(|e| bad(&format!("not a valid PostgreSQL URL ({e})")))?;
            if url.host_str().is_none_or(str::is_empty) && !url.query_pairs().any(|(k, _)| k == "host") {
                return Err(bad("the PostgreSQL URL names no host"));
            }
            let mut clean = url.clone();
            clean.set_query(None);
            let mut sslmode: Option<String> = None;
            let mut pgbouncer = false;
            let mut kept: Vec<(String, String)> = Vec::new();
            for (key, value) in url.query_pairs() {
                match key.as_ref() {
                    "sslmode" => sslmode = Some(value.into_owned()),
                    // Prisma's convention: a pooler that cannot carry named prepared statements.
                    "pgbouncer" => pgbouncer = matches!(value.as_ref(), "true" | "1"),
                    // asyncpg's spelling.
                    "ssl" => {
                        sslmode = Some(match value.as_ref() {
                            "true" | "1" => "require".to_owned(),
                            "false" | "0" => "disable".to_owned(),
                            other => other.to_owned(),
                        })
                    }
                    "sslrootcert"
                    | "sslcert"
                    | "sslkey"
                    | "application_name"
                    | "options"
                    | "host"
                    | "port"
                    | "dbname"
                    | "user"
                    | "password"
                    | "statement-cache-capacity" => kept.push((key.into_owned(), value.into_owned())),
                    // channel_binding, connect_timeout, pool options and the like: not ours to use.
                    _ => {}
                }
            }
            let tls_asked = sslmode.is_some();
            if let Some(mode) = sslmode {
                if !matches!(
                    mode.as_str(),
                    "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full"
                ) {
                    return Err(bad(&format!("unknown sslmode {mode:?}")));
                }
                kept.push(("sslmode".to_owned(), mode));
            }
            if !kept.is_empty() {
                clean.query_pairs_mut().extend_pairs(kept);
            }
            let mut options = PgConnectOptions::from_str(clean.as_str())
                .map_err(|e| bad(&format!("not a valid PostgreSQL URL ({e})")))?;
            if !tls_asked && std::env::var_os("PGSSLMODE").is_none() && is_loopback(options.get_host()) {
                // libpq's default, `prefer`, would negotiate TLS with a server on this machine, where
                // it protects nothing and costs both sides CPU on every statement.
                options = options.ssl_mode(PgSslMode::Disable);
            }
            if pgbouncer {
                // Nothing to cache: every statement is sent unnamed (see store::postgres::db).
                options = options.statement_cache_capacity(0);
            }
            Ok(Database::Postgres(Box::new(PgTarget {
                options,
                unnamed_statements: pgbouncer,
            })))
        }
        other => Err(bad(&format!(
            "unsupported scheme {other:?} (expected postgres:// or sqlite://)"
        ))),
    }
}

/// A host on this machine: a loopback name or address, or a Unix socket's directory.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn pg(url: &str) -> PgConnectOptions {
        match parse_database_url(url).unwrap() {
            Database::Postgres(target) => target.options,
            other => panic!("expected PostgreSQL, got {other:?}"),
        }
    }

    #[test]
    fn asyncpg_url_with_ssl_disable_parses() {
        let o = pg("postgresql+asyncpg://postgres@127.0.0.1:5432/test?ssl=disable");
        assert_eq!(o.get_host(), "127.0.0.1");
        assert_eq!(o.get_port(), 5432);
        assert_eq!(o.get_database(), Some("test"));
        assert_eq!(o.get_username(), "postgres");
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Disable));
    }

    #[test]
    fn neon_url_forms_require_tls() {
        let o = pg("postgres://u:p@ep-x.eu-central-1.aws.neon.tech/db?sslmode=require&channel_binding=require");
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Require));
        assert_eq!(o.get_database(), Some("db"));
        let o = pg("postgresql+asyncpg://u:p@ep-x.neon.tech/db?ssl=require");
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Require));
        let o = pg("postgresql+psycopg2://u:p@localhost/db");
        assert_eq!(o.get_database(), Some("db"));
    }

    #[test]
    fn a_server_on_this_machine_is_reached_without_tls_unless_asked() {
        for url in [
            "postgres://u@127.0.0.1:5432/db",
            "postgres://u@localhost/db",
            "postgres://u@[::1]:5432/db",
            "postgres://u@127.0.0.2/db",
            "postgres:///db?host=/var/run/postgresql",
        ] {
            assert!(matches!(pg(url).get_ssl_mode(), PgSslMode::Disable), "{url}");
        }
        assert!(matches!(
            pg("postgres://u@db.internal/db").get_ssl_mode(),
            PgSslMode::Prefer
        ));
        assert!(matches!(
            pg("postgres://u@10.0.0.5/db").get_ssl_mode(),
            PgSslMode::Prefer
        ));
        let o = pg("postgres://u@127.0.0.1/db?sslmode=require");
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Require));
        let o = pg("postgres://u@localhost/db?sslmode=prefer");
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Prefer));
        let o = pg("postgresql+asyncpg://u@localhost/db?ssl=true");
        assert!(matches!(o.get_ssl_mode(), PgSslMode::Require));
    }

    #[test]
    fn garbage_urls_name_the_variable() {
        for url in [
            "not a url",
            "mysql://x/y",
            "postgres://",
            "sqlite://",
            "postgres://h/db?sslmode=bogus",
        ] {
            let err = parse_database_url(url).unwrap_err();
            assert_eq!(err.variable, "DATABASE_URL", "{url}");
            assert!(err.to_string().starts_with("DATABASE_URL: "), "{err}");
        }
    }

    #[test]
    fn embedded_default_needs_nothing() {
        let c = config(&[]).unwrap();
        assert!(matches!(&c.database, Database::Sqlite(p) if p == Path::new("taskapi.db")));
        assert!(matches!(&c.secret, SecretSource::File(p) if p == Path::new("taskapi.db.secret")));
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8000));
        assert_eq!(c.jwt_expires_in, Duration::from_secs(7 * 86_400));
        assert_eq!(c.cors_origins, vec!["http://localhost:3000"]);
        assert!(c.db_acquire_timeout <= Duration::from_secs(5));
        assert!(c.auto_migrate);
        assert_eq!((c.login_limit_per_minute, c.signup_limit_per_minute), (10, 30));
    }

    #[test]
    fn secret_rules() {
        let err = config(&[("BETTER_AUTH_SECRET", "short")]).unwrap_err();
        assert_eq!(err.variable, "BETTER_AUTH_SECRET");
        let err = config(&[("DATABASE_URL", "postgres://localhost/db")]).unwrap_err();
        assert_eq!(err.variable, "BETTER_AUTH_SECRET");
        let c = config(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("JWT_SECRET", &"x".repeat(32)),
        ])
        .unwrap();
        assert!(matches!(c.secret, SecretSource::Given(ref s) if s.expose().len() == 32));
        assert!(!format!("{c:?}").contains(&"x".repeat(32)), "secrets never print");
    }

    #[test]
    fn durations_and_origins() {
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("12h"), Some(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1_800)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("7w"), None);
        assert_eq!(
            config(&[("JWT_EXPIRES_IN", "soon")]).unwrap_err().variable,
            "JWT_EXPIRES_IN"
        );
        assert_eq!(config(&[("PORT", "99999")]).unwrap_err().variable, "PORT");
        assert_eq!(
            config(&[("DB_ACQUIRE_TIMEOUT", "30s")]).unwrap_err().variable,
            "DB_ACQUIRE_TIMEOUT"
        );
        let c = config(&[
            ("CORS_ORIGINS", "http://a.test, http://b.test/"),
            ("FRONTEND_URL", "https://app.test"),
        ])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            vec!["http://a.test", "http://b.test", "https://app.test"]
        );
        assert_eq!(
            config(&[("RATE_LIMIT_LOGIN_PER_MINUTE", "0")])
                .unwrap()
                .login_limit_per_minute,
            0
        );
    }

    #[test]
    fn better_auth_settings() {
        let c = config(&[]).unwrap();
        assert!(!c.better_auth.enabled());
        assert_eq!(c.better_auth.cache_ttl, Duration::from_secs(30));
        let c = config(&[
            (
                "BETTER_AUTH_DATABASE_URL",
                "postgresql+asyncpg://u@db.test/auth?sslmode=require",
            ),
            ("BETTER_AUTH_URL", "https://app.test/"),
            ("BETTER_AUTH_CACHE_TTL", "500ms"),
        ])
        .unwrap();
        assert!(
            matches!(&c.better_auth.database, Some(Database::Postgres(o)) if o.options.get_database() == Some("auth"))
        );
        assert_eq!(
            c.better_auth.url.as_ref().map(|u| u.as_str()),
            Some("https://app.test/")
        );
        assert_eq!(c.better_auth.cache_ttl, Duration::from_millis(500));
        let c = config(&[("BETTER_AUTH_DATABASE_URL", "sqlite:///var/lib/auth.db")]).unwrap();
        assert!(matches!(&c.better_auth.database, Some(Database::Sqlite(p)) if p == Path::new("/var/lib/auth.db")));
        for (variable, value) in [
            ("BETTER_AUTH_DATABASE_URL", "mysql://x/y"),
            ("BETTER_AUTH_DATABASE_URL", "sqlite://"),
            ("BETTER_AUTH_URL", "app.test"),
            ("BETTER_AUTH_URL", "ftp://app.test"),
            ("BETTER_AUTH_CACHE_TTL", "2m"),
            ("BETTER_AUTH_CACHE_TTL", "soon"),
        ] {
            let err = config(&[(variable, value)]).unwrap_err();
            assert_eq!(err.variable, variable, "{value}");
            assert!(err.to_string().starts_with(&format!("{variable}: ")), "{err}");
        }
    }
}
