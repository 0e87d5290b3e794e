CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_date, id);
