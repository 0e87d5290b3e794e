//! `/api/auth/*`: signup, login, the current account, password change, account deletion.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::json::{JsonBody, OptionalJsonBody};
use super::openapi as doc;
use crate::app::AppState;
use crate::auth::accounts::INVALID_TOKEN;
use crate::auth::password::Verdict;
use crate::auth::AuthUser;
use crate::domain::account::{parse_delete_password, Account, ChangePassword, Login, Signup, User};
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult, FieldError, ACCOUNT_DISABLED, INCORRECT_PASSWORD};
use crate::store::NewAccount;

const INVALID_CREDENTIALS: &str = "Invalid email or password";

/// A fresh token. `token` and `access_token` are the same JWT, under both names clients use.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub user_id: String,
    pub email: Option<String>,
    pub token: String,
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 604800)]
    pub expires_in: u64,
}

/// Signup's answer: the new account and a token for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    #[serde(flatten)]
    pub user: User,
    pub token: String,
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    pub expires_in: u64,
}

fn client_ip(extensions: &Extensions) -> String {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |ConnectInfo(addr)| addr.ip().to_string())
}

/// The caller's stored account; gone since the token was admitted means the token is dead.
async fn caller_account(state: &AppState, user: &AuthUser) -> ApiResult<Account> {
    state
        .store
        .account_by_id(&user.id)
        .await?
        .ok_or(ApiError::Unauthorized(INVALID_TOKEN))
}

fn token_for(state: &AppState, user_id: &str, email: Option<&str>, version: i32) -> ApiResult<TokenResponse> {
    let issued = state
        .tokens
        .issue(user_id, email, version)
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        user_id: user_id.to_owned(),
        email: email.map(str::to_owned),
        access_token: issued.token.clone(),
        token: issued.token,
        token_type: "bearer",
        expires_in: issued.expires_in,
    })
}

/// Create an account; answers with it and a token for it.
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    operation_id = "signup",
    tag = "auth",
    request_body = doc::SignupRequest,
    responses(
        (status = 201, description = "The new account, and a token for it", body = SignupResponse),
        (status = 409, response = doc::Conflict),
        doc::BodyErrors,
        (status = 429, response = doc::TooManyRequests),
        doc::ServerErrors,
    )
)]
pub async fn signup(
    State(state): State<Arc<AppState>>,
    extensions: Extensions,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let signup = Signup::parse(&body)?;
    let ip = client_ip(&extensions);
    if let Some(retry_after_secs) = state.store.admit_signup(&ip).await? {
        crate::http::metrics::rate_limited("signup");
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let password_hash = state.passwords.hash(signup.password).await?;
    let account = state
        .store
        .create_account(NewAccount {
            id: uuid::Uuid::new_v4().to_string(),
            email: signup.email,
            password_hash,
            name: signup.name,
            created_at: Timestamp::now(),
        })
        .await?;
    let token = token_for(
        &state,
        &account.user.user_id,
        account.user.email.as_deref(),
        account.token_version,
    )?;
    let body = SignupResponse {
        user: account.user,
        token: token.token,
        access_token: token.access_token,
        token_type: token.token_type,
        expires_in: token.expires_in,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Exchange an email and password for a token.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = doc::LoginRequest,
    responses(
        (status = 200, description = "A fresh token", body = TokenResponse),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        doc::BodyErrors,
        (status = 429, response = doc::TooManyRequests),
        doc::ServerErrors,
    )
)]
pub async fn login(
    State(state): State<Arc<AppState>>,
    extensions: Extensions,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<TokenResponse>> {
    let login = Login::parse(&body)?;
    // Failures are counted per client and email; past the limit even the right password is
    // refused, so the limit reveals nothing.
    let key = format!("{}|{}", client_ip(&extensions), login.email);
    let attempt = state.store.login_attempt(&login.email, &key).await?;
    let counted = attempt.admission.map_err(|retry_after_secs| {
        crate::http::metrics::rate_limited("login");
        ApiError::TooManyRequests { retry_after_secs }
    })?;
    let hash = attempt.account.as_ref().and_then(|a| a.password_hash.clone());
    let verdict = state.passwords.verify(login.password.clone(), hash).await?;
    let Some(account) = attempt.account.filter(|_| verdict.is_right()) else {
        // Counted already, as it was let through.
        return Err(ApiError::Unauthorized(INVALID_CREDENTIALS));
    };
    // Successful logins do not count. Off the answer's path: the client need not wait for it.
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.release_login(&key, counted).await {
            tracing::warn!(error = %e, "could not uncount a successful login");
        }
    });
    if !account.user.is_active {
        return Err(ApiError::Forbidden(ACCOUNT_DISABLED));
    }
    if verdict == Verdict::RightButRehash {
        // An imported bcrypt hash: replace it with Argon2id now that the password is known.
        let fresh = state.passwords.hash(login.password).await?;
        state.store.set_password(&account.user.user_id, &fresh, false).await?;
    }
    Ok(Json(token_for(
        &state,
        &account.user.user_id,
        account.user.email.as_deref(),
        account.token_version,
    )?))
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/api/auth/me",
    operation_id = "getMe",
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = User), doc::AuthErrors, doc::ServerErrors)
)]
pub async fn me(State(state): State<Arc<AppState>>, user: AuthUser) -> ApiResult<Json<User>> {
    let account = caller_account(&state, &user).await?;
    Ok(Json(account.user))
}

/// Change the caller's password; every token issued before stops working.
#[utoipa::path(
    post,
    path = "/api/auth/change-password",
    operation_id = "changePassword",
    tag = "auth",
    security(("bearer" = [])),
    request_body = doc::ChangePasswordRequest,
    responses(
        (status = 200, description = "A fresh token (the one used for this request no longer works)", body = TokenResponse),
        doc::AuthErrors,
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<TokenResponse>> {
    let change = ChangePassword::parse(&body)?;
    let account = caller_account(&state, &user).await?;
    // An external identity has no password here, so no current password can be right.
    let Some(hash) = account.password_hash.clone() else {
        return Err(ApiError::Forbidden(INCORRECT_PASSWORD));
    };
    if !state
        .passwords
        .verify(change.current_password, Some(hash))
        .await?
        .is_right()
    {
        return Err(ApiError::Forbidden(INCORRECT_PASSWORD));
    }
    let fresh = state.passwords.hash(change.new_password).await?;
    let version = state
        .store
        .set_password(&user.id, &fresh, true)
        .await?
        .ok_or(ApiError::Unauthorized(INVALID_TOKEN))?;
    // Other instances hear of it from the database, or at their streams' next check.
    state.account_changed(&user.id);
    Ok(Json(token_for(
        &state,
        &user.id,
        account.user.email.as_deref(),
        version,
    )?))
}

/// Delete the caller's account with its tasks and categories.
#[utoipa::path(
    delete,
    path = "/api/auth/me",
    operation_id = "deleteMe",
    tag = "auth",
    security(("bearer" = [])),
    request_body(
        content = doc::DeleteAccountRequest,
        description = "The password; required for an account that has one (an external identity has none and sends no body)"
    ),
    responses(
        (status = 204, description = "The account, its tasks and its categories are deleted"),
        doc::AuthErrors,
        doc::BodyErrors,
        doc::ServerErrors,
    )
)]
pub async fn delete_me(
    State(state): State<Arc<AppState>>,
    user: AuthUser,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<StatusCode> {
    let account = caller_account(&state, &user).await?;
    if let Some(hash) = account.password_hash {
        let password = match body {
            Some(body) => parse_delete_password(&body)?,
            None => {
                return Err(ApiError::field(FieldError::body(
                    "password",
                    "Field required",
                    "missing",
                )))
            }
        };
        if !state.passwords.verify(password, Some(hash)).await?.is_right() {
            return Err(ApiError::Forbidden(INCORRECT_PASSWORD));
        }
    }
    state.store.delete_account(&user.id).await?;
    state.account_changed(&user.id);
    Ok(StatusCode::NO_CONTENT)
}
