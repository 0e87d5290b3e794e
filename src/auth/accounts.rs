//! What authentication needs to know about an account on every request (exists, active, token
//! version), cached in process so a request costs no database round trip.
//!
//! Revocation bound: a change made through this process (password change, deletion) drops the
//! entry at once; a change made elsewhere (another instance, `taskapi users disable`) is seen
//! when the entry expires, within [`ENTRY_TTL`] (30 s, under the contract's 60 s).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::token::Identity;
use crate::domain::account::Account;
use crate::domain::Timestamp;
use crate::error::{ApiError, ACCOUNT_DISABLED};
use crate::store::{ExternalIdentity, Store};

pub const ENTRY_TTL: Duration = Duration::from_secs(30);
/// Past this many entries the cache starts over, so it cannot grow without bound.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub active: bool,
    pub token_version: i32,
    pub external: bool,
}

impl From<&Account> for AccountState {
    fn from(a: &Account) -> Self {
        Self {
            active: a.user.is_active,
            token_version: a.token_version,
            external: a.external,
        }
    }
}

struct Entry {
    /// `None`: no such account.
    state: Option<AccountState>,
    fetched: Instant,
}

pub struct AccountCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
}

impl Default for AccountCache {
    fn default() -> Self {
        Self::new(ENTRY_TTL)
    }
}

pub const INVALID_TOKEN: &str = "Invalid or expired token";

impl AccountCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, id: &str) -> Option<Option<AccountState>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id)
            .filter(|e| e.fetched.elapsed() < self.ttl)
            .map(|e| e.state)
    }

    pub fn put(&self, id: &str, state: Option<AccountState>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            id.to_owned(),
            Entry {
                state,
                fetched: Instant::now(),
            },
        );
    }

    /// Forgets an account after a change made here, so the change takes effect at once.
    pub fn invalidate(&self, id: &str) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Forgets every account (changes made elsewhere may have gone unheard).
    pub fn invalidate_all(&self) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Decides whether a verified token's identity may act now: 401 for a deleted account or a
    /// revoked token, 403 for a disabled account. An external identity seen for the first time
    /// gets its local row here.
    pub async fn admit(&self, store: &dyn Store, identity: &Identity) -> Result<(), ApiError> {
        let state = match self.get(&identity.user_id) {
            Some(state) => state,
            None => {
                let mut state = store
                    .account_by_id(&identity.user_id)
                    .await?
                    .as_ref()
                    .map(AccountState::from);
                if state.is_none() && identity.external {
                    let created = store
                        .provision_external(
                            ExternalIdentity {
                                id: &identity.user_id,
                                email: identity
                                    .email
                                    .as_deref()
                                    .and_then(crate::domain::account::Email::parse)
                                    .as_ref()
                                    .map(|e| e.as_str()),
                                name: identity
                                    .name
                                    .as_deref()
                                    .map(|n| n.trim())
                                    .filter(|n| !n.is_empty() && n.chars().count() <= 100 && !n.contains('\0')),
                            },
                            Timestamp::now(),
                        )
                        .await?;
                    state = Some(AccountState::from(&created));
                }
                self.put(&identity.user_id, state);
                state
            }
        };
        match state {
            // Our own tokens are never re-provisioned: a deleted account's token is dead.
            None => Err(ApiError::Unauthorized(INVALID_TOKEN)),
            // An external token never speaks for a local account, nor ours for an external one.
            Some(s) if s.external != identity.external => Err(ApiError::Unauthorized(INVALID_TOKEN)),
            Some(s) if !identity.external && s.token_version != identity.token_version => {
                Err(ApiError::Unauthorized(INVALID_TOKEN))
            }
            Some(s) if !s.active => Err(ApiError::Forbidden(ACCOUNT_DISABLED)),
            Some(_) => Ok(()),
        }
    }
}
