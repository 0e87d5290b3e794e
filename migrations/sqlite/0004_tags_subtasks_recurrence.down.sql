DROP TABLE task_tags;
ALTER TABLE tasks DROP COLUMN recurrence_tz;
ALTER TABLE tasks DROP COLUMN recurrence_basis;
ALTER TABLE tasks DROP COLUMN recurrence_rule;
DROP INDEX tasks_parent_idx;
ALTER TABLE tasks DROP COLUMN parent_id;
