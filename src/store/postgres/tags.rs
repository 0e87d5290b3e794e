//! Tags on PostgreSQL: the statements are shared (`task_write::tag_sql`), and so are the flows.

use super::task_tx::PgTx;
use super::PgStore;

crate::store::task_write::tag_store!(PgStore, PgTx, as_datetime);
