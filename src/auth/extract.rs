//! The extractors every protected route starts with.
//!
//! Order of checks, as the contract wants: authentication (401) before authorization (403)
//! before any validation of the path or body (422).

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::accounts::INVALID_TOKEN;
use crate::app::AppState;
use crate::error::{ApiError, ACCESS_DENIED};

/// The caller, authenticated by a bearer token and admitted (account exists, active, token not
/// revoked).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub external: bool,
    /// The token version the token carries (ours only).
    pub token_version: i32,
}

/// Reads `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("Authorization header missing"))?;
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
    Ok(token)
}

impl FromRequestParts<Arc<AppState>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = bearer(parts)?;
        let identity = state
            .tokens
            .verify(token)
            .await
            .ok_or(ApiError::Unauthorized(INVALID_TOKEN))?;
        state.accounts.admit(state.store.as_ref(), &identity).await?;
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
