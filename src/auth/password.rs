//! Password hashing: Argon2id with OWASP's parameters for new hashes; bcrypt hashes (as Python's
//! passlib writes them) verify too and are flagged for re-hashing.
//!
//! Hashing runs on a few dedicated threads (one per core), never on the async executor, so a login
//! storm queues up here while every other request goes on. Dedicated threads also keep memory
//! flat: each hash needs its working memory, and the allocator keeps what a thread used, so a
//! fixed, small set of threads bounds it.

use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{mpsc, oneshot, OnceCell};

use crate::error::ApiError;

/// OWASP Password Storage Cheat Sheet: Argon2id with m = 7 MiB, t = 5, p = 1, one of its
/// equivalent settings; it trades memory for passes, which keeps a storm of logins small in RAM.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many hashing jobs may wait before callers wait to queue.
const QUEUE: usize = 1024;

type Job = Box<dyn FnOnce() + Send>;

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    Right,
    /// Right, and the stored hash is of an older kind: store a fresh Argon2id hash.
    RightButRehash,
}

impl Verdict {
    pub fn is_right(self) -> bool {
        !matches!(self, Self::Wrong)
    }
}

pub fn hash_blocking(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"].iter().any(|p| hash.starts_with(p))
}

pub fn verify_blocking(password: &str, hash: &str) -> Verdict {
    if is_bcrypt(hash) {
        return match bcrypt::verify(password, hash) {
            Ok(true) => Verdict::RightButRehash,
            _ => Verdict::Wrong,
        };
    }
    match PasswordHash::new(hash) {
        Ok(parsed) if argon2().verify_password(password.as_bytes(), &parsed).is_ok() => Verdict::Right,
        _ => Verdict::Wrong,
    }
}

/// The hashing service: a queue and one worker thread per core.
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
    /// A hash of nothing anyone knows, verified when the email is unknown so that both failures
    /// take the same time.
    dummy: OnceCell<String>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    pub fn new() -> Self {
        let workers = crate::config::cores();
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..workers {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || loop {
                    // One worker waits on the queue at a time; the lock is released before the job runs.
                    let job = queue.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv();
                    match job {
                        Some(job) => job(),
                        None => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self {
            jobs,
            dummy: OnceCell::new(),
        }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| ApiError::internal("password hashing threads are gone"))?;
        result
            .await
            .map_err(|_| ApiError::internal("a password hashing job was dropped"))
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_blocking(&password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is none, so the
    /// answer takes as long either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<Verdict, ApiError> {
        match hash {
            Some(hash) => self.run(move || verify_blocking(&password, &hash)).await,
            None => {
                let dummy = self
                    .dummy
                    .get_or_try_init(|| async {
                        let seed = uuid::Uuid::new_v4().to_string();
                        self.run(move || hash_blocking(&seed))
                            .await?
                            .map_err(ApiError::internal)
                    })
                    .await?
                    .clone();
                self.run(move || verify_blocking(&password, &dummy)).await?;
                Ok(Verdict::Wrong)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_blocking("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
        assert_eq!(verify_blocking("correct horse", &h), Verdict::Right);
        assert_eq!(verify_blocking("wrong horse", &h), Verdict::Wrong);
        assert_eq!(verify_blocking("x", "garbage"), Verdict::Wrong);
    }

    #[test]
    fn passlib_bcrypt_hash_verifies_and_asks_for_rehash() {
        // Made by passlib 1.7.4 (`CryptContext(schemes=["bcrypt"]).hash("password123")`).
        let h = include_str!("../../tests/fixtures/passlib_bcrypt.txt").trim();
        assert_eq!(verify_blocking("password123", h), Verdict::RightButRehash);
        assert_eq!(verify_blocking("password124", h), Verdict::Wrong);
    }
}
