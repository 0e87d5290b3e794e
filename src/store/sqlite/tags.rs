//! Tags on SQLite: the statements are shared (`task_write::tag_sql`), and so are the flows; writes
//! go through the writer connection.

use super::task_tx::SqliteTx;
use super::SqliteStore;

crate::store::task_write::tag_store!(SqliteStore, SqliteTx, as_micros, begin: write_tx());
