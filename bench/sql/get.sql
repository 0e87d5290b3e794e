-- GET /api/{uid}/tasks/{id} (src/store/postgres/tasks.rs, task): the row and its tags.
SELECT id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at,
       updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz,
       array(SELECT name FROM task_tags WHERE task_tags.task_id = tasks.id) AS tags
  FROM tasks
 WHERE id = :tid AND user_id = :uid;
