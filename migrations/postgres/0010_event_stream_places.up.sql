-- Open event streams per user, shared by every instance (SPEC §9: at most SSE_MAX_PER_USER per
-- user). One row per user; `leases` maps each open stream's lease id to
-- {"i": <instance id>, "e": <expiry, seconds since the epoch>}. A claim is one upsert that drops
-- expired leases and adds its own only below the limit: claims for one user queue on the row's
-- lock and each sees the row as the one before left it, so the limit holds under any concurrency,
-- on any number of instances. An instance renews its leases every few seconds and gives them back
-- when a stream closes; those of an instance that died lapse. The database's clock decides
-- expiry. UNLOGGED, like rate_limits: a database crash forgets the leases, and the instances'
-- next renewal writes theirs again.
CREATE UNLOGGED TABLE event_streams (
    user_id TEXT  PRIMARY KEY,
    leases  JSONB NOT NULL
);
