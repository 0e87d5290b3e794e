-- 27ec1d4, the commit before the change order: the create was this one statement.
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at)
SELECT gen_random_uuid(), :uid, 'pgbench task', 'written by bench/pgbench.sh', false, 1, NULL, NULL::uuid, NULL, now(), now()
 WHERE NULL::uuid IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = NULL::uuid AND user_id = :uid)
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at;
