//! Brute-force limits on the embedded database: in memory, per process (one process owns the file
//! in practice, and an SQLite write per failed login would queue behind every other writer).

use async_trait::async_trait;

use super::SqliteStore;
use crate::domain::account::Account;
use crate::store::{AccountStore, LimitStore, StoreResult};

#[async_trait]
impl LimitStore for SqliteStore {
    async fn login_account(&self, email: &str, client: &str) -> StoreResult<(Option<Account>, Option<u64>)> {
        if let Err(wait) = self.limits.login.check(client) {
            return Ok((None, Some(wait)));
        }
        Ok((self.account_by_email(email).await?, None))
    }

    async fn login_failed(&self, client: &str) -> StoreResult<()> {
        self.limits.login.record(client);
        Ok(())
    }

    async fn admit_signup(&self, client: &str) -> StoreResult<Option<u64>> {
        if let Err(wait) = self.limits.signup.check(client) {
            return Ok(Some(wait));
        }
        self.limits.signup.record(client);
        Ok(None)
    }

    async fn purge_limits(&self) -> StoreResult<u64> {
        Ok(0)
    }
}
