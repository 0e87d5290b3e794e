-- Per-user task counts, kept by triggers so that every path that writes tasks (statements,
-- transactions, cascades of an account deletion, direct SQL) keeps them exact: a list whose only
-- filters are `completed` and `parent_id=null` reads its X-Total-Count here instead of counting
-- up to 10^5 rows. At most 4 rows per user; SQLite has one writer at a time.
CREATE TABLE task_counts (
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    completed INTEGER NOT NULL,
    top_level INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (user_id, completed, top_level)
);

INSERT INTO task_counts (user_id, completed, top_level, n)
SELECT user_id, completed, parent_id IS NULL, count(*) FROM tasks GROUP BY 1, 2, 3;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_counts (user_id, completed, top_level, n)
    VALUES (NEW.user_id, NEW.completed, NEW.parent_id IS NULL, 1)
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = n + 1;
END;

-- No upsert here: an account's deletion removes its counters by cascade, possibly before its tasks.
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE user_id = OLD.user_id AND completed = OLD.completed AND top_level = (OLD.parent_id IS NULL);
END;

CREATE TRIGGER tasks_count_update AFTER UPDATE OF completed, parent_id, user_id ON tasks
WHEN OLD.completed IS NOT NEW.completed
  OR (OLD.parent_id IS NULL) IS NOT (NEW.parent_id IS NULL)
  OR OLD.user_id IS NOT NEW.user_id
BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE user_id = OLD.user_id AND completed = OLD.completed AND top_level = (OLD.parent_id IS NULL);
    INSERT INTO task_counts (user_id, completed, top_level, n)
    VALUES (NEW.user_id, NEW.completed, NEW.parent_id IS NULL, 1)
    ON CONFLICT (user_id, completed, top_level) DO UPDATE SET n = n + 1;
END;

-- One index per sort, owner first, in the ORDER BY's order (created_at has tasks_user_created_idx);
-- each is also read backwards. SQLite indexes cannot say NULLS LAST, so the due date orders sort
-- by `due_date IS NULL` first (see Sort::sqlite_order_by), one index per direction.
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_due_asc_idx ON tasks (user_id, due_date IS NULL, due_date, id);
CREATE INDEX tasks_user_due_desc_idx ON tasks (user_id, due_date IS NULL, due_date DESC, id DESC);
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title_idx ON tasks (user_id, lower(title), id);
