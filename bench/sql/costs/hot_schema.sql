-- The "hot" variant: change_seq, updated_at and completed keep their columns in tasks, but their
-- indexes move to a narrow side table, so that a toggle changes no indexed column of tasks (a HOT
-- update, no new entry in its 10 other indexes) and writes the side row's 4 index entries instead.
CREATE TABLE task_marks (
    task_id    UUID        PRIMARY KEY,
    user_id    TEXT        NOT NULL,
    change_seq BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    completed  BOOLEAN     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO task_marks SELECT id, user_id, change_seq, updated_at, completed, created_at FROM tasks;
CREATE INDEX task_marks_seq_idx ON task_marks (user_id, change_seq, task_id);
CREATE INDEX task_marks_updated_idx ON task_marks (user_id, updated_at, task_id);
CREATE INDEX task_marks_completed_idx ON task_marks (user_id, completed, created_at, task_id);
DROP INDEX tasks_user_seq_idx;
DROP INDEX tasks_user_updated_idx;
DROP INDEX tasks_user_completed_idx;
-- Room on each page for the new version of a row, which HOT needs.
ALTER TABLE tasks SET (fillfactor = 85);
VACUUM FULL tasks;
