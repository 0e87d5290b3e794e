//! Recent session checks, so a busy client costs no lookup per request.
//!
//! Both answers are kept (a session's user, or "no such session"), each for the configured TTL
//! (at most 60 s, the contract's bound for a signed-out session), a positive one never past the
//! session's own expiry. Keys are SHA-256 digests of the token, so the map holds no usable
//! credential. The map is an LRU of bounded size: a flood of made-up tokens evicts the oldest
//! entries instead of growing memory.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hashlink::LruCache;
use sha2::{Digest, Sha256};

use super::SessionUser;

/// Entries kept at most (each well under 1 KiB).
const CAPACITY: usize = 10_000;

type Key = [u8; 32];

struct Entry {
    user: Option<SessionUser>,
    until: Instant,
}

pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<LruCache<Key, Entry>>,
}

fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(LruCache::new(CAPACITY)),
        }
    }

    /// `Some(answer)` while a fresh answer is kept for this token.
    pub fn get(&self, token: &str) -> Option<Option<SessionUser>> {
        let key = key(token);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some(entry) if entry.until > Instant::now() => Some(entry.user.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, token: &str, user: Option<SessionUser>) {
        let mut keep = self.ttl;
        if let Some(expires_at) = user.as_ref().and_then(|u| u.expires_at) {
            let left = (expires_at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            keep = keep.min(left);
        }
        if keep.is_zero() {
            return;
        }
        let entry = Entry {
            user,
            until: Instant::now() + keep,
        };
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key(token), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(expires_in_secs: i64) -> SessionUser {
        SessionUser {
            id: "u1".into(),
            email: None,
            name: None,
            expires_at: Some(chrono::Utc::now() + chrono::Duration::seconds(expires_in_secs)),
        }
    }

    #[test]
    fn keeps_both_answers_for_the_ttl() {
        let cache = SessionCache::new(Duration::from_millis(200));
        cache.put("a", Some(user(3600)));
        cache.put("b", None);
        assert_eq!(cache.get("a").flatten().map(|u| u.id), Some("u1".into()));
        assert_eq!(cache.get("b"), Some(None));
        assert_eq!(cache.get("c"), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("b"), None);
    }

    #[test]
    fn never_past_the_session_expiry_and_bounded() {
        let cache = SessionCache::new(Duration::from_secs(60));
        cache.put("expired", Some(user(-1)));
        assert_eq!(cache.get("expired"), None);
        for i in 0..CAPACITY + 10 {
            cache.put(&i.to_string(), None);
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
        assert_eq!(cache.get("0"), None, "the oldest entries went first");
        assert_eq!(cache.get(&(CAPACITY + 9).to_string()), Some(None));
        let off = SessionCache::new(Duration::ZERO);
        off.put("a", Some(user(3600)));
        assert_eq!(off.get("a"), None);
    }
}
