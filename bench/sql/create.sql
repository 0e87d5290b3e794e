-- POST /api/{uid}/tasks. The server binds a UUIDv7 it makes and one timestamp for completed_at,
-- created_at and updated_at; gen_random_uuid() and now() stand in for them here. The category check
-- rides in the same statement.
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at)
SELECT gen_random_uuid(), :uid, 'pgbench task', 'written by bench/pgbench.sh', false, 1, NULL, NULL::uuid,
       CASE WHEN false THEN now() END, now(), now()
 WHERE NULL::uuid IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = NULL::uuid AND user_id = :uid)
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at;
