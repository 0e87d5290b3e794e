-- GET /api/{uid}/tasks/{id}
SELECT id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at
  FROM tasks
 WHERE id = :tid AND user_id = :uid;
