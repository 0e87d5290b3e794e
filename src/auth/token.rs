//! JWTs: issuing HS256 tokens, and verifying ours, external HS256 ones (Better Auth with the
//! shared secret) and external asymmetric ones (Better Auth's JWT plugin, through its JWKS).

use std::time::Duration;

use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jwks::Jwks;
use crate::domain::account::USER_ID_MAX;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<Value>,
    /// The account's token version when the token was issued (ours only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ver: Option<i32>,
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Issued by another party (not this server).
    pub external: bool,
    /// For our own tokens: the account's token version at issue.
    pub token_version: i32,
}

/// A freshly issued token.
pub struct Issued {
    pub token: String,
    pub expires_in: u64,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    hs256: Validation,
    issuer: String,
    lifetime: Duration,
    jwks: Option<Jwks>,
    external_issuer: Option<String>,
    external_audience: Option<String>,
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    // Audience and issuer are checked by `Tokens::verify`, which knows whose token it is.
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp", "sub"]);
    v
}

impl Tokens {
    pub fn new(
        secret: &str,
        issuer: String,
        lifetime: Duration,
        jwks: Option<Jwks>,
        external_issuer: Option<String>,
        external_audience: Option<String>,
    ) -> Self {
        // One crypto backend is compiled in; naming it keeps jsonwebtoken from guessing.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            hs256: validation(Algorithm::HS256),
            issuer,
            lifetime,
            jwks,
            external_issuer,
            external_audience,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub fn issue(&self, user_id: &str, email: Option<&str>, token_version: i32) -> Result<Issued, String> {
        let now = chrono::Utc::now().timestamp();
        let expires_in = self.lifetime.as_secs();
        let claims = Claims {
            sub: user_id.to_owned(),
            email: email.map(str::to_owned),
            name: None,
            iat: Some(now),
            exp: now.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX)),
            iss: Some(self.issuer.clone()),
            aud: None,
            ver: Some(token_version),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| e.to_string())?;
        Ok(Issued { token, expires_in })
    }

    /// Checks signature, algorithm, expiry and the claims; `None` for any token not to be trusted.
    pub async fn verify(&self, token: &str) -> Option<Identity> {
        let header = decode_header(token).ok()?;
        let claims = match header.alg {
            Algorithm::HS256 => decode::<Claims>(token, &self.decoding, &self.hs256).ok()?.claims,
            Algorithm::EdDSA | Algorithm::ES256 | Algorithm::RS256 => {
                let jwks = self.jwks.as_ref()?;
                let key = jwks.key(header.kid.as_deref()?).await?;
                if key.algorithm != header.alg {
                    return None;
                }
                let claims = decode::<Claims>(token, &key.key, &validation(key.algorithm))
                    .ok()?
                    .claims;
                // A key from the JWKS never vouches for one of our own accounts.
                if claims.iss.as_deref() == Some(self.issuer.as_str()) {
                    return None;
                }
                claims
            }
            // Other HMAC sizes and everything else: refused.
            _ => return None,
        };
        if claims.sub.is_empty() || claims.sub.chars().count() > USER_ID_MAX || claims.sub.chars().any(char::is_control)
        {
            return None;
        }
        let external = claims.iss.as_deref() != Some(self.issuer.as_str());
        if external {
            if let Some(required) = &self.external_issuer {
                if claims.iss.as_deref() != Some(required.as_str()) {
                    return None;
                }
            }
            if let Some(required) = &self.external_audience {
                let matches = match &claims.aud {
                    Some(Value::String(aud)) => aud == required,
                    Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(required.as_str())),
                    _ => false,
                };
                if !matches {
                    return None;
                }
            }
        }
        Some(Identity {
            user_id: claims.sub,
            email: claims.email,
            name: claims.name,
            external,
            token_version: if external { 0 } else { claims.ver.unwrap_or(0) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn tokens() -> Tokens {
        Tokens::new(SECRET, "taskapi".into(), Duration::from_secs(3600), None, None, None)
    }

    fn sign(claims: Value, alg: Algorithm, secret: &str) -> String {
        encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[tokio::test]
    async fn own_token_round_trip() {
        let t = tokens();
        let issued = t.issue("u1", Some("a@b.co"), 3).unwrap();
        let id = t.verify(&issued.token).await.unwrap();
        assert_eq!(
            id,
            Identity {
                user_id: "u1".into(),
                email: Some("a@b.co".into()),
                name: None,
                external: false,
                token_version: 3
            }
        );
        assert_eq!(issued.expires_in, 3600);
    }

    #[tokio::test]
    async fn refuses_bad_tokens() {
        let t = tokens();
        let now = chrono::Utc::now().timestamp();
        let good = serde_json::json!({"sub": "u1", "exp": now + 60, "iss": "taskapi"});
        assert!(t.verify(&sign(good.clone(), Algorithm::HS256, SECRET)).await.is_some());
        assert!(t
            .verify(&sign(
                good.clone(),
                Algorithm::HS256,
                "another-secret-another-secret-xx"
            ))
            .await
            .is_none());
        assert!(
            t.verify(&sign(good.clone(), Algorithm::HS512, SECRET)).await.is_none(),
            "other HMAC sizes"
        );
        assert!(t
            .verify(&sign(
                serde_json::json!({"sub": "u1", "exp": now - 60}),
                Algorithm::HS256,
                SECRET
            ))
            .await
            .is_none());
        assert!(t
            .verify(&sign(serde_json::json!({"exp": now + 60}), Algorithm::HS256, SECRET))
            .await
            .is_none());
        assert!(t
            .verify(&sign(serde_json::json!({"sub": "u1"}), Algorithm::HS256, SECRET))
            .await
            .is_none());
        assert!(t
            .verify(&sign(
                serde_json::json!({"sub": "", "exp": now + 60}),
                Algorithm::HS256,
                SECRET
            ))
            .await
            .is_none());
        assert!(t
            .verify(&sign(
                serde_json::json!({"sub": 5, "exp": now + 60}),
                Algorithm::HS256,
                SECRET
            ))
            .await
            .is_none());
        assert!(t.verify("garbage").await.is_none());
        assert!(t.verify("").await.is_none());
    }

    #[tokio::test]
    async fn external_hs256_identity_with_issuer_and_audience_rules() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"sub": "abcDEF0123456789abcDEF0123456789", "exp": now + 60, "iss": "http://localhost:3000", "aud": "http://localhost:3000", "email": "x@y.co"});
        let token = sign(claims, Algorithm::HS256, SECRET);
        let id = tokens().verify(&token).await.unwrap();
        assert!(id.external);
        let strict = Tokens::new(
            SECRET,
            "taskapi".into(),
            Duration::from_secs(60),
            None,
            Some("http://localhost:3000".into()),
            Some("http://localhost:3000".into()),
        );
        assert!(strict.verify(&token).await.is_some());
        let wrong = Tokens::new(
            SECRET,
            "taskapi".into(),
            Duration::from_secs(60),
            None,
            Some("https://other".into()),
            None,
        );
        assert!(wrong.verify(&token).await.is_none());
        let wrong_aud = Tokens::new(
            SECRET,
            "taskapi".into(),
            Duration::from_secs(60),
            None,
            None,
            Some("https://other".into()),
        );
        assert!(wrong_aud.verify(&token).await.is_none());
    }
}
