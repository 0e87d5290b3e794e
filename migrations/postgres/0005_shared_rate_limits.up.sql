-- Brute-force limits shared by every instance (SPEC §12): per limited key, the times of its
-- counted attempts in the window. One row per key, so concurrent attempts queue on its row lock
-- and each sees the ones before it: N instances together let through what one does. UNLOGGED: no
-- WAL for a counter; a server crash forgets the last minute's attempts, which only resets limits.
CREATE UNLOGGED TABLE rate_limits (
    scope  SMALLINT      NOT NULL CHECK (scope IN (0, 1)), -- 0 failed logins, 1 signups
    key    TEXT          NOT NULL,
    events TIMESTAMPTZ[] NOT NULL,
    -- Whether the last attempt was let through (and counted).
    admitted BOOLEAN     NOT NULL,
    PRIMARY KEY (scope, key)
);
