//! Parsed types: once a value has one of these types it is valid, so handlers and the store never
//! check it again.

pub mod account;
pub mod body;
pub mod category;
pub mod recurrence;
pub mod sync;
pub mod tag;
pub mod task;
pub mod time;

pub use time::Timestamp;
