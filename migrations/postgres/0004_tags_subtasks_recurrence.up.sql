-- Subtasks: one level, checked by the application under the owner's change lock (the parent
-- exists, is the owner's and is not a subtask). Deleting a task deletes its subtasks in the same
-- transaction, with a tombstone each, so no foreign key action runs behind sync's back.
ALTER TABLE tasks ADD COLUMN parent_id UUID;
CREATE INDEX tasks_parent_idx ON tasks (parent_id) WHERE parent_id IS NOT NULL;

-- Recurring tasks: an RFC 5545 rule (normalised, COUNT = occurrences left), 0 due / 1 completion,
-- and the IANA time zone whose wall-clock time occurrences keep.
ALTER TABLE tasks ADD COLUMN recurrence_rule TEXT;
ALTER TABLE tasks ADD COLUMN recurrence_basis SMALLINT;
ALTER TABLE tasks ADD COLUMN recurrence_tz TEXT;

-- Tags: a tag is its case-folded key per user; every task carrying it has the one spelling the
-- first use gave it. In use = on at least one task, so there is no table of tags of its own.
CREATE TABLE task_tags (
    task_id UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (task_id, tag_key)
);
-- The tag filter, the tag list with counts, renames and deletions all start from the owner.
CREATE INDEX task_tags_user_key_idx ON task_tags (user_id, tag_key, task_id);
