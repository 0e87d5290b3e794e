-- GET /api/{uid}/tasks?limit=20: the page and the filtered total in one statement, as the server
-- sends it (src/store/postgres.rs, list_tasks).
-- Variables (set by bench/pgbench.sh): :uid a user id, :tid one of that user's task ids.
SELECT id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at,
       (SELECT count(*) FROM tasks WHERE user_id = :uid) AS total
  FROM tasks
 WHERE user_id = :uid
 ORDER BY created_at DESC, id DESC
 LIMIT 20 OFFSET 0;
