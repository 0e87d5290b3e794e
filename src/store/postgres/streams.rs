//! Event stream places shared by every instance (SPEC §9, migration 0010): one row per user,
//! `leases` mapping each open stream's lease to its instance and expiry. Each statement that
//! writes several users' rows locks them in key order, so two instances' renewals never deadlock.

use super::PgStore;
use crate::store::{StoreResult, StreamLease, STREAM_LEASE};

/// A lease `l` (a row of `jsonb_each(s.leases)`) that has not lapsed.
macro_rules! live {
    () => {
        "(l.value->>'e')::float8 > extract(epoch FROM now())"
    };
}

/// `s`'s leases that have not lapsed and pass `$and`, as one JSONB object.
macro_rules! kept_leases {
    ($and:expr) => {
        concat!(
            "(SELECT coalesce(jsonb_object_agg(l.key, l.value), '{}') FROM jsonb_each(s.leases) l WHERE ",
            live!(),
            $and,
            ")"
        )
    };
}

/// A new lease of instance `$i` held for `$secs` seconds.
macro_rules! new_lease {
    ($i:literal, $secs:literal) => {
        concat!(
            "jsonb_build_object('i', ",
            $i,
            "::text, 'e', extract(epoch FROM now()) + ",
            $secs,
            ")"
        )
    };
}

/// `$1` user, `$2` lease, `$3` instance, `$4` places, `$5` seconds held. Drops the row's lapsed
/// leases and adds this one only below the limit; yields whether it was added.
const CLAIM: &str = concat!(
    "INSERT INTO event_streams AS s (user_id, leases) VALUES ($1, jsonb_build_object($2::text, ",
    new_lease!("$3", "$5"),
    ")) ON CONFLICT (user_id) DO UPDATE SET leases = CASE \
       WHEN (SELECT count(*) FROM jsonb_each(s.leases) l WHERE ",
    live!(),
    ") < $4 THEN ",
    kept_leases!(""),
    " || excluded.leases ELSE s.leases END \
     RETURNING leases ? $2::text"
);

/// `$1` users, `$2` their leases (side by side): takes those leases out.
const RELEASE: &str = "WITH gone AS (SELECT u, array_agg(l) AS ids FROM unnest($1::text[], $2::text[]) AS g(u, l) GROUP BY u), \
     locked AS (SELECT s.user_id FROM event_streams s JOIN gone ON gone.u = s.user_id ORDER BY s.user_id FOR UPDATE OF s) \
     UPDATE event_streams s SET leases = s.leases - gone.ids FROM gone, locked \
     WHERE s.user_id = gone.u AND locked.user_id = s.user_id";

/// `$1` an instance: every lease it holds goes (lapsed ones too).
const RELEASE_INSTANCE: &str = concat!(
    "WITH held AS (SELECT s.user_id FROM event_streams s \
       WHERE EXISTS (SELECT 1 FROM jsonb_each(s.leases) l WHERE l.value->>'i' = $1::text) \
       ORDER BY s.user_id FOR UPDATE OF s) \
     UPDATE event_streams s SET leases = ",
    kept_leases!(" AND l.value->>'i' <> $1::text"),
    " FROM held WHERE s.user_id = held.user_id"
);

/// `$1` users, `$2` their leases (side by side), `$3` the instance, `$4` seconds held: for each
/// user, the instance's leases become exactly these, held anew; other instances' live ones stay.
const RENEW: &str = concat!(
    "INSERT INTO event_streams AS s (user_id, leases) SELECT u, jsonb_object_agg(l, ",
    new_lease!("$3", "$4"),
    ") FROM unnest($1::text[], $2::text[]) AS m(u, l) GROUP BY u ORDER BY u \
     ON CONFLICT (user_id) DO UPDATE SET leases = ",
    kept_leases!(" AND l.value->>'i' <> $3::text"),
    " || excluded.leases"
);

/// Users whose every lease has lapsed.
pub(super) const PURGE: &str = concat!(
    "DELETE FROM event_streams s WHERE NOT EXISTS (SELECT 1 FROM jsonb_each(s.leases) l WHERE ",
    live!(),
    ")"
);

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

    pub(super) async fn release_instance_places(&self, instance: uuid::Uuid) -> StoreResult<()> {
        sqlx::query(RELEASE_INSTANCE)
            .bind(instance.to_string())
            .execute(&self.pool)
            .await?;
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
