//! The extractors every protected route starts with.
//!
//! Order of checks, as the contract wants: authentication (401) before authorization (403)
//! before any validation of the path or body (422).
//!
//! Credentials: `Authorization: Bearer` with a JWT (ours, or an external issuer's) or, when
//! Better Auth sessions are configured, with a session token; or Better Auth's session cookie.
//! A JWT has two dots, a session token (`token.signature`) at most one.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::Method;

use super::accounts::INVALID_TOKEN;
use super::better_auth::credential::{SessionCredential, Source};
use crate::app::AppState;
use crate::error::{ApiError, ACCESS_DENIED, CROSS_SITE_REFUSED};

/// The caller, authenticated by a token or a session and admitted (account exists, active,
/// token not revoked).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub external: bool,
    /// The token version the token carries (ours only).
    pub token_version: i32,
}

/// What the request authenticates with.
enum Credential<'a> {
    Jwt(&'a str),
    Session(SessionCredential),
}

/// Reads `Authorization: Bearer <token>`; `None` when there is no such header.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("Invalid authorization header"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthorized("Invalid authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized("Invalid authorization header"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::Unauthorized("Invalid authorization header"));
    }
    Ok(Some(token))
}

fn credential(parts: &Parts, sessions: bool) -> Result<Credential<'_>, ApiError> {
    match bearer(parts)? {
        Some(token) if sessions && token.matches('.').count() != 2 => SessionCredential::parse(Source::Bearer, token)
            .map(Credential::Session)
            .ok_or(ApiError::Unauthorized(INVALID_TOKEN)),
        Some(token) => Ok(Credential::Jwt(token)),
        None => match sessions.then(|| SessionCredential::cookie(&parts.headers)).flatten() {
            Some(value) => SessionCredential::parse(Source::Cookie, value)
                .map(Credential::Session)
                .ok_or(ApiError::Unauthorized(INVALID_TOKEN)),
            None => Err(ApiError::Unauthorized("Authorization header missing")),
        },
    }
}

/// A browser sends cookies with cross-site requests too; a state-changing one is only taken
/// from an allowed origin (the CORS list) or the server's own (the `Origin`'s host and port are
/// the request's `Host`).
fn same_site_or_allowed(parts: &Parts, allowed: &[String]) -> bool {
    let Some(origin) = parts.headers.get(ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let origin_authority = url::Url::parse(origin).ok().and_then(|u| {
        let host = u.host_str()?.to_owned();
        Some(match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    matches!((host, origin_authority), (Some(h), Some(o)) if h.eq_ignore_ascii_case(&o))
}

fn changes_state(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

impl FromRequestParts<Arc<AppState>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let sessions = state.better_auth.as_ref();
        let (identity, by_cookie) = match credential(parts, sessions.is_some())? {
            Credential::Jwt(token) => {
                let identity = state
                    .tokens
                    .verify(token)
                    .await
                    .ok_or(ApiError::Unauthorized(INVALID_TOKEN))?;
                (identity, false)
            }
            Credential::Session(credential) => {
                let sessions = sessions.ok_or(ApiError::Unauthorized(INVALID_TOKEN))?;
                (
                    sessions.identity(&credential).await?,
                    credential.source == Source::Cookie,
                )
            }
        };
        state.accounts.admit(state.store.as_ref(), &identity).await?;
        if by_cookie && changes_state(&parts.method) && !same_site_or_allowed(parts, &state.cors_origins) {
            return Err(ApiError::Forbidden(CROSS_SITE_REFUSED));
        }
        let user = AuthUser {
            id: identity.user_id,
            external: identity.external,
            token_version: identity.token_version,
        };
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// An [`AuthUser`] acting on `/api/{user_id}/…`: the path's user id must be the token's subject.
#[derive(Debug, Clone)]
pub struct OwnerScope(pub AuthUser);

impl OwnerScope {
    pub fn user_id(&self) -> &str {
        &self.0.id
    }
}

impl FromRequestParts<Arc<AppState>> for OwnerScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Forbidden(ACCESS_DENIED))?;
        let path_user = params
            .iter()
            .find(|(name, _)| *name == "user_id")
            .map(|(_, value)| value);
        // axum hands over the value percent-decoded, so `%41` cannot dodge the comparison.
        let matches = path_user == Some(user.id.as_str());
        if matches {
            Ok(Self(user))
        } else {
            Err(ApiError::Forbidden(ACCESS_DENIED))
        }
    }
}
