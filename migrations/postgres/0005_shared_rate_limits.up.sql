-- Brute-force limits shared by every instance (SPEC §12): one row per counted event (a failed
-- login, a signup), read back for its window and purged by the upkeep task. UNLOGGED: no WAL for
-- a counter; a server crash forgets the last minute's failures, which only resets the limits.
CREATE UNLOGGED TABLE rate_limit_events (
    scope SMALLINT    NOT NULL CHECK (scope IN (0, 1)), -- 0 failed login, 1 signup
    key   TEXT        NOT NULL,
    at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rate_limit_events_key_idx ON rate_limit_events (scope, key, at DESC);
CREATE INDEX rate_limit_events_at_idx ON rate_limit_events (at);
