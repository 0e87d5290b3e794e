-- GET /api/{uid}/tasks?limit=20: the page, the owner's latest change (the list's ETag) and the
-- total from the owner's counters in one statement, as the server sends it
-- (src/store/postgres/tasks.rs, list_tasks).
-- Variables (set by bench/pgbench.sh): :uid a user id, :tid one of that user's task ids.
SELECT id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at,
       updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz,
       array(SELECT name FROM task_tags WHERE task_tags.task_id = tasks.id) AS tags,
       (SELECT change_seq FROM users WHERE id = :uid) AS head,
       (SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM task_counts WHERE user_id = :uid) AS total
  FROM tasks
 WHERE user_id = :uid
 ORDER BY created_at DESC, id DESC
 LIMIT 20 OFFSET 0;
