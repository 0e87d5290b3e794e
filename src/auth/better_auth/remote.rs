//! Sessions checked by the front end itself (`BETTER_AUTH_URL`): `GET /api/auth/get-session`
//! with the credential, as a browser or the bearer plugin would send it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, COOKIE};
use serde::Deserialize;

use super::credential::{SessionCredential, COOKIE_NAMES};
use super::SessionUser;

/// A session check waits at most this long for Better Auth before its 503.
pub const TIMEOUT: Duration = Duration::from_secs(3);

pub struct RemoteSessions {
    endpoint: url::Url,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct GetSession {
    session: RemoteSession,
    user: RemoteUser,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoteSession {
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RemoteUser {
    id: String,
    email: Option<String>,
    name: Option<String>,
}

/// Why Better Auth gave no answer.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl RemoteSessions {
    pub fn new(base: &url::Url) -> Result<Self, String> {
        let mut endpoint = base.clone();
        let path = format!("{}/api/auth/get-session", base.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("BETTER_AUTH_URL: cannot build the HTTP client ({e})"))?;
        Ok(Self { endpoint, client })
    }

    pub async fn session(&self, credential: &SessionCredential) -> Result<Option<SessionUser>, Unreachable> {
        let request = self.client.get(self.endpoint.clone());
        // A signed credential goes as the cookie (under both names: Better Auth reads the one its
        // set-up uses), which needs no plugin; a bare token only the bearer plugin understands.
        let request = match credential.cookie_value() {
            Some(value) => request.header(
                COOKIE,
                COOKIE_NAMES
                    .iter()
                    .map(|name| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            None => request.header(AUTHORIZATION, format!("Bearer {}", credential.token)),
        };
        let response = request
            .send()
            .await
            .map_err(|e| Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(Unreachable(format!("get-session answered {status}")));
        }
        let answer: Option<GetSession> = response
            .json()
            .await
            .map_err(|e| Unreachable(format!("get-session answer not understood ({})", e.without_url())))?;
        Ok(answer.map(|a| SessionUser {
            id: a.user.id,
            email: a.user.email,
            name: a.user.name,
            expires_at: a.session.expires_at,
        }))
    }
}
