//! An external issuer's JSON Web Key Set (Better Auth serves it at `/api/auth/jwks`): keys chosen
//! by `kid`, cached, and fetched again, at most every few seconds, when an unknown `kid` arrives.
//! A set older than [`MAX_AGE`] is fetched again too, so a key the issuer withdraws stops working.
//! If the issuer is down, the keys already cached keep working.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// The least time between two fetches of the set.
const MIN_REFETCH: Duration = Duration::from_secs(10);
/// How long a fetched set is trusted before it is fetched again.
pub const MAX_AGE: Duration = Duration::from_secs(600);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct JwksKey {
    pub key: Arc<DecodingKey>,
    pub algorithm: Algorithm,
}

pub struct Jwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, JwksKey>>,
    /// When the set was last fetched successfully.
    fetched_at: RwLock<Option<Instant>>,
    /// When a fetch was last tried; held while fetching, so one request fetches at a time.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    max_age: Duration,
}

/// The algorithm a key is for, from its `alg` or else its type; only EdDSA (Ed25519), ES256 and
/// RS256 are allowed.
fn key_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    let declared = match jwk.common.key_algorithm {
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(_) => return None,
        None => None,
    };
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        _ => return None,
    };
    match declared {
        Some(alg) if alg != by_type => None,
        _ => Some(by_type),
    }
}

impl Jwks {
    pub fn new(url: String) -> Result<Self, String> {
        Self::with_max_age(url, MAX_AGE)
    }

    pub fn with_max_age(url: String, max_age: Duration) -> Result<Self, String> {
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            url,
            client,
            keys: RwLock::new(HashMap::new()),
            fetched_at: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
            max_age,
        })
    }

    fn is_stale(&self) -> bool {
        self.fetched_at
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|t| t.elapsed() >= self.max_age)
    }

    fn cached(&self, kid: &str) -> Option<JwksKey> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).get(kid).cloned()
    }

    /// The key for `kid`, fetching the set again if it is unknown and the last fetch is not too
    /// recent.
    pub async fn key(&self, kid: &str) -> Option<JwksKey> {
        if let Some(key) = self.cached(kid) {
            // A known key in a stale set: one request refreshes the set, the others go on with
            // what is cached.
            if self.is_stale() {
                if let Ok(mut last) = self.last_fetch.try_lock() {
                    self.refresh(&mut last).await;
                }
                return self.cached(kid);
            }
            return Some(key);
        }
        let mut last = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        self.refresh(&mut last).await;
        self.cached(kid)
    }

    /// Fetches the set unless a fetch was tried within [`MIN_REFETCH`]; on failure the cached
    /// keys stay.
    async fn refresh(&self, last: &mut Option<Instant>) {
        if last.is_some_and(|t| t.elapsed() < MIN_REFETCH) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
                *self.fetched_at.write().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            }
            Err(cause) => tracing::warn!(url = %self.url, %cause, "JWKS fetch failed; keeping the cached keys"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, JwksKey>, String> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Some(algorithm)) = (jwk.common.key_id.clone(), key_algorithm(jwk)) else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(
                    kid,
                    JwksKey {
                        key: Arc::new(key),
                        algorithm,
                    },
                );
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use serde_json::{json, Value};

    use super::*;

    /// A JWKS endpoint whose set the test can change.
    async fn serve(set: Arc<Mutex<Value>>) -> String {
        let router = axum::Router::new().route(
            "/jwks",
            get(move || {
                let set = set.clone();
                async move { axum::Json(set.lock().unwrap().clone()) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }

    #[tokio::test]
    async fn a_withdrawn_key_stops_working_once_the_set_is_stale_and_outages_keep_the_cache() {
        let full: Value = serde_json::from_str(include_str!("../../tests/fixtures/jwks/jwks.json")).unwrap();
        let set = Arc::new(Mutex::new(full.clone()));
        let url = serve(set.clone()).await;
        // MIN_REFETCH (10 s) bounds refetches, so the stale-set refresh is tested through a
        // zero max age and a reset of the last attempt.
        let jwks = Jwks::with_max_age(url, Duration::ZERO).unwrap();
        assert_eq!(jwks.key("ed-key-1").await.map(|k| k.algorithm), Some(Algorithm::EdDSA));
        assert_eq!(jwks.key("rsa-key-1").await.map(|k| k.algorithm), Some(Algorithm::RS256));
        assert!(jwks.key("unknown").await.is_none());

        // The issuer withdraws the Ed25519 key.
        let rsa_only = json!({"keys": [full["keys"][1].clone()]});
        *set.lock().unwrap() = rsa_only;
        *jwks.last_fetch.lock().await = None;
        assert!(jwks.key("ed-key-1").await.is_none(), "a withdrawn key stops working");
        assert!(jwks.key("rsa-key-1").await.is_some());

        // The issuer answers garbage: the cached keys stay.
        *set.lock().unwrap() = json!({"not": "a key set"});
        *jwks.last_fetch.lock().await = None;
        assert!(
            jwks.key("rsa-key-1").await.is_some(),
            "a failed fetch keeps the cached keys"
        );
    }
}
