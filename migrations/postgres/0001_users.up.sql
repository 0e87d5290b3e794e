-- Accounts. Ids are opaque text: a UUID for accounts created here, or an external issuer's `sub`
-- (Better Auth uses 32 random alphanumerics), so they are not a UUID column.
CREATE TABLE users (
    id              TEXT        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    -- Stored lower-cased; NULL only for an external identity that brought no usable email.
    email           TEXT        CHECK (email = lower(email)),
    -- NULL for external identities: they never log in with a password here.
    hashed_password TEXT,
    name            TEXT,
    is_active       BOOLEAN     NOT NULL DEFAULT TRUE,
    -- Created from an external issuer's token rather than by signup.
    external        BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Bumped by every password change; tokens that carry an older value are refused.
    token_version   INTEGER     NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One account per email, ignoring case (emails are stored lower-cased; lower() keeps the rule
-- true even for rows written by hand).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
