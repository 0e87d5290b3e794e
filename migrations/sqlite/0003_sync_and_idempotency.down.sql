DROP TABLE idempotency_keys;
DROP TABLE deletions;
DROP INDEX tasks_user_seq_idx;
ALTER TABLE categories DROP COLUMN change_seq;
ALTER TABLE tasks DROP COLUMN change_seq;
ALTER TABLE users DROP COLUMN change_seq;
