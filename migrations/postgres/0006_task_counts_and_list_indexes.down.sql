-- pg_trgm stays: it may have been there before, and other objects may use it.
DROP INDEX IF EXISTS tasks_description_trgm_idx;
DROP INDEX IF EXISTS tasks_title_trgm_idx;
DROP FUNCTION task_search_priced(uuid);
DROP INDEX tasks_user_title_idx;
DROP INDEX tasks_user_priority_idx;
DROP INDEX tasks_user_due_desc_idx;
DROP INDEX tasks_user_updated_idx;
DROP TRIGGER tasks_count_update ON tasks;
DROP TRIGGER tasks_count_delete ON tasks;
DROP TRIGGER tasks_count_insert ON tasks;
DROP FUNCTION task_counts_update();
DROP FUNCTION task_counts_delete();
DROP FUNCTION task_counts_insert();
DROP TABLE task_counts;
