-- PATCH /api/{uid}/tasks/{id}/complete: one atomic statement that takes the owner's next change
-- number and flips the task (src/store/postgres/tasks.rs); no If-Match here.
WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = :uid RETURNING change_seq AS next_seq)
UPDATE tasks
   SET completed = NOT completed,
       completed_at = CASE WHEN completed THEN NULL ELSE now() END,
       updated_at = now(),
       change_seq = seq.next_seq
  FROM seq
 WHERE id = :tid AND user_id = :uid AND (NULL::bigint[] IS NULL OR change_seq = ANY(NULL::bigint[]))
   AND recurrence_rule IS NULL
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at,
          updated_at, change_seq, parent_id, recurrence_rule, recurrence_basis, recurrence_tz;
