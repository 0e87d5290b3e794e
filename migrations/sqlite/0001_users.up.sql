-- Accounts. Ids are opaque text: a UUID for accounts created here, or an external issuer's `sub`.
-- Timestamps are INTEGER microseconds since the Unix epoch: exact, and sorted as numbers.
CREATE TABLE users (
    id              TEXT    PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 255),
    -- Stored lower-cased; NULL only for an external identity that brought no usable email.
    email           TEXT,
    -- NULL for external identities: they never log in with a password here.
    hashed_password TEXT,
    name            TEXT,
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    external        INTEGER NOT NULL DEFAULT 0 CHECK (external IN (0, 1)),
    -- Bumped by every password change; tokens that carry an older value are refused.
    token_version   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
