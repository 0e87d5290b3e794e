-- The change order as it landed (migrations 0001-0003): the owner's counter row is bumped in the
-- write's own statement and stays locked to commit.
WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = :uid RETURNING change_seq AS next_seq)
UPDATE tasks SET completed = NOT completed, completed_at = CASE WHEN completed THEN NULL ELSE now() END, updated_at = now(),
       change_seq = seq.next_seq
  FROM seq
 WHERE id = :tid AND user_id = :uid AND (NULL::bigint[] IS NULL OR change_seq = ANY(NULL::bigint[]))
RETURNING id, user_id, title, description, completed, priority, due_date, category_id, completed_at, created_at, updated_at, change_seq;
