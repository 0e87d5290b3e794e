-- Ids are UUIDs in their hyphenated text form.
CREATE TABLE categories (
    id         TEXT    PRIMARY KEY NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The name case-folded by the application (SQLite's own lower() knows only ASCII).
    name_key   TEXT    NOT NULL,
    color      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- "Work" and "work" are one category for one user; the index also serves the list, sorted by name.
CREATE UNIQUE INDEX categories_user_name_key ON categories (user_id, name_key);

CREATE TABLE tasks (
    id           TEXT    PRIMARY KEY NOT NULL,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    description  TEXT,
    completed    INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    -- 0 low, 1 medium, 2 high.
    priority     INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2),
    due_date     INTEGER,
    category_id  TEXT    REFERENCES categories (id) ON DELETE SET NULL,
    completed_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_completed_idx ON tasks (user_id, completed, created_at, id);
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_date, id);
CREATE INDEX tasks_category_idx ON tasks (category_id) WHERE category_id IS NOT NULL;
