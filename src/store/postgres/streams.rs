//! Event stream places shared by every instance (SPEC §9, migration 0010): one row per user,
//! `leases` mapping each open stream's lease to its instance and expiry. Each statement that
//! writes several users' rows locks them in key order, so two instances' renewals never deadlock.

use super::PgStore;
use crate::store::{StoreResult, StreamLease, STREAM_LEASE};

/// `$1` user, `$2` lease, `$3` instance, `$4` places, `$5` seconds held. Drops the row's lapsed
/// leases and adds this one only below the limit; yields whether it was added.
const CLAIM: &str = "INSERT INTO event_streams AS s (user_id, leases) \
     VALUES ($1, jsonb_build_object($2::text, jsonb_build_object('i', $3::text, 'e', extract(epoch FROM now()) + $5))) \
     ON CONFLICT (user_id) DO UPDATE SET leases = CASE \
       WHEN (SELECT count(*) FROM jsonb_each(s.leases) l WHERE (l.value->>'e')::float8 > extract(epoch FROM now())) < $4 \
       THEN (SELECT coalesce(jsonb_object_agg(l.key, l.value), '{}') FROM jsonb_each(s.leases) l \
             WHERE (l.value->>'e')::float8 > extract(epoch FROM now())) || excluded.leases \
       ELSE s.leases END \
     RETURNING leases ? $2::text";

/// `$1` users, `$2` their leases (side by side): takes those leases out.
const RELEASE: &str = "WITH gone AS (SELECT u, array_agg(l) AS ids FROM unnest($1::text[], $2::text[]) AS g(u, l) GROUP BY u), \
     locked AS (SELECT s.user_id FROM event_streams s JOIN gone ON gone.u = s.user_id ORDER BY s.user_id FOR UPDATE OF s) \
     UPDATE event_streams s SET leases = s.leases - gone.ids FROM gone, locked \
     WHERE s.user_id = gone.u AND locked.user_id = s.user_id";

/// `$1` users, `$2` their leases (side by side), `$3` the instance, `$4` seconds held: for each
/// user, the instance's leases become exactly these, held anew; other instances' live ones stay.
const RENEW: &str = "INSERT INTO event_streams AS s (user_id, leases) \
     SELECT u, jsonb_object_agg(l, jsonb_build_object('i', $3::text, 'e', extract(epoch FROM now()) + $4)) \
       FROM unnest($1::text[], $2::text[]) AS m(u, l) GROUP BY u ORDER BY u \
     ON CONFLICT (user_id) DO UPDATE SET leases = \
       (SELECT coalesce(jsonb_object_agg(l.key, l.value), '{}') FROM jsonb_each(s.leases) l \
         WHERE l.value->>'i' <> $3::text AND (l.value->>'e')::float8 > extract(epoch FROM now())) || excluded.leases";

/// Users whose every lease has lapsed.
pub(super) const PURGE: &str = "DELETE FROM event_streams s WHERE NOT EXISTS \
     (SELECT 1 FROM jsonb_each(s.leases) l WHERE (l.value->>'e')::float8 > extract(epoch FROM now()))";

/// Users and lease ids side by side, as the statements take them.
fn columns(leases: &[StreamLease]) -> (Vec<&str>, Vec<String>) {
    leases.iter().map(|l| (l.user_id.as_str(), l.id.to_string())).unzip()
}

impl PgStore {
    pub(super) async fn claim_stream_place(&self, lease: &StreamLease, max: usize) -> StoreResult<bool> {
        let admitted: bool = sqlx::query_scalar(CLAIM)
            .bind(&lease.user_id)
            .bind(lease.id.to_string())
            .bind(lease.instance.to_string())
            .bind(i64::try_from(max).unwrap_or(i64::MAX))
            .bind(STREAM_LEASE.as_secs_f64())
            .fetch_one(&self.pool)
            .await?;
        Ok(admitted)
    }

    pub(super) async fn release_stream_places(&self, leases: &[StreamLease]) -> StoreResult<()> {
        if leases.is_empty() {
            return Ok(());
        }
        let (users, ids) = columns(leases);
        sqlx::query(RELEASE).bind(users).bind(ids).execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn renew_stream_places(&self, leases: &[StreamLease]) -> StoreResult<()> {
        let Some(first) = leases.first() else {
            return Ok(());
        };
        let (users, ids) = columns(leases);
        sqlx::query(RENEW)
            .bind(users)
            .bind(ids)
            .bind(first.instance.to_string())
            .bind(STREAM_LEASE.as_secs_f64())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
