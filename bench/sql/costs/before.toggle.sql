-- 27ec1d4, the commit before the change order: the toggle was this one statement.
UPDATE tasks SET completed = NOT completed, completed_at = CASE WHEN completed THEN NULL ELSE now() END, updated_at = now()
 WHERE id = :tid AND user_id = :uid
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at;
