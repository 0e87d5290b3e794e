//! Who is asking, and may they: passwords, tokens, the extractors every protected route uses,
//! Better Auth sessions, the per-account state cache that makes revocation cheap, and brute-force limits.

pub mod accounts;
pub mod better_auth;
pub mod extract;
pub mod jwks;
pub mod password;
pub mod rate_limit;
pub mod token;

pub use extract::{AuthUser, OwnerScope};
