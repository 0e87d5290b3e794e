-- The due date's sort index (user_id, due_date IS NULL, due_date, id) also serves due_before and
-- due_after, which say `(due_date IS NULL) = 0` for it (see push_task_filters): the older index
-- on (user_id, due_date, id) only cost every insert one more B-tree page to write.
DROP INDEX tasks_user_due_idx;
