//! taskapi: a task-management REST API server.
//!
//! A request's way through the crate: [`http`] routes it, [`auth`] checks who is asking,
//! [`domain`] parses the input into types that cannot be invalid, one [`store::Store`] call runs
//! one SQL statement, and the domain value goes back out as JSON.

/// Application state, the router and the server loop shared by `main` and the tests.
pub mod app;
/// Passwords, tokens, the authenticated-user extractor, revocation and rate limits.
pub mod auth;
/// Account administration and migrations on the command line; `serve` starts the server.
pub mod cli;
/// Environment and `.env` → a validated [`config::Config`]; secrets never print.
pub mod config;
/// Parsed request input and response objects (users, tasks, categories, timestamps).
pub mod domain;
/// The one error type: every failure rendered as the contract's `{"detail": …}` JSON.
pub mod error;

pub mod events;
/// Routes, handlers and middleware.
pub mod http;
/// Log lines to stderr through a buffer written out by a thread of its own.
pub mod log_writer;
/// The storage interface and its PostgreSQL and SQLite implementations.
pub mod store;

/// TLS (PostgreSQL/Neon, the JWKS client) needs one process-wide crypto provider; ring is the
/// one compiled in. Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
