//! Better Auth sessions (§11): a Next.js front end calls the API with Better Auth's own session,
//! as a bearer token (its bearer plugin) or as its session cookie, with no JWT plugin.
//!
//! The signature is checked first, here, in constant time; then the session is looked up in
//! Better Auth's database or asked of Better Auth itself, and the answer cached for a short while.
//! A session's user becomes an external identity. Nothing here logs a token, only user ids.

pub mod cache;
pub mod credential;
pub mod database;
pub mod remote;

use chrono::{DateTime, Utc};

use self::cache::SessionCache;
use self::credential::{SessionCredential, Signature};
use self::database::SessionDatabase;
use self::remote::RemoteSessions;
use super::accounts::INVALID_TOKEN;
use super::token::Identity;
use crate::config::BetterAuthConfig;
use crate::error::ApiError;

/// The user behind a live session, as Better Auth knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

enum Lookup {
    Database(SessionDatabase),
    Remote(RemoteSessions),
}

pub struct BetterAuthSessions {
    secret: Vec<u8>,
    lookup: Lookup,
    cache: SessionCache,
}

impl BetterAuthSessions {
    /// `None` when neither `BETTER_AUTH_DATABASE_URL` nor `BETTER_AUTH_URL` is set. With both,
    /// the database is used: it answers without a round trip through the front end.
    pub fn new(config: &BetterAuthConfig, secret: &str) -> Result<Option<Self>, String> {
        let lookup = match (&config.database, &config.url) {
            (Some(database), url) => {
                if url.is_some() {
                    tracing::info!("Better Auth sessions: BETTER_AUTH_DATABASE_URL is used, BETTER_AUTH_URL is not");
                }
                Lookup::Database(SessionDatabase::connect(database))
            }
            (None, Some(url)) => Lookup::Remote(RemoteSessions::new(url)?),
            (None, None) => return Ok(None),
        };
        Ok(Some(Self {
            secret: secret.as_bytes().to_vec(),
            lookup,
            cache: SessionCache::new(config.cache_ttl),
        }))
    }

    /// The identity a session credential speaks for: 401 for a forged, unknown or expired
    /// session, 503 when Better Auth (its database or its URL) cannot answer.
    pub async fn identity(&self, credential: &SessionCredential) -> Result<Identity, ApiError> {
        if credential.check_signature(&self.secret) == Signature::Invalid {
            return Err(ApiError::Unauthorized(INVALID_TOKEN));
        }
        let user = match self.cache.get(&credential.token) {
            Some(user) => user,
            None => {
                let user = self.lookup(credential).await?;
                self.cache.put(&credential.token, user.clone());
                user
            }
        };
        let user = user
            .filter(|u| u.expires_at.is_none_or(|t| t > Utc::now()))
            .ok_or(ApiError::Unauthorized(INVALID_TOKEN))?;
        Ok(Identity {
            user_id: user.id,
            email: user.email,
            name: user.name,
            external: true,
            token_version: 0,
        })
    }

    async fn lookup(&self, credential: &SessionCredential) -> Result<Option<SessionUser>, ApiError> {
        let found = match &self.lookup {
            Lookup::Database(db) => db.session(&credential.token).await.map_err(|e| {
                tracing::warn!(error = %e, "Better Auth database unavailable for a session check");
                ApiError::AuthUnavailable
            })?,
            Lookup::Remote(remote) => remote.session(credential).await.map_err(|e| {
                tracing::warn!(error = %e.0, "Better Auth get-session unavailable for a session check");
                ApiError::AuthUnavailable
            })?,
        };
        let found = found.filter(|u| valid_user_id(&u.id));
        if let Some(user) = &found {
            tracing::debug!(user_id = %user.id, "Better Auth session checked");
        }
        Ok(found)
    }
}

/// User ids are opaque strings of at most 255 characters (§1).
fn valid_user_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= crate::domain::account::USER_ID_MAX && !id.chars().any(char::is_control)
}
