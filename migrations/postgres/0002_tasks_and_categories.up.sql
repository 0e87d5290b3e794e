-- Categories belong to one user and go with them.
CREATE TABLE categories (
    id         UUID        PRIMARY KEY,
    user_id    TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The name case-folded by the application: what uniqueness and sorting use.
    name_key   TEXT        NOT NULL,
    color      TEXT        NOT NULL CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- "Work" and "work" are one category for one user; the index also serves the list, sorted by name.
CREATE UNIQUE INDEX categories_user_name_key ON categories (user_id, name_key);

CREATE TABLE tasks (
    id           UUID        PRIMARY KEY,
    user_id      TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    description  TEXT        CHECK (length(description) <= 2000),
    completed    BOOLEAN     NOT NULL DEFAULT FALSE,
    -- 0 low, 1 medium, 2 high: sorting by priority is sorting by this column.
    priority     SMALLINT    NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2),
    due_date     TIMESTAMPTZ,
    -- A deleted category leaves its tasks uncategorised.
    category_id  UUID        REFERENCES categories (id) ON DELETE SET NULL,
    completed_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Every list query starts with the owner; the default order is newest first.
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_completed_idx ON tasks (user_id, completed, created_at, id);
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_date, id);
-- Lets a category's deletion find its tasks without a scan.
CREATE INDEX tasks_category_idx ON tasks (category_id) WHERE category_id IS NOT NULL;
