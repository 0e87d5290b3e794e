//! `Idempotency-Key` (SPEC §8): a retried create or toggle gets the first answer again instead of
//! writing twice.
//!
//! The key is claimed in the database before the write runs (so a concurrent duplicate on any
//! instance sees it: 409), and the answer is stored by the write's own transaction (so a stored
//! answer always means a committed write, and a committed write always has its answer). A failed
//! request gives its claim up; one that died holding it is taken over after
//! [`crate::store::CLAIM_LEASE`].

use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::conditional::IDEMPOTENT_REPLAYED;
use crate::app::AppState;
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{ClaimOutcome, KeyClaim};

pub const IN_PROGRESS: &str = "A request with this Idempotency-Key is in progress";
const KEY_MAX: usize = 255;

fn key_error(msg: &'static str, kind: &'static str) -> ApiError {
    ApiError::field(FieldError::new(&["header", "Idempotency-Key"], msg, kind))
}

/// The request's `Idempotency-Key`, if it sent one: 1..=255 printable ASCII characters.
pub fn key(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > KEY_MAX || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(key_error(
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
            "idempotency_key_invalid",
        ));
    }
    Ok(value.to_str().ok())
}

/// Writes JSON with sorted keys, so that equivalent bodies have one fingerprint.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What identifies a request for its key: method, path and body (equivalent JSON, equal).
pub fn fingerprint(method: &Method, path: &str, body: Option<&Value>) -> String {
    let mut text = format!("{method}\n{path}\n");
    if let Some(body) = body {
        canonical(body, &mut text);
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a keyed request goes on.
pub enum Begun {
    /// Run it; with a claim when it carried a key.
    Run(Option<KeyClaim>),
    /// Answer this instead: the first request's stored answer.
    Replay(Response),
}

/// Claims the request's key, if any, or finds the answer to replay.
pub async fn begin(
    state: &AppState,
    user_id: &str,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> ApiResult<Begun> {
    let Some(key) = key(headers)? else {
        return Ok(Begun::Run(None));
    };
    let fingerprint = fingerprint(method, path, body);
    let outcome = state
        .store
        .claim_key(user_id, key, &fingerprint, Timestamp::now(), state.idempotency_ttl)
        .await?;
    match outcome {
        ClaimOutcome::Claimed(claim) => Ok(Begun::Run(Some(claim))),
        ClaimOutcome::InProgress => Err(ApiError::Conflict(IN_PROGRESS)),
        ClaimOutcome::Mismatch => Err(key_error(
            "Idempotency-Key reused with a different request",
            "idempotency_key_reused",
        )),
        ClaimOutcome::Replay(stored) => {
            let mut res = stored.into_response();
            res.headers_mut()
                .insert(&IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Ok(Begun::Replay(res))
        }
    }
}

/// Gives the claim up when the request failed, so that a retry runs again.
pub async fn settle<T>(state: &AppState, claim: Option<&KeyClaim>, result: ApiResult<T>) -> ApiResult<T> {
    if let (Err(_), Some(claim)) = (&result, claim) {
        if let Err(e) = state.store.release_key(claim).await {
            tracing::warn!(error = %e, "could not release an idempotency key; it frees itself after its lease");
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equivalent_bodies_share_a_fingerprint() {
        let a = json!({"title": "x", "priority": "high", "tags": ["b", "a"]});
        let b: Value = serde_json::from_str(r#"{ "priority":"high","tags":["b","a"], "title":"x" }"#).unwrap();
        assert_eq!(
            fingerprint(&Method::POST, "/api/u/tasks", Some(&a)),
            fingerprint(&Method::POST, "/api/u/tasks", Some(&b))
        );
        let c = json!({"title": "x", "priority": "high", "tags": ["a", "b"]});
        assert_ne!(
            fingerprint(&Method::POST, "/api/u/tasks", Some(&a)),
            fingerprint(&Method::POST, "/api/u/tasks", Some(&c))
        );
        assert_ne!(
            fingerprint(&Method::POST, "/api/u/tasks", Some(&a)),
            fingerprint(&Method::POST, "/api/u/categories", Some(&a))
        );
    }

    #[test]
    fn keys_are_printable_ascii() {
        let mut h = HeaderMap::new();
        assert!(matches!(key(&h), Ok(None)));
        h.insert("idempotency-key", HeaderValue::from_static("abc-123 x"));
        assert!(matches!(key(&h), Ok(Some("abc-123 x"))));
        h.insert("idempotency-key", HeaderValue::from_static(""));
        assert!(key(&h).is_err());
        h.insert("idempotency-key", HeaderValue::from_bytes("ké".as_bytes()).unwrap());
        assert!(key(&h).is_err());
        h.insert("idempotency-key", HeaderValue::from_str(&"k".repeat(256)).unwrap());
        assert!(key(&h).is_err());
        h.insert("idempotency-key", HeaderValue::from_str(&"k".repeat(255)).unwrap());
        assert!(key(&h).is_ok());
    }
}
