//! Accounts: the user object, and the bodies of the auth routes.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::body::{bounded, string, Fields, ParseResult};
use super::Timestamp;
use crate::error::ApiError;

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const EMAIL_MAX: usize = 254;
pub const NAME_MAX: usize = 100;
pub const USER_ID_MAX: usize = 255;

/// An account as the API shows it. The password hash has no field here, so it cannot leak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    /// A UUID for accounts created here, or the external issuer's `sub`.
    #[schema(example = "0b9f3c2e-8a52-4f9e-9d1c-1b2f1e0c7a11")]
    pub user_id: String,
    /// Lower-case; `null` only for an external identity whose token carried no usable email.
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    #[schema(example = "Ada")]
    pub name: Option<String>,
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime, example = "2026-01-29T10:00:00.123456Z")]
    pub created_at: Timestamp,
}

/// A stored account with what authentication needs besides the public object.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    /// `None` for external identities (they have no password here).
    pub password_hash: Option<String>,
    /// Bumped by every password change; tokens carrying an older value stop working.
    pub token_version: i32,
    /// Created for an external issuer's identity rather than by signup.
    pub external: bool,
}

/// A trimmed, lower-cased email of the form `local@domain.tld`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Option<Self> {
        let email = raw.trim().to_lowercase();
        if email.is_empty()
            || email.chars().count() > EMAIL_MAX
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return None;
        }
        let (local, domain) = email.rsplit_once('@')?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.starts_with('-');
        if local.is_empty() || local.contains('@') || !domain_ok {
            return None;
        }
        Some(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn email(v: &Value) -> ParseResult<Email> {
    Email::parse(string(v)?).ok_or(("value is not a valid email address".into(), "value_error"))
}

fn password(v: &Value) -> ParseResult<String> {
    let s = string(v)?;
    let n = s.chars().count();
    if n < PASSWORD_MIN {
        Err((
            format!("String should have at least {PASSWORD_MIN} characters").into(),
            "string_too_short",
        ))
    } else if n > PASSWORD_MAX {
        Err((
            format!("String should have at most {PASSWORD_MAX} characters").into(),
            "string_too_long",
        ))
    } else {
        Ok(s.to_owned())
    }
}

/// Any non-empty password: at login, so that a wrong one of any length is a 401 like every
/// other wrong password. The account routes that check a stored password validate it as a
/// password first (SPEC §3: a too-short field is a 422 before the 403).
fn any_password(v: &Value) -> ParseResult<String> {
    let s = string(v)?;
    if s.is_empty() {
        Err(("String should have at least 1 character".into(), "string_too_short"))
    } else if s.chars().count() > PASSWORD_MAX {
        Err((
            format!("String should have at most {PASSWORD_MAX} characters").into(),
            "string_too_long",
        ))
    } else {
        Ok(s.to_owned())
    }
}

fn name(v: &Value) -> ParseResult<Option<String>> {
    let s = bounded(v, NAME_MAX)?;
    let s = s.trim();
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

pub struct Signup {
    pub email: Email,
    pub password: String,
    pub name: Option<String>,
}

impl Signup {
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let email = f.required("email", email);
        let password = f.required("password", password);
        let name = f.patch("name", name).into_change().flatten().flatten();
        let signup = email
            .zip(password)
            .map(|(email, password)| Self { email, password, name });
        f.finish(signup)
    }
}

pub struct Login {
    /// Kept as typed (normalised) so that a malformed email is simply an unknown one: 401.
    pub email: String,
    pub password: String,
}

impl Login {
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let email = f.required("email", |v| string(v).map(|s| s.trim().to_lowercase()));
        let password = f.required("password", any_password);
        f.finish(email.zip(password).map(|(email, password)| Self { email, password }))
    }
}

pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

impl ChangePassword {
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let current = f.required("current_password", password);
        let new = f.required("new_password", password);
        f.finish(current.zip(new).map(|(current_password, new_password)| Self {
            current_password,
            new_password,
        }))
    }
}

/// `DELETE /api/auth/me`: the password, when the account has one.
pub fn parse_delete_password(body: &Value) -> Result<String, ApiError> {
    let mut f = Fields::of(body)?;
    let given = f.required("password", password);
    f.finish(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@.com",
            "ada@example..com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(EMAIL_MAX - 12));
        assert!(Email::parse(&long).is_some());
        let too_long = format!("{}@example.com", "a".repeat(EMAIL_MAX - 11));
        assert!(Email::parse(&too_long).is_none());
    }
}
