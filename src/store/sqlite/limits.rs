//! Brute-force limits on the embedded database: in memory, per process (one process owns the file
//! in practice, and an SQLite write per login attempt would queue behind every other writer).

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::{AccountStore, CountedAttempt, LimitStore, LoginAttempt, StoreResult};

#[async_trait]
impl LimitStore for SqliteStore {
    async fn login_attempt(&self, email: &str, client: &str) -> StoreResult<LoginAttempt> {
        let admission = match self.limits.login.try_count(client) {
            Ok(ticket) => Ok(CountedAttempt(i64::try_from(ticket).ok())),
            Err(wait) => {
                return Ok(LoginAttempt {
                    account: None,
                    admission: Err(wait),
                })
            }
        };
        Ok(LoginAttempt {
            account: self.account_by_email(email).await?,
            admission,
        })
    }

    async fn release_login(&self, client: &str, attempt: CountedAttempt) -> StoreResult<()> {
        if let Some(ticket) = attempt.0.and_then(|t| u64::try_from(t).ok()) {
            self.limits.login.release(client, ticket);
        }
        Ok(())
    }

    async fn admit_signup(&self, client: &str) -> StoreResult<Option<u64>> {
        Ok(self.limits.signup.try_count(client).err())
    }

    async fn purge_limits(&self) -> StoreResult<u64> {
        Ok(0)
    }
}
