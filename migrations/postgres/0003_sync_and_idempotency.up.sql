-- Every change to a user's tasks and categories takes the next number of the user's change
-- counter, in the write's own transaction (see src/store/postgres/sync.rs for why that orders
-- changes by commit). Objects carry the number of their last change: it is their ETag and their
-- place in sync.
ALTER TABLE users ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE categories ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tasks_user_seq_idx ON tasks (user_id, change_seq, id);
-- A user has few categories: sync reads them through categories_user_name_key.

-- Tombstones: what sync reports as deleted. kind 0 = category, 1 = task.
CREATE TABLE deletions (
    user_id    TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    change_seq BIGINT      NOT NULL,
    kind       SMALLINT    NOT NULL CHECK (kind IN (0, 1)),
    id         UUID        NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, change_seq, kind, id)
);
CREATE INDEX deletions_deleted_at_idx ON deletions (deleted_at);

-- Idempotency-Key: a claim while the first request runs, then its stored 2xx answer.
CREATE TABLE idempotency_keys (
    user_id     TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT        NOT NULL,
    fingerprint TEXT        NOT NULL,
    claim       UUID        NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    status      SMALLINT,
    location    TEXT,
    etag        TEXT,
    body        BYTEA,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
