-- The change order as it landed (migrations 0001-0003).
WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = :uid RETURNING change_seq AS next_seq)
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at, change_seq)
SELECT gen_random_uuid(), :uid, 'pgbench task', 'written by bench/pgbench.sh', false, 1, NULL, NULL::uuid, NULL, now(), now(), seq.next_seq
  FROM seq
 WHERE NULL::uuid IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = NULL::uuid AND user_id = :uid)
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at, change_seq;
