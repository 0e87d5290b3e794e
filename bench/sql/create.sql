-- POST /api/{uid}/tasks: one statement that takes the owner's next change number and inserts
-- (src/store/postgres/tasks.rs). The server binds a UUIDv7 it makes and one timestamp for
-- completed_at, created_at and updated_at; gen_random_uuid() and now() stand in for them here.
-- The category check rides in the same statement.
WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = :uid RETURNING change_seq AS next_seq)
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, category_id, completed_at,
                   created_at, updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz)
SELECT gen_random_uuid(), :uid, 'pgbench task', 'written by bench/pgbench.sh', false, 1, NULL, NULL::uuid,
       CASE WHEN false THEN now() END, now(), now(), seq.next_seq, NULL, NULL, NULL, NULL
  FROM seq
 WHERE NULL::uuid IS NULL OR EXISTS (SELECT 1 FROM categories WHERE id = NULL::uuid AND user_id = :uid)
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at,
          updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz;
